"""What the operator does to single spaces, on the SQLite store (docs/OPERATIONS.md §12).

``list_spaces``, ``set_quota`` and ``delete_space`` run on one aiosqlite connection:
the running relay's write connection (in the writer task, through the operator
listener, server/operator.py), or a connection of their own when the relay is stopped
(``trellis-relay delete-space`` then opens the file itself). Either way the writer's
view of the space is rebuilt afterwards, so a deleted space is unknown at once and a
new quota holds from the next push.

**Deletion deletes.** The store runs with ``PRAGMA secure_delete=ON``, so SQLite
overwrites a deleted row's bytes (and every page it frees) with zeros instead of
leaving them in the file. A deleted row's old pages still sit in the write-ahead log
until a checkpoint copies the log into the file; ``erase_wal`` checkpoints and
truncates the log to zero bytes right after the delete commits, retrying while a
reader still holds an older snapshot. tests/relay_ops/test_admin_and_deletion.py
searches every file beside the database for a deleted space's ciphertext.

The relay knows ids and numbers only, so that is all a listing shows: space id, bytes,
events, devices (active / all), creation time and the time of the last stored entry.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiosqlite

from schemas.ids import SpaceId
from server._log import logger, short
from server.ingest import Quota

CHECKPOINT_ATTEMPTS = 100
CHECKPOINT_PAUSE_S = 0.05
_DELETE_ORDER = (
    ("space_quotas", "space"),
    ("events", "space"),
    ("invites", "space"),
    ("devices", "space"),
    ("spaces", "id"),
)
"""Tables and the column naming the space's integer key (schema version 5 and later)."""


@dataclass(frozen=True, slots=True)
class SpaceSummary:
    space_id: str
    """Hex."""
    bytes: int
    events: int
    devices: int
    active_devices: int
    created_at_ms: int
    last_entry_at_ms: int
    max_events: int | None
    """The space's own quota, if the operator set one; else the relay's default applies."""
    max_bytes: int | None


async def erase_wal(db: aiosqlite.Connection) -> bool:
    """Copy the WAL into the file and truncate it to zero bytes; True when it did."""
    for _ in range(CHECKPOINT_ATTEMPTS):
        async with db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
            row = await cursor.fetchone()
        if row is not None and row[0] == 0:
            return True
        await asyncio.sleep(CHECKPOINT_PAUSE_S)  # a reader holds an older snapshot
    logger.warning("could not empty the write-ahead log yet; it empties at the next checkpoint")
    return False


async def list_spaces(db: aiosqlite.Connection) -> list[SpaceSummary]:
    async with db.execute(
        "SELECT s.space_id, s.bytes, s.head, s.created_at, "
        "(SELECT COUNT(*) FROM devices d WHERE d.space = s.id), "
        "(SELECT COUNT(*) FROM devices d WHERE d.space = s.id AND d.status = 'active'), "
        "(SELECT e.received_at FROM events e WHERE e.space = s.id AND e.seq = s.head), "
        "q.max_events, q.max_bytes "
        "FROM spaces s LEFT JOIN space_quotas q ON q.space = s.id "
        "ORDER BY s.created_at, s.space_id"
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        SpaceSummary(
            space_id=bytes(r[0]).hex(),
            bytes=int(r[1]),
            events=int(r[2]),
            devices=int(r[4]),
            active_devices=int(r[5]),
            created_at_ms=int(r[3]),
            last_entry_at_ms=int(r[6] if r[6] is not None else r[3]),
            max_events=None if r[7] is None else int(r[7]),
            max_bytes=None if r[8] is None else int(r[8]),
        )
        for r in rows
    ]


async def totals(db: aiosqlite.Connection) -> tuple[int, int, dict[SpaceId, Quota]]:
    """(bytes of all spaces, number of spaces, quotas set for single spaces)."""
    async with db.execute("SELECT COALESCE(SUM(bytes), 0), COUNT(*) FROM spaces") as cursor:
        row = await cursor.fetchone()
    total, count = (0, 0) if row is None else (int(row[0]), int(row[1]))
    async with db.execute(
        "SELECT s.space_id, q.max_events, q.max_bytes "
        "FROM space_quotas q JOIN spaces s ON s.id = q.space"
    ) as cursor:
        quotas = {SpaceId(bytes(s)): Quota(int(e), int(b)) for s, e, b in await cursor.fetchall()}
    return total, count, quotas


async def set_quota(db: aiosqlite.Connection, space_id: SpaceId, quota: Quota | None) -> bool:
    """Give one space its own quota (None: back to the relay's default). False if the
    relay has no such space."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        async with db.execute("SELECT id FROM spaces WHERE space_id = ?", (space_id,)) as cur:
            row = await cur.fetchone()
        exists = row is not None
        if row is not None and quota is None:
            await db.execute("DELETE FROM space_quotas WHERE space = ?", (row[0],))
        elif row is not None and quota is not None:
            await db.execute(
                "INSERT INTO space_quotas (space, max_events, max_bytes) VALUES (?, ?, ?) "
                "ON CONFLICT (space) DO UPDATE SET max_events = excluded.max_events, "
                "max_bytes = excluded.max_bytes",
                (row[0], quota.max_events, quota.max_bytes),
            )
        await db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise
    if exists:
        logger.warning("operator set the quota of space %s", short(space_id))
    return exists


async def delete_space_rows(db: aiosqlite.Connection, space: int) -> None:
    """Delete every row of a space by its integer key; the caller holds a write
    transaction."""
    for table, column in _DELETE_ORDER:
        await db.execute(f"DELETE FROM {table} WHERE {column} = ?", (space,))  # noqa: S608


@dataclass(frozen=True, slots=True)
class Deleted:
    freed_bytes: int
    """Bytes of envelopes the space held."""
    devices: list[bytes]
    """Its devices, whose open connections the relay ends."""


async def delete_space(db: aiosqlite.Connection, space_id: SpaceId) -> Deleted | None:
    """Erase one space (an erasure request): its envelopes, invites, devices and quota,
    then the write-ahead log. None if the relay has no such space."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        async with db.execute(
            "SELECT id, bytes FROM spaces WHERE space_id = ?", (space_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            await db.execute("ROLLBACK")
            return None
        async with db.execute("SELECT device_id FROM devices WHERE space = ?", (row[0],)) as cur:
            devices = [bytes(r[0]) for r in await cur.fetchall()]
        await delete_space_rows(db, int(row[0]))
        await db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise
    await erase_wal(db)
    logger.warning("operator deleted space %s (erasure request)", short(space_id))
    return Deleted(int(row[1]), devices)
