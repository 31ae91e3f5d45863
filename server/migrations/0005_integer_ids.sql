-- Trellis relay, schema version 5: about 1.5 KiB per stored 1 KiB event instead of 2.2.
-- * Spaces and devices get small integer ids (spaces.id, devices.id); events and
--   invites refer to those instead of repeating 16- and 32-byte ids in every row and
--   in every index entry. The public ids stay in spaces.space_id and devices.device_id.
-- * Events no longer store their event id: it is the BLAKE2b-256 of the stored
--   envelope (docs/PROTOCOL.md §4), so the relay computes it when it needs it. A
--   duplicate push is found by its place in its author's chain, (author, author_seq).
-- * A device id is per space (devices.id names one device in one space), so
--   (author, author_seq) alone is unique.
-- * Events are a rowid table again (appended in rowid order, so SQLite fills each
--   page completely), found through the unique index on (space, seq).
-- The relay raises the page size to 64 KiB after this migration (sqlite_store.py): a
-- 4 KiB page holds two 1.4 KB envelopes and wastes the rest; a 64 KiB page holds 44
-- and wastes almost nothing. Measured on 50,000 such rows: 2,080 bytes a row at 4 KiB,
-- 1,519 at 16 KiB, 1,489 at 64 KiB.

CREATE TABLE spaces_v5 (
    id          INTEGER PRIMARY KEY,
    space_id    BLOB NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    head        INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE devices_v5 (
    id           INTEGER PRIMARY KEY,
    space        INTEGER NOT NULL REFERENCES spaces_v5 (id),
    device_id    BLOB NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    added_at     INTEGER NOT NULL,
    member_group BLOB,
    UNIQUE (space, device_id)
);

CREATE TABLE invites_v5 (
    invite_id    BLOB PRIMARY KEY,
    space        INTEGER NOT NULL REFERENCES spaces_v5 (id),
    verify_key   BLOB NOT NULL,
    wrapped_keys BLOB NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('member', 'device', 'rejoin')),
    expires_at   INTEGER NOT NULL,
    created_by   BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    redeemed_at  INTEGER,
    redeemed_by  BLOB,
    for_device   BLOB,
    CHECK ((kind = 'rejoin') = (for_device IS NOT NULL))
) WITHOUT ROWID;

CREATE TABLE events_v5 (
    space       INTEGER NOT NULL REFERENCES spaces_v5 (id),
    seq         INTEGER NOT NULL,
    author      INTEGER NOT NULL REFERENCES devices_v5 (id),
    author_seq  INTEGER NOT NULL,
    envelope    BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (space, seq),
    UNIQUE (author, author_seq)
);

INSERT INTO spaces_v5 (space_id, created_at, head, bytes)
SELECT space_id, created_at, head, bytes FROM spaces ORDER BY created_at, space_id;

INSERT INTO devices_v5 (space, device_id, status, added_at, member_group)
SELECT s.id, d.device_id, d.status, d.added_at, d.member_group
FROM devices d JOIN spaces_v5 s ON s.space_id = d.space_id
ORDER BY s.id, d.added_at, d.device_id;

INSERT INTO invites_v5 (
    invite_id, space, verify_key, wrapped_keys, kind, expires_at, created_by, created_at,
    redeemed_at, redeemed_by, for_device
)
SELECT i.invite_id, s.id, i.verify_key, i.wrapped_keys, i.kind, i.expires_at, i.created_by,
    i.created_at, i.redeemed_at, i.redeemed_by, i.for_device
FROM invites i JOIN spaces_v5 s ON s.space_id = i.space_id;

INSERT INTO events_v5 (space, seq, author, author_seq, envelope, received_at)
SELECT s.id, e.seq, d.id, e.author_seq, e.envelope, e.received_at
FROM events e
JOIN spaces_v5 s ON s.space_id = e.space_id
JOIN devices_v5 d ON d.space = s.id AND d.device_id = e.author
ORDER BY s.id, e.seq;

DROP TABLE events;
DROP TABLE invites;
DROP TABLE devices;
DROP TABLE spaces;

ALTER TABLE spaces_v5 RENAME TO spaces;
ALTER TABLE devices_v5 RENAME TO devices;
ALTER TABLE invites_v5 RENAME TO invites;
ALTER TABLE events_v5 RENAME TO events;

CREATE INDEX invites_by_space ON invites (space);
