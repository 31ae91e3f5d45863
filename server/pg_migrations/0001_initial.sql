-- Trellis relay on PostgreSQL, schema version 1 (the same data as SQLite version 5).
-- Ids are bytea; times are Unix milliseconds; envelopes are stored exactly as received.
-- spaces.epoch counts membership changes (a device joined, was revoked, left): a relay
-- process that decided pushes against an older epoch or head retries (docs/OPERATIONS.md,
-- "More than one machine").

CREATE TABLE spaces (
    id          BIGSERIAL PRIMARY KEY,
    space_id    BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    head        BIGINT NOT NULL DEFAULT 0,
    bytes       BIGINT NOT NULL DEFAULT 0,
    epoch       BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE devices (
    id           BIGSERIAL PRIMARY KEY,
    space        BIGINT NOT NULL REFERENCES spaces (id),
    device_id    BYTEA NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    added_at     BIGINT NOT NULL,
    member_group BYTEA,
    UNIQUE (space, device_id)
);

CREATE TABLE invites (
    invite_id    BYTEA PRIMARY KEY,
    space        BIGINT NOT NULL REFERENCES spaces (id),
    verify_key   BYTEA NOT NULL,
    wrapped_keys BYTEA NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('member', 'device', 'rejoin')),
    expires_at   BIGINT NOT NULL,
    created_by   BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    redeemed_at  BIGINT,
    redeemed_by  BYTEA,
    for_device   BYTEA,
    CHECK ((kind = 'rejoin') = (for_device IS NOT NULL))
);
CREATE INDEX invites_by_space ON invites (space);

CREATE TABLE events (
    space       BIGINT NOT NULL REFERENCES spaces (id),
    seq         BIGINT NOT NULL,
    author      BIGINT NOT NULL REFERENCES devices (id),
    author_seq  BIGINT NOT NULL,
    envelope    BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (space, seq),
    UNIQUE (author, author_seq)
);
ALTER TABLE events ALTER COLUMN envelope SET STORAGE EXTERNAL;

CREATE TABLE relay_meta (
    key     TEXT PRIMARY KEY,
    value   BIGINT NOT NULL
);
