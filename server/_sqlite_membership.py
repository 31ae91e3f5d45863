"""The relay's membership decisions on SQLite, inside a transaction the caller holds
(split from sqlite_store.py): redeeming an invite, revoking a device, and the member
groups they are decided by (docs/PROTOCOL.md §5.3, §7.10, §7.11).

Each function takes the write connection with BEGIN IMMEDIATE already issued and only
reads and writes through it; the caller commits, or rolls back, as the outcome says.
"""

from __future__ import annotations

import aiosqlite

from schemas.ids import DeviceId, InviteId, SpaceId
from server.store import DeviceStatus, RedeemOutcome, RevokeOutcome


async def redeem_in_transaction(
    db: aiosqlite.Connection, invite_id: InviteId, device_id: DeviceId, now_ms: int
) -> tuple[RedeemOutcome, SpaceId | None]:
    async with db.execute(
        "SELECT s.space_id, i.redeemed_by, i.kind, i.created_by, i.for_device, s.id "
        "FROM invites i JOIN spaces s ON s.id = i.space WHERE i.invite_id = ?",
        (invite_id,),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return RedeemOutcome.NOT_FOUND, None
    space_id = SpaceId(bytes(row[0]))
    space = int(row[5])
    redeemed_by = None if row[1] is None else bytes(row[1])
    # A device invite keeps its creator's member group, a rejoin invite joins its
    # target's (§7.10); a member invite starts one.
    if row[2] == "rejoin" and row[4] is not None:
        group = await member_group(db, space, DeviceId(bytes(row[4])))
    else:
        group = await member_group(db, space, DeviceId(bytes(row[3])))
    if row[2] not in ("device", "rejoin") or group is None:
        group = device_id
    async with db.execute(
        "SELECT status FROM devices WHERE space = ? AND device_id = ?",
        (space, device_id),
    ) as cur:
        status_row = await cur.fetchone()
    if status_row is not None and status_row[0] == DeviceStatus.REVOKED:
        return RedeemOutcome.DEVICE_REVOKED, space_id
    starts_a_group = status_row is None and group == device_id and redeemed_by is None
    if starts_a_group and await partners(db, space) >= 2:
        # Two partners for the space's whole life (docs/PROTOCOL.md §7.11): a new
        # device that would start a third member group is refused, whatever the
        # client did. (A device already in the space keeps its group: no change.)
        return RedeemOutcome.SPACE_FULL, space_id
    # Single use, enforced by the database itself (docs/PROTOCOL.md §5.3): only one
    # UPDATE can ever match the unredeemed, unexpired row.
    cursor = await db.execute(
        "UPDATE invites SET redeemed_at = ?, redeemed_by = ? "
        "WHERE invite_id = ? AND redeemed_at IS NULL AND expires_at > ?",
        (now_ms, device_id, invite_id, now_ms),
    )
    if cursor.rowcount == 1:
        await db.execute(
            "INSERT INTO devices (space, device_id, status, added_at, member_group) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (space, device_id) DO NOTHING",
            (space, device_id, DeviceStatus.ACTIVE.value, now_ms, group),
        )
        return RedeemOutcome.REDEEMED, space_id
    if redeemed_by == device_id:
        return RedeemOutcome.ALREADY_REDEEMED_BY_DEVICE, space_id
    if redeemed_by is not None:
        return RedeemOutcome.USED, space_id
    return RedeemOutcome.EXPIRED, space_id


async def partners(db: aiosqlite.Connection, space: int) -> int:
    """Member groups the space ever had, left ones included."""
    async with db.execute(
        "SELECT COUNT(DISTINCT member_group) FROM devices WHERE space = ?", (space,)
    ) as cur:
        row = await cur.fetchone()
    return 0 if row is None else int(row[0])


async def member_group(db: aiosqlite.Connection, space: int, device_id: DeviceId) -> bytes | None:
    async with db.execute(
        "SELECT member_group FROM devices WHERE space = ? AND device_id = ?",
        (space, device_id),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None or row[0] is None else bytes(row[0])


async def active_group(
    db: aiosqlite.Connection, space_id: SpaceId, device_id: DeviceId
) -> bytes | None:
    """The member group of an active device, else None."""
    async with db.execute(
        "SELECT member_group FROM devices WHERE space = "
        "(SELECT id FROM spaces WHERE space_id = ?) AND device_id = ? "
        "AND status = ?",
        (space_id, device_id, DeviceStatus.ACTIVE.value),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None or row[0] is None else bytes(row[0])


async def revoke_in_transaction(
    db: aiosqlite.Connection, space_id: SpaceId, by: DeviceId, target: DeviceId
) -> RevokeOutcome:
    group = await active_group(db, space_id, by)
    if group is None:
        return RevokeOutcome.NOT_ACTIVE
    async with db.execute(
        "SELECT status, member_group, id FROM devices WHERE space = "
        "(SELECT id FROM spaces WHERE space_id = ?) "
        "AND device_id = ?",
        (space_id, target),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return RevokeOutcome.UNKNOWN_TARGET
    if row[1] is None or bytes(row[1]) != group:
        return RevokeOutcome.NOT_SAME_MEMBER
    if row[0] == DeviceStatus.REVOKED:
        return RevokeOutcome.ALREADY_REVOKED
    await db.execute(
        "UPDATE devices SET status = ? WHERE id = ?", (DeviceStatus.REVOKED.value, row[2])
    )
    return RevokeOutcome.REVOKED
