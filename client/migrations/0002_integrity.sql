-- Tamper evidence (docs/PROTOCOL.md §9.6): what the relay has shown this device, what it
-- lost, what it replayed, and the findings that stand.

-- The relay's numbering as this device read it, since the relay last lost data: the
-- BLAKE2b-256 of the bytes served at each relay seq (an envelope's event id), or empty
-- for a seq the relay skipped. valid = 0 for bytes admission refused, an event also
-- served at another seq, or a skipped seq; settled = 1 once read a second time.
CREATE TABLE relay_view (
    relay_seq INTEGER PRIMARY KEY,
    digest    BLOB NOT NULL,
    valid     INTEGER NOT NULL,
    seen_at   INTEGER NOT NULL,
    settled   INTEGER NOT NULL DEFAULT 0
);

-- Events the relay held (acknowledged or served) before it lost data, not seen there
-- since. Emptied as the relay holds them again (a re-seed).
CREATE TABLE relay_lost (
    event_id BLOB PRIMARY KEY,
    since    INTEGER NOT NULL
);

-- Relay misbehaviour seen in passing, kept as proof.
CREATE TABLE relay_sightings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    events      BLOB NOT NULL,
    relay_seq   INTEGER,
    earlier_seq INTEGER,
    seen_at     INTEGER NOT NULL
);

-- Sign-in challenges this device answered, to notice one offered twice.
CREATE TABLE relay_challenges (
    nonce   BLOB PRIMARY KEY,
    seen_at INTEGER NOT NULL
);

-- The findings that stand now, recomputed as data arrives.
CREATE TABLE integrity_findings (
    position INTEGER PRIMARY KEY,
    code     TEXT NOT NULL,
    severity TEXT NOT NULL,
    message  TEXT NOT NULL,
    events   TEXT NOT NULL
);

-- Relay seqs read before this record began are not tracked.
INSERT INTO meta (key, value) SELECT 'relay_view_base', value FROM meta WHERE key = 'cursor';
