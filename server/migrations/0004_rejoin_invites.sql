-- Trellis relay, schema version 4.
-- invites.for_device: for a *rejoin* invite (docs/PROTOCOL.md §7.10), a device of the
-- partner who lost every device; the device that redeems the invite joins that device's
-- member group instead of starting one, so it may revoke the lost devices.

ALTER TABLE invites ADD COLUMN for_device BLOB;
