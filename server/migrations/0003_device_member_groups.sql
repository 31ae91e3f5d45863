-- Trellis relay, schema version 3.
-- devices.member_group: which partner a device belongs to, as far as the relay can tell
-- without reading the log (docs/PROTOCOL.md §7.8): a space's first device and every
-- device that redeemed a *member* invite start a group (their own device id); a device
-- that redeemed a *device* invite joins the group of the invite's creator. It lets the
-- relay enforce "a device is revoked only by a device of the same partner" and "leaving
-- removes all of the leaver's devices".

ALTER TABLE devices ADD COLUMN member_group BLOB;

UPDATE devices SET member_group = device_id;

-- Databases from before this version: one level of device invites is regrouped (a
-- device invite created by a device that itself came from a device invite keeps its
-- creator's own group, which is right whenever that creator's group was right).
UPDATE devices SET member_group = (
    SELECT creator.member_group FROM invites
    JOIN devices AS creator
        ON creator.space_id = invites.space_id AND creator.device_id = invites.created_by
    WHERE invites.redeemed_by = devices.device_id
        AND invites.space_id = devices.space_id
        AND invites.kind = 'device'
)
WHERE EXISTS (
    SELECT 1 FROM invites
    WHERE invites.redeemed_by = devices.device_id
        AND invites.space_id = devices.space_id
        AND invites.kind = 'device'
);
