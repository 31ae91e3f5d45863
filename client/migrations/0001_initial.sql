-- Local log of one device (docs/PROTOCOL.md §9.4). Envelopes are stored as received:
-- ciphertext only. Plaintext exists in memory while the app is unlocked.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- Accepted events, in acceptance order (dependencies always come first).
CREATE TABLE events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    BLOB NOT NULL UNIQUE,
    author      BLOB NOT NULL,
    author_seq  INTEGER NOT NULL,
    relay_seq   INTEGER,
    envelope    BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (author, author_seq)
);

-- This device's events the relay has not acknowledged yet.
CREATE TABLE outbox (
    event_id  BLOB PRIMARY KEY REFERENCES events (event_id),
    queued_at INTEGER NOT NULL
);

-- Events that may become acceptable once something else arrives.
CREATE TABLE pending (
    event_id    BLOB PRIMARY KEY,
    envelope    BLOB NOT NULL,
    relay_seq   INTEGER,
    received_at INTEGER NOT NULL,
    waiting_for TEXT NOT NULL
);

-- Envelopes refused for good, with the reason, so the person can be told.
CREATE TABLE rejected (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    BLOB,
    envelope    BLOB NOT NULL,
    code        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    relay_seq   INTEGER,
    received_at INTEGER NOT NULL
);
