-- Trellis relay, schema version 1.
-- Ids are raw bytes (BLOB); times are Unix milliseconds; the relay stores envelopes
-- exactly as received (canonical bytes) and nothing it could read from a payload.

CREATE TABLE spaces (
    space_id    BLOB PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    head        INTEGER NOT NULL DEFAULT 0    -- highest relay seq stored in the space
) WITHOUT ROWID;

CREATE TABLE devices (
    space_id    BLOB NOT NULL REFERENCES spaces (space_id),
    device_id   BLOB NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (space_id, device_id)
) WITHOUT ROWID;

CREATE TABLE invites (
    invite_id    BLOB PRIMARY KEY,
    space_id     BLOB NOT NULL REFERENCES spaces (space_id),
    verify_key   BLOB NOT NULL,
    wrapped_keys BLOB NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('member', 'device')),
    expires_at   INTEGER NOT NULL,
    created_by   BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    redeemed_at  INTEGER,
    redeemed_by  BLOB
) WITHOUT ROWID;

-- Relay seq is dense per space (1, 2, 3...); each author's chain is dense too, which
-- the UNIQUE constraint below backs up at the storage level.
CREATE TABLE events (
    space_id    BLOB NOT NULL REFERENCES spaces (space_id),
    seq         INTEGER NOT NULL,
    event_id    BLOB NOT NULL UNIQUE,
    author      BLOB NOT NULL,
    author_seq  INTEGER NOT NULL,
    envelope    BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (space_id, seq),
    UNIQUE (space_id, author, author_seq)
);
