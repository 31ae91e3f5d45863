-- Trellis relay, schema version 2.
-- spaces.bytes: the envelope bytes each space stores, kept with its head so the writer
-- can enforce the per-space quota (max_space_bytes) without summing the events table.
-- relay_meta: small facts about this database; the readiness probe (GET /readyz)
-- proves the database is writable by committing a row here.

ALTER TABLE spaces ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;

UPDATE spaces SET bytes = (
    SELECT COALESCE(SUM(LENGTH(envelope)), 0) FROM events WHERE events.space_id = spaces.space_id
);

CREATE TABLE relay_meta (
    key     TEXT PRIMARY KEY,
    value   INTEGER NOT NULL
) WITHOUT ROWID;
