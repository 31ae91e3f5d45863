"""The relay's membership decisions on PostgreSQL, inside a transaction the caller
holds (split from pg_store.py): each takes the space's row lock first (``lock_space``),
so relay processes sharing the database decide one change at a time per space
(docs/PROTOCOL.md §5.3, §7.10, §7.11)."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from schemas.ids import DeviceId, InviteId, SpaceId
from server.store import DeviceStatus, RedeemOutcome, RevokeOutcome

Conn: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"


async def lock_space(conn: Conn, space_id: SpaceId) -> int | None:
    """Lock a space's row for a membership change and bump its epoch."""
    value = await conn.fetchval(
        "UPDATE spaces SET epoch = epoch + 1 WHERE space_id = $1 RETURNING id", space_id
    )
    return None if value is None else int(value)


async def redeem_in_transaction(
    conn: Conn, invite_id: InviteId, device_id: DeviceId, now_ms: int
) -> tuple[RedeemOutcome, SpaceId | None]:
    row = await conn.fetchrow(
        "SELECT s.space_id, i.redeemed_by, i.kind, i.created_by, i.for_device, s.id "
        "FROM invites i JOIN spaces s ON s.id = i.space WHERE i.invite_id = $1",
        invite_id,
    )
    if row is None:
        return RedeemOutcome.NOT_FOUND, None
    space_id = SpaceId(bytes(row[0]))
    space = await lock_space(conn, space_id)
    if space is None:
        return RedeemOutcome.NOT_FOUND, None
    redeemed_by = None if row[1] is None else bytes(row[1])
    # A device invite keeps its creator's member group, a rejoin invite joins its
    # target's (§7.10); a member invite starts one.
    source = row[4] if row[2] == "rejoin" and row[4] is not None else row[3]
    group = await conn.fetchval(
        "SELECT member_group FROM devices WHERE space = $1 AND device_id = $2",
        space,
        source,
    )
    if row[2] not in ("device", "rejoin") or group is None:
        group = device_id
    status = await conn.fetchval(
        "SELECT status FROM devices WHERE space = $1 AND device_id = $2", space, device_id
    )
    if status == DeviceStatus.REVOKED:
        return RedeemOutcome.DEVICE_REVOKED, space_id
    if status is None and group == device_id and redeemed_by is None:
        partners = await conn.fetchval(
            "SELECT COUNT(DISTINCT member_group) FROM devices WHERE space = $1", space
        )
        if int(partners or 0) >= 2:
            # Two partners for the space's whole life (docs/PROTOCOL.md §7.11), under
            # the space's lock, so two relay processes cannot each admit a third.
            return RedeemOutcome.SPACE_FULL, space_id
    # Single use (docs/PROTOCOL.md §5.3): only one UPDATE matches the unredeemed row.
    result = await conn.execute(
        "UPDATE invites SET redeemed_at = $1, redeemed_by = $2 "
        "WHERE invite_id = $3 AND redeemed_at IS NULL AND expires_at > $1",
        now_ms,
        device_id,
        invite_id,
    )
    if str(result) == "UPDATE 1":
        await conn.execute(
            "INSERT INTO devices (space, device_id, status, added_at, member_group) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (space, device_id) DO NOTHING",
            space,
            device_id,
            DeviceStatus.ACTIVE.value,
            now_ms,
            bytes(group),
        )
        return RedeemOutcome.REDEEMED, space_id
    if redeemed_by == device_id:
        return RedeemOutcome.ALREADY_REDEEMED_BY_DEVICE, space_id
    if redeemed_by is not None:
        return RedeemOutcome.USED, space_id
    return RedeemOutcome.EXPIRED, space_id


async def revoke_in_transaction(
    conn: Conn, space_id: SpaceId, by: DeviceId, target: DeviceId
) -> RevokeOutcome:
    space = await lock_space(conn, space_id)
    if space is None:
        return RevokeOutcome.NOT_ACTIVE
    group = await active_group(conn, space, by)
    if group is None:
        return RevokeOutcome.NOT_ACTIVE
    row = await conn.fetchrow(
        "SELECT status, member_group, id FROM devices WHERE space = $1 AND device_id = $2",
        space,
        target,
    )
    if row is None:
        return RevokeOutcome.UNKNOWN_TARGET
    if row[1] is None or bytes(row[1]) != group:
        return RevokeOutcome.NOT_SAME_MEMBER
    if row[0] == DeviceStatus.REVOKED:
        return RevokeOutcome.ALREADY_REVOKED
    await conn.execute(
        "UPDATE devices SET status = $1 WHERE id = $2", DeviceStatus.REVOKED.value, row[2]
    )
    return RevokeOutcome.REVOKED


async def active_group(conn: Conn, space: int, device_id: DeviceId) -> bytes | None:
    """The member group of an active device, else None."""
    value = await conn.fetchval(
        "SELECT member_group FROM devices WHERE space = $1 AND device_id = $2 AND status = $3",
        space,
        device_id,
        DeviceStatus.ACTIVE.value,
    )
    return None if value is None else bytes(value)
