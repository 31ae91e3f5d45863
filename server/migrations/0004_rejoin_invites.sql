-- Trellis relay, schema version 4.
-- Rejoin invites (docs/PROTOCOL.md §7.10): kind 'rejoin', and invites.for_device, a
-- device of the partner who lost every device; the device that redeems the invite joins
-- that device's member group instead of starting one, so it may revoke the lost devices.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt.

CREATE TABLE invites_v4 (
    invite_id    BLOB PRIMARY KEY,
    space_id     BLOB NOT NULL REFERENCES spaces (space_id),
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

INSERT INTO invites_v4 (
    invite_id, space_id, verify_key, wrapped_keys, kind, expires_at, created_by,
    created_at, redeemed_at, redeemed_by
)
SELECT invite_id, space_id, verify_key, wrapped_keys, kind, expires_at, created_by,
    created_at, redeemed_at, redeemed_by
FROM invites;

DROP TABLE invites;

ALTER TABLE invites_v4 RENAME TO invites;
