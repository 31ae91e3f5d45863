"""The default Store: SQLite through aiosqlite (docs/OPERATIONS.md, "Storage").

One write connection, used only by the writer task, and a small pool of read-only
connections for pulls and look-ups. WAL lets readers see the last commit while the
writer works; ``synchronous=FULL`` makes a COMMIT durable before it returns, which is
what lets the relay acknowledge a push only after it (DESIGN.md, "Storage").
Measured on this machine class, several processes writing one file gave no gain, so
there is exactly one writer per database.

Transactions are explicit (``isolation_level=None`` turns off sqlite3's implicit
BEGIN): ``BEGIN IMMEDIATE`` takes the write lock up front, so a write transaction never
fails half-way on lock upgrade.

Before migrating a database that already holds data to a newer schema, the store copies
it beside itself (``<db>.v1-before-v2-<UTC time>.bak``, ops.backup_database), so an
upgrade can always be undone by restoring that file with the older relay.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import aiosqlite

from schemas.envelope import event_id_of
from schemas.ids import DeviceId, InviteId, SpaceId
from server._log import logger
from server._migrations import apply_migrations, rollback_quietly
from server._sqlite_membership import active_group, redeem_in_transaction, revoke_in_transaction
from server.admin import delete_space_rows, erase_wal
from server.ops import backup_database, migration_backup_path
from server.store import (
    ChainHead,
    DeviceStatus,
    EventPage,
    EventRow,
    InviteRecord,
    LeaveOutcome,
    Membership,
    NewEvent,
    Position,
    RedeemOutcome,
    RevokeOutcome,
    SpaceSnapshot,
    StoredPosition,
    full_envelope,
    full_size,
    stored_form,
)

_T = TypeVar("_T")
_FETCH_CHUNK_ROWS = 64
_BUSY_TIMEOUT_MS = 5000
PAGE_SIZE = 16384
"""Bytes per database page (schema version 7). Envelopes of 1 KiB events are ~1.4 KB and
a page holds whole rows only: a 4 KiB page holds two and wastes the rest (2,080 bytes a
stored event), 16 KiB pages hold eleven (1,521), 64 KiB pages 45 (1,494). But a commit
writes every page it touched, whole, and waits for the disk, so larger pages cost every
push latency: server/migrations/0007_page_size_16k.sql has the figures."""


_INSERT_EVENTS = (
    "INSERT INTO events (space, seq, author, author_seq, envelope, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_UPDATE_HEADS = "UPDATE spaces SET head = ?, bytes = bytes + ? WHERE space_id = ?"


async def run_on_thread(db: aiosqlite.Connection, job: Callable[..., _T], *args: object) -> _T:
    """Run ``job(conn, *args)`` on ``db``'s own thread, with its sqlite3 connection, as
    one queued call: several statements for the price of one hand-off.

    aiosqlite has no public call for this; ``_execute`` (queue a function for the
    connection's thread, await its result) is what its every public method uses, and
    requirements.lock pins the version. tests/server/test_store.py checks that a group
    commit is one such call."""
    connection = db._conn
    result: _T = await db._execute(job, connection, *args)  # type: ignore[no-untyped-call]
    return result


def _append_in_one_transaction(
    conn: sqlite3.Connection,
    values: list[tuple[int, int, int, int, bytes, int]],
    updates: list[tuple[int, int, bytes]],
) -> None:
    """BEGIN IMMEDIATE .. COMMIT on the connection's thread; ROLLBACK there on failure,
    so nothing of the group is written unless all of it is."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(_INSERT_EVENTS, values)
        conn.executemany(_UPDATE_HEADS, updates)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class SqliteStore:
    """Store over one SQLite file. See store.Store for the contract of each method."""

    def __init__(self, path: str, read_connections: int = 2) -> None:
        self._path = path
        self._read_count = read_connections
        self._db: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._space_keys: dict[SpaceId, int] = {}
        self._device_keys: dict[tuple[int, DeviceId], int] = {}

    # --- lifecycle -----------------------------------------------------------------

    async def open(self) -> None:
        try:
            await self._open()
        except BaseException:
            # A refused migration must not leave connection threads behind.
            await self.close()
            raise

    async def _open(self) -> None:
        db = await aiosqlite.connect(self._path, isolation_level=None)
        self._db = db
        # Takes effect on a new, empty database; an existing one is rebuilt below.
        await db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, not left in the file (server/admin.py).
        await db.execute("PRAGMA secure_delete=ON")
        await db.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        await apply_migrations(db, self._backup_before_upgrade)
        await self._fit_page_size(db)
        for _ in range(self._read_count):
            reader = await aiosqlite.connect(self._path, isolation_level=None)
            self._all_readers.append(reader)
            await reader.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            await reader.execute("PRAGMA query_only=ON")
            self._readers.put_nowait(reader)

    async def _backup_before_upgrade(self, current: int, newest: int) -> None:
        target = migration_backup_path(self._path, current, newest)
        await asyncio.to_thread(backup_database, self._path, str(target))
        logger.warning(
            "database backed up to %s before upgrading its schema from version %d to %d",
            target,
            current,
            newest,
        )

    async def _fit_page_size(self, db: aiosqlite.Connection) -> None:
        """Rebuild a database made with another page size (4 KiB before schema version
        5, 64 KiB in versions 5 and 6) once, with PAGE_SIZE.

        The page size of a WAL database cannot change, so the file leaves WAL for the
        VACUUM that rewrites it. It runs after the backup the migration took. The
        rebuild is only an optimisation: if it cannot run now (another process has the
        file open, a disk too full for the rewrite), the relay says so and serves with
        the pages it has, trying again at its next start; VACUUM is one transaction, so
        a failed one leaves the file as it was."""
        async with db.execute("PRAGMA page_size") as cursor:
            row = await cursor.fetchone()
        if row is None or int(row[0]) == PAGE_SIZE:
            return
        logger.warning("rebuilding the database with %d-byte pages (one time)", PAGE_SIZE)
        try:
            async with db.execute("PRAGMA journal_mode=DELETE") as cursor:
                mode = await cursor.fetchone()
            if mode is None or str(mode[0]).lower() != "delete":
                raise sqlite3.OperationalError("another process has the database open")
            await db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            await db.execute("VACUUM")
        except sqlite3.Error as exc:
            logger.warning(
                "could not rebuild the database with %d-byte pages now (%s); serving with "
                "%d-byte pages, and trying again at the next start (docs/OPERATIONS.md §15.4)",
                PAGE_SIZE,
                exc,
                int(row[0]),
            )
        finally:
            await db.execute("PRAGMA journal_mode=WAL")

    async def close(self) -> None:
        for reader in self._all_readers:
            await reader.close()
        self._all_readers.clear()
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def _writer_db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[aiosqlite.Connection]:
        db = await self._readers.get()
        try:
            yield db
        finally:
            self._readers.put_nowait(db)

    # --- reads ---------------------------------------------------------------------

    async def membership(self, space_id: SpaceId, device_id: DeviceId) -> Membership:
        async with (
            self._reader() as db,
            db.execute(
                "SELECT (SELECT 1 FROM spaces WHERE space_id = ?), "
                "(SELECT status FROM devices WHERE space = "
                "(SELECT id FROM spaces WHERE space_id = ?) AND device_id = ?)",
                (space_id, space_id, device_id),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        if row is None or row[0] is None:
            return Membership.NO_SPACE
        if row[1] is None:
            return Membership.UNKNOWN_DEVICE
        if row[1] == DeviceStatus.ACTIVE:
            return Membership.ACTIVE
        return Membership.REVOKED

    async def head(self, space_id: SpaceId) -> int | None:
        async with (
            self._reader() as db,
            db.execute("SELECT head FROM spaces WHERE space_id = ?", (space_id,)) as cursor,
        ):
            row = await cursor.fetchone()
        return None if row is None else int(row[0])

    async def events_after(
        self, space_id: SpaceId, after: int, limit: int, max_bytes: int
    ) -> EventPage:
        events: list[EventRow] = []
        total_bytes = 0
        more = False
        async with self._reader() as db:
            # One read transaction: the head is from the same snapshot as the rows.
            await db.execute("BEGIN")
            try:
                async with db.execute(
                    "SELECT id, head FROM spaces WHERE space_id = ?", (space_id,)
                ) as cursor:
                    row = await cursor.fetchone()
                space, head = (None, 0) if row is None else (int(row[0]), int(row[1]))
                # Envelopes are kept without their space id and author (store.py,
                # stored_form): a space has a handful of devices to put back.
                async with db.execute(
                    "SELECT id, device_id FROM devices WHERE space = ?", (space,)
                ) as cursor:
                    authors = {int(key): bytes(device) for key, device in await cursor.fetchall()}
                # limit + 1 rows tell whether more remain (etebase's stoken handler).
                async with db.execute(
                    "SELECT seq, author, envelope FROM events WHERE space = ? AND seq > ? "
                    "ORDER BY seq LIMIT ?",
                    (space, after, limit + 1),
                ) as cursor:
                    while not more:
                        chunk = await cursor.fetchmany(_FETCH_CHUNK_ROWS)
                        if not chunk:
                            break
                        for seq, author, stored in chunk:
                            size = full_size(stored)
                            if len(events) == limit or (events and total_bytes + size > max_bytes):
                                more = True
                                break
                            envelope = full_envelope(stored, space_id, authors[author])
                            events.append(EventRow(int(seq), envelope))
                            total_bytes += size
            finally:
                await rollback_quietly(db)
        return EventPage(events, more, head)

    async def get_invite(self, invite_id: InviteId) -> InviteRecord | None:
        async with (
            self._reader() as db,
            db.execute(
                "SELECT i.invite_id, s.space_id, i.verify_key, i.wrapped_keys, i.kind, "
                "i.expires_at, i.created_by, i.created_at, i.redeemed_at, i.redeemed_by, "
                "i.for_device FROM invites i JOIN spaces s ON s.id = i.space "
                "WHERE i.invite_id = ?",
                (invite_id,),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return None if row is None else InviteRecord.from_row(row)

    # --- writer task only ----------------------------------------------------------

    async def _space_key(self, db: aiosqlite.Connection, space_id: SpaceId) -> int | None:
        """The integer id of a space (writer task; cached until the space is deleted)."""
        key = self._space_keys.get(space_id)
        if key is not None:
            return key
        async with db.execute("SELECT id FROM spaces WHERE space_id = ?", (space_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        self._space_keys[space_id] = key = int(row[0])
        return key

    async def _device_key(self, db: aiosqlite.Connection, space: int, device_id: DeviceId) -> int:
        """The integer id of a device of a space (writer task; cached likewise)."""
        key = self._device_keys.get((space, device_id))
        if key is not None:
            return key
        async with db.execute(
            "SELECT id FROM devices WHERE space = ? AND device_id = ?", (space, device_id)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise LookupError("an event's author is not a device of its space")
        self._device_keys[(space, device_id)] = key = int(row[0])
        return key

    def _forget_keys(self) -> None:
        self._space_keys.clear()
        self._device_keys.clear()

    async def load_space(self, space_id: SpaceId) -> SpaceSnapshot | None:
        db = self._writer_db
        async with db.execute(
            "SELECT id, head, bytes FROM spaces WHERE space_id = ?", (space_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        space, head, stored_bytes = int(row[0]), int(row[1]), int(row[2])
        self._space_keys[space_id] = space
        async with db.execute(
            "SELECT id, device_id, status FROM devices WHERE space = ?", (space,)
        ) as cur:
            rows = await cur.fetchall()
        devices: dict[DeviceId, DeviceStatus] = {}
        keys: dict[DeviceId, int] = {}
        for key, device, status in rows:
            devices[DeviceId(bytes(device))] = DeviceStatus(status)
            keys[DeviceId(bytes(device))] = int(key)
            self._device_keys[(space, DeviceId(bytes(device)))] = int(key)
        chains: dict[DeviceId, ChainHead] = {}
        # Only devices can author (ingest.py), and a space has a handful of them: one
        # indexed look-up each beats a GROUP BY over every event of the space.
        for device_id, key in keys.items():
            async with db.execute(
                "SELECT author_seq, envelope FROM events WHERE author = ? "
                "ORDER BY author_seq DESC LIMIT 1",
                (key,),
            ) as cur:
                top = await cur.fetchone()
            if top is not None:
                envelope = full_envelope(bytes(top[1]), space_id, device_id)
                chains[device_id] = ChainHead(int(top[0]), event_id_of(envelope))
        return SpaceSnapshot(head, devices, chains, stored_bytes)

    async def find_positions(
        self, space_id: SpaceId, positions: Collection[Position]
    ) -> dict[Position, StoredPosition]:
        by_author: dict[DeviceId, list[int]] = {}
        for author, author_seq in positions:
            by_author.setdefault(author, []).append(author_seq)
        found: dict[Position, StoredPosition] = {}
        db = self._writer_db
        space = await self._space_key(db, space_id)
        if space is None:
            return found
        for author, seqs in by_author.items():
            # The event id is not stored: it is the hash of the envelope (schema v5).
            async with db.execute(
                "SELECT e.author_seq, e.envelope, e.seq FROM events e "
                "JOIN devices d ON d.id = e.author "
                "WHERE d.space = ? AND d.device_id = ? AND e.author_seq BETWEEN ? AND ?",
                (space, author, min(seqs), max(seqs)),
            ) as cur:
                for author_seq, stored, seq in await cur.fetchall():
                    envelope = full_envelope(bytes(stored), space_id, author)
                    found[(author, int(author_seq))] = StoredPosition(
                        event_id_of(envelope), int(seq)
                    )
        return found

    async def append_events(self, rows: Sequence[NewEvent], heads: Mapping[SpaceId, int]) -> None:
        """One transaction, handed to the connection's thread as ONE job.

        Every ``await db.execute`` is a round trip to aiosqlite's thread and back (a
        queue put, a thread wake-up, ``call_soon_threadsafe``, a loop wake-up): four of
        them for BEGIN, the insert, the heads' update and COMMIT. The acks and the live
        fan-out of the whole group wait for the last one, so each one costs every
        pushed event latency (README, "Performance"). The integer keys come from the writer's caches
        (a query only for a space or device not seen since start), then BEGIN to
        COMMIT runs in one go on the thread, rolling back there if anything fails."""
        db = self._writer_db
        added: defaultdict[SpaceId, int] = defaultdict(int)
        values: list[tuple[int, int, int, int, bytes, int]] = []
        try:
            for r in rows:
                added[r.space_id] += len(r.envelope)
                space = await self._space_key(db, r.space_id)
                if space is None:
                    raise LookupError("events for a space the relay does not hold")
                author = await self._device_key(db, space, r.author)
                kept = stored_form(r.envelope, r.space_id, r.author)
                values.append((space, r.seq, author, r.author_seq, kept, r.received_at_ms))
            updates = [(head, added[space_id], space_id) for space_id, head in heads.items()]
            await run_on_thread(db, _append_in_one_transaction, values, updates)
        except BaseException:
            self._forget_keys()
            raise

    async def create_space(self, genesis: NewEvent, created_at_ms: int) -> bool:
        db = self._writer_db
        await db.execute("BEGIN IMMEDIATE")
        try:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO spaces (space_id, created_at, head, bytes) "
                "VALUES (?, ?, ?, ?)",
                (genesis.space_id, created_at_ms, genesis.seq, len(genesis.envelope)),
            )
            if cursor.rowcount != 1:
                await db.execute("ROLLBACK")
                return False
            space = cursor.lastrowid
            cursor = await db.execute(
                "INSERT INTO devices (space, device_id, status, added_at, member_group) "
                "VALUES (?, ?, ?, ?, ?)",
                (space, genesis.author, DeviceStatus.ACTIVE.value, created_at_ms, genesis.author),
            )
            author = cursor.lastrowid
            await db.execute(
                "INSERT INTO events (space, seq, author, author_seq, envelope, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    space,
                    genesis.seq,
                    author,
                    genesis.author_seq,
                    stored_form(genesis.envelope, genesis.space_id, genesis.author),
                    genesis.received_at_ms,
                ),
            )
            await db.execute("COMMIT")
        except BaseException:
            self._forget_keys()
            await rollback_quietly(db)
            raise
        return True

    async def create_invite(self, invite: InviteRecord) -> bool:
        db = self._writer_db
        cursor = await db.execute(
            "INSERT OR IGNORE INTO invites (invite_id, space, verify_key, wrapped_keys, kind, "
            "expires_at, created_by, created_at, for_device) VALUES "
            "(?, (SELECT id FROM spaces WHERE space_id = ?), ?, ?, ?, ?, "
            "?, ?, ?)",
            (
                invite.invite_id,
                invite.space_id,
                invite.verify_key,
                invite.wrapped_keys,
                invite.kind,
                invite.expires_at_ms,
                invite.created_by,
                invite.created_at_ms,
                invite.for_device,
            ),
        )
        return cursor.rowcount == 1

    async def device_group(
        self, space_id: SpaceId, device_id: DeviceId
    ) -> tuple[DeviceStatus, bytes | None] | None:
        async with (
            self._reader() as db,
            db.execute(
                "SELECT status, member_group FROM devices WHERE space = "
                "(SELECT id FROM spaces WHERE space_id = ?) "
                "AND device_id = ?",
                (space_id, device_id),
            ) as cur,
        ):
            row = await cur.fetchone()
        if row is None:
            return None
        return DeviceStatus(row[0]), None if row[1] is None else bytes(row[1])

    async def redeem_invite(
        self, invite_id: InviteId, device_id: DeviceId, now_ms: int
    ) -> tuple[RedeemOutcome, SpaceId | None]:
        db = self._writer_db
        await db.execute("BEGIN IMMEDIATE")
        try:
            outcome, space_id = await redeem_in_transaction(db, invite_id, device_id, now_ms)
            await db.execute("COMMIT" if outcome is RedeemOutcome.REDEEMED else "ROLLBACK")
        except BaseException:
            await rollback_quietly(db)
            raise
        return outcome, space_id

    async def revoke_device(
        self, space_id: SpaceId, by: DeviceId, target: DeviceId
    ) -> RevokeOutcome:
        db = self._writer_db
        await db.execute("BEGIN IMMEDIATE")
        try:
            outcome = await revoke_in_transaction(db, space_id, by, target)
            await db.execute("COMMIT" if outcome is RevokeOutcome.REVOKED else "ROLLBACK")
        except BaseException:
            await rollback_quietly(db)
            raise
        return outcome

    async def leave(self, space_id: SpaceId, by: DeviceId) -> LeaveOutcome:
        db = self._writer_db
        await db.execute("BEGIN IMMEDIATE")
        try:
            group = await active_group(db, space_id, by)
            space = await self._space_key(db, space_id)
            if group is None or space is None:
                await db.execute("ROLLBACK")
                return LeaveOutcome([], space_deleted=False, active=False)
            async with db.execute(
                "SELECT device_id FROM devices WHERE space = ? AND member_group = ? AND status = ?",
                (space, group, DeviceStatus.ACTIVE.value),
            ) as cur:
                revoked = [DeviceId(bytes(r[0])) for r in await cur.fetchall()]
            await db.execute(
                "UPDATE devices SET status = ? WHERE space = ? AND member_group = ?",
                (DeviceStatus.REVOKED.value, space, group),
            )
            async with db.execute(
                "SELECT 1 FROM devices WHERE space = ? AND status = ? LIMIT 1",
                (space, DeviceStatus.ACTIVE.value),
            ) as cur:
                deleted = await cur.fetchone() is None
            if deleted:
                # Nobody remains who could read it: the relay keeps nothing of the space.
                await delete_space_rows(db, space)
            await db.execute("COMMIT")
        except BaseException:
            self._forget_keys()
            await rollback_quietly(db)
            raise
        if deleted:
            self._forget_keys()
            await erase_wal(db)  # its envelopes leave the write-ahead log too
        return LeaveOutcome(revoked, space_deleted=deleted)

    async def run_on_writer(self, op: Callable[[aiosqlite.Connection], Awaitable[_T]]) -> _T:
        """Run ``op`` on the write connection: the operator's tools (server/admin.py),
        in the writer task (Writer.run_exclusive) or with the relay stopped. The cached
        integer keys are dropped afterwards: ``op`` may have deleted a space."""
        try:
            return await op(self._writer_db)
        finally:
            self._forget_keys()

    async def check_writable(self, now_ms: int) -> None:
        db = self._writer_db
        await db.execute("BEGIN IMMEDIATE")
        try:
            await db.execute(
                "INSERT INTO relay_meta (key, value) VALUES ('ready_checked_at', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (now_ms,),
            )
            await db.execute("COMMIT")
        except BaseException:
            await rollback_quietly(db)
            raise
