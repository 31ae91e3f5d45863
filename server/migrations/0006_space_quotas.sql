-- Trellis relay, schema version 6.
-- Quotas an operator set for single spaces (trellis-relay quota, server/admin.py); a
-- space without a row here has the relay's max_space_events / max_space_bytes.
-- Deleted with its space (the leave and delete-space paths delete it explicitly too).

CREATE TABLE space_quotas (
    space       INTEGER PRIMARY KEY REFERENCES spaces (id) ON DELETE CASCADE,
    max_events  INTEGER NOT NULL CHECK (max_events >= 0),
    max_bytes   INTEGER NOT NULL CHECK (max_bytes >= 0)
);
