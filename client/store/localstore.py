"""The device's SQLite file: a thin shell, no protocol rules (docs/PROTOCOL.md §9.4).

One file per device. WAL with ``synchronous=FULL``: an entry a person saved is on disk
before the app says so. Every change that must stay consistent (an event and its outbox
row, a batch of received events and the sync cursor) is one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

from client.errors import LocalDataError, LocalWriteError
from client.store.home_files import create_private, secure_home, tighten_files
from client.store.writes import settle_writes, write_behind, write_lock

DB_FILE_NAME = "trellis.db"
_MIGRATIONS = "migrations"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event_id: bytes
    envelope: bytes
    relay_seq: int | None


@dataclass(frozen=True, slots=True)
class NewEvent:
    event_id: bytes
    author: bytes
    author_seq: int
    envelope: bytes
    relay_seq: int | None


@dataclass(frozen=True, slots=True)
class HeldRow:
    """An envelope admission holds (the ``pending`` table)."""

    event_id: bytes
    envelope: bytes
    relay_seq: int | None
    waiting_for: str


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """An envelope admission refused for good (the ``rejected`` table)."""

    event_id: bytes | None
    envelope: bytes
    code: str
    reason: str
    relay_seq: int | None


@dataclass(frozen=True, slots=True)
class Admission:
    """What admitting one part of a page changes on disk, applied in this order: held
    envelopes, refused ones, accepted events (as the separate calls did)."""

    held: list[HeldRow]
    rejected: list[RejectedRow]
    events: list[NewEvent]


class LocalStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self.notices = []
        self.failed_admission = None

    failed_admission: BaseException | None
    """The failure of the last write of received events, until what is in memory went
    back to the disk (client/space/state.py ``back_to_disk``, docs/PROTOCOL.md §9.13):
    own events are refused meanwhile, and a sync session ends."""

    notices: list[str]
    """What had to be tightened in the home folder when it was opened (home_files.py)."""

    @classmethod
    async def open(cls, path: Path) -> LocalStore:
        notices = secure_home(path.parent)
        create_private(path)  # SQLite gives -wal and -shm the database file's mode
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute("PRAGMA foreign_keys=ON")
            await _migrate(db)
            tighten_files(path.parent)
        except BaseException:
            await db.close()
            raise
        store = cls(db)
        store.notices = notices
        return store

    async def close(self) -> None:
        # A write still running behind finishes first. If it failed, nothing that
        # depends on it was written either (every later write waits for it), and the
        # cursor never passed what it held: the next sync reads those events again.
        with contextlib.suppress(Exception):
            await self.settle()
        await self._db.close()

    async def settle(self) -> None:
        """Wait for the write running behind (:meth:`record_admissions_behind`), if
        any, and raise its failure."""
        await settle_writes(self._db)

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection, shared with the relay record (client/store/integrity_store.py)."""
        return self._db

    @asynccontextmanager
    async def _transaction(self, *, behind: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error), one at a time, after the
        write running behind (``behind``: this is that write)."""
        async with write_lock(self._db, settle=not behind):
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                # SQLite rolls back by itself on some failures (a full disk, an I/O
                # error): a second ROLLBACK would hide the failure behind its own.
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    # -- meta ---------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        async with self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return None if row is None else bytes(row[0])

    async def put(self, items: dict[str, bytes]) -> None:
        async with self._transaction():
            await self._db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                list(items.items()),
            )

    async def delete_meta(self, key: str) -> None:
        await self.settle()
        await self._db.execute("DELETE FROM meta WHERE key = ?", (key,))

    # -- events -------------------------------------------------------------------

    async def own_events_after(self, author: bytes, seq: int) -> list[bytes]:
        """Envelopes ``author`` stored above ``seq``, in chain order: what another
        process wrote from this home since this one loaded it (client/store/home_lock.py)."""
        async with self._db.execute(
            "SELECT envelope FROM events WHERE author = ? AND author_seq > ? ORDER BY author_seq",
            (author, seq),
        ) as cur:
            rows = await cur.fetchall()
        return [bytes(r[0]) for r in rows]

    async def load_events(self) -> list[StoredEvent]:
        async with self._db.execute(
            "SELECT event_id, envelope, relay_seq FROM events ORDER BY position"
        ) as cur:
            rows = await cur.fetchall()
        return [StoredEvent(bytes(r[0]), bytes(r[1]), r[2]) for r in rows]

    async def add_events(
        self,
        events: Iterable[NewEvent],
        *,
        outbox: bool = False,
        meta: dict[str, bytes] | None = None,
    ) -> None:
        """Store accepted events (and, for our own, queue them) in one transaction."""
        rows = [
            (e.event_id, e.author, e.author_seq, e.relay_seq, e.envelope, now_ms()) for e in events
        ]
        async with self._transaction():
            if self.failed_admission is not None:
                # Memory is ahead of the disk (docs/PROTOCOL.md §9.13): this event was
                # sealed against received events that never reached the disk, so stored
                # it would depend on what this device does not hold.
                raise LocalWriteError(
                    "This was not saved: a write on this device failed just before. "
                    "Nothing was lost; try again."
                )
            await self._db.executemany(_ADD_EVENT, rows)
            await self._db.executemany(
                "DELETE FROM pending WHERE event_id = ?", [(r[0],) for r in rows]
            )
            if outbox:
                await self._db.executemany(
                    "INSERT OR IGNORE INTO outbox (event_id, queued_at) VALUES (?, ?)",
                    [(r[0], r[5]) for r in rows],
                )
            if meta:
                await self._db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    list(meta.items()),
                )

    async def record_admissions(self, admissions: Iterable[Admission]) -> None:
        """A whole page's admission, part by part, in one transaction.

        Why one: with ``synchronous=FULL`` every commit waits for the disk (5 ms and more
        on a virtual machine), and a new device catching up used to commit each part of
        each page and each held or refused envelope on its own: over a thousand commits
        for 100,000 events, the device idle through each. Applied in order, exactly as
        :meth:`put_pending`, :meth:`add_rejected` and :meth:`add_events` would be."""
        await self._record(list(admissions), behind=False)

    def record_admissions_behind(
        self, admissions: list[Admission], then: Callable[[], None]
    ) -> asyncio.Future[None]:
        """:meth:`record_admissions` running behind the caller, then ``then()``.

        A device catching up admits the next page while this one is written (the disk
        wait is no longer idle time). Every later transaction on the connection, and
        :meth:`settle`, waits for it first, and raises its failure; a write started
        while another runs behind goes after it, and fails with it (later events never
        land without the earlier ones). ``then`` runs only once it is on disk. The
        write's future is returned, so the caller learns of a failure as it happens."""

        async def write() -> None:
            await self._record(admissions, behind=True)
            then()

        return write_behind(self._db, write)

    async def _record(self, admissions: list[Admission], *, behind: bool) -> None:
        steps = [a for a in admissions if a.held or a.rejected or a.events]
        if not steps:
            return
        try:
            async with self._transaction(behind=behind):
                for step in steps:
                    await self._write_admission(step)
        except Exception as exc:
            # Noted before any other writer gets the lock (no await between its release
            # and here): an own event sealed meanwhile may depend on what failed.
            self.failed_admission = exc
            raise

    async def _write_admission(self, step: Admission) -> None:
        at = now_ms()
        if step.held:
            await self._db.executemany(
                _PUT_PENDING,
                [(h.event_id, h.envelope, h.relay_seq, at, h.waiting_for) for h in step.held],
            )
        for r in step.rejected:
            if r.event_id is not None:
                await self._db.execute("DELETE FROM pending WHERE event_id = ?", (r.event_id,))
            await self._db.execute(
                _ADD_REJECTED, (r.event_id, r.envelope, r.code, r.reason, r.relay_seq, at)
            )
        if step.events:
            rows = [
                (e.event_id, e.author, e.author_seq, e.relay_seq, e.envelope, at)
                for e in step.events
            ]
            await self._db.executemany(_ADD_EVENT, rows)
            await self._db.executemany(
                "DELETE FROM pending WHERE event_id = ?", [(r[0],) for r in rows]
            )

    async def mark_acknowledged(self, acks: Iterable[tuple[bytes, int]]) -> None:
        pairs = list(acks)
        async with self._transaction():
            await self._db.executemany(
                "UPDATE events SET relay_seq = ? WHERE event_id = ?",
                [(seq, event_id) for event_id, seq in pairs],
            )
            await self._db.executemany(
                "DELETE FROM outbox WHERE event_id = ?", [(e,) for e, _ in pairs]
            )

    async def outbox(self) -> list[bytes]:
        """Unacknowledged envelopes of this device, oldest first (chain order)."""
        async with self._db.execute(
            "SELECT e.envelope FROM outbox o JOIN events e USING (event_id) ORDER BY e.author_seq"
        ) as cur:
            rows = await cur.fetchall()
        return [bytes(r[0]) for r in rows]

    async def outbox_size(self) -> int:
        return await self._count("outbox")

    async def outbox_ids(self) -> set[bytes]:
        """The ids of this device's events the relay has not acknowledged yet."""
        async with self._db.execute("SELECT event_id FROM outbox") as cur:
            rows = await cur.fetchall()
        return {bytes(r[0]) for r in rows}

    async def event_count(self) -> int:
        return await self._count("events")

    # -- pending and rejected -----------------------------------------------------

    async def put_pending(
        self, event_id: bytes, envelope: bytes, relay_seq: int | None, waiting_for: str
    ) -> None:
        await self.settle()
        await self._db.execute(_PUT_PENDING, (event_id, envelope, relay_seq, now_ms(), waiting_for))

    async def load_pending(self) -> list[StoredEvent]:
        async with self._db.execute(
            "SELECT event_id, envelope, relay_seq FROM pending ORDER BY received_at"
        ) as cur:
            rows = await cur.fetchall()
        return [StoredEvent(bytes(r[0]), bytes(r[1]), r[2]) for r in rows]

    async def pending_count(self) -> int:
        return await self._count("pending")

    async def add_rejected(
        self, event_id: bytes | None, envelope: bytes, code: str, reason: str, relay_seq: int | None
    ) -> None:
        await self.settle()
        if event_id is not None:
            await self._db.execute("DELETE FROM pending WHERE event_id = ?", (event_id,))
        await self._db.execute(
            _ADD_REJECTED, (event_id, envelope, code, reason, relay_seq, now_ms())
        )

    async def rejected(self) -> list[tuple[bytes | None, str, str]]:
        async with self._db.execute(
            "SELECT event_id, code, reason FROM rejected ORDER BY id"
        ) as cur:
            rows = await cur.fetchall()
        return [(None if r[0] is None else bytes(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def _count(self, table: str) -> int:
        # table is one of our own constant names, never user input.
        async with self._db.execute(f"SELECT count(*) FROM {table}") as cur:  # noqa: S608
            row = await cur.fetchone()
        return int(row[0]) if row else 0


_ADD_EVENT = (
    "INSERT OR IGNORE INTO events "
    "(event_id, author, author_seq, relay_seq, envelope, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_PUT_PENDING = (
    "INSERT INTO pending (event_id, envelope, relay_seq, received_at, waiting_for) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO UPDATE SET "
    "waiting_for = excluded.waiting_for"
)
_ADD_REJECTED = (
    "INSERT INTO rejected (event_id, envelope, code, reason, relay_seq, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


async def _migrate(db: aiosqlite.Connection) -> None:
    """Apply numbered SQL files once each, in order, tracked by ``PRAGMA user_version``."""
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    scripts = sorted(
        (
            p
            for p in resources.files("client").joinpath(_MIGRATIONS).iterdir()
            if p.name.endswith(".sql")
        ),
        key=lambda p: p.name,
    )
    if current > len(scripts):
        raise LocalDataError(
            "This device's data was written by a newer version of Trellis; update the app."
        )
    for number, script in enumerate(scripts, start=1):
        if number <= current:
            continue
        sql = script.read_text(encoding="utf-8")
        await db.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
