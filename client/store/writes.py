"""One writer per SQLite connection: the lock its transactions take, and the write that
runs behind its caller (docs/PROTOCOL.md §9.4, §9.11).

A Space's connection is shared by the local store (client/store/localstore.py) and the
relay record (client/store/integrity_store.py); both take their transactions through
:func:`write_lock`. A new device catching up writes each page behind the admission of
the next (:func:`write_behind`); whatever is written next on the connection waits for
that write first, so the stored order is the order the writes were asked for.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiosqlite


class _Writes:
    """A connection's one writer: the lock its transactions take, and the write still
    running behind its caller (:meth:`LocalStore.record_admissions_behind`)."""

    __slots__ = ("behind", "lock")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.behind: asyncio.Future[None] | None = None

    async def settle(self) -> None:
        """Wait for the write running behind, if any; raise its failure (once).

        Shielded: a caller being cancelled (a watch stopped) never cancels the write."""
        behind = self.behind
        if behind is None:
            return
        try:
            await asyncio.shield(behind)
        finally:
            if self.behind is behind and behind.done():
                self.behind = None


_WRITERS: weakref.WeakKeyDictionary[aiosqlite.Connection, _Writes] = weakref.WeakKeyDictionary()


def _writes(db: aiosqlite.Connection) -> _Writes:
    writes = _WRITERS.get(db)
    if writes is None:
        writes = _WRITERS[db] = _Writes()
    return writes


@asynccontextmanager
async def write_lock(db: aiosqlite.Connection, *, settle: bool = True) -> AsyncIterator[None]:
    """The one lock of a connection's transactions. A Space is used by more than one
    task at once in the local app (a form being saved while the sync session stores
    the partner's events); they share one SQLite connection, where a second BEGIN
    inside the first fails and the first one's COMMIT would take the second's writes.
    Every transaction on the connection (here and client/store/integrity_store.py)
    holds this lock.

    Before taking it, the write running behind (if any) is waited for, so whatever a
    caller writes next lands after it, in the order it was asked for: events before
    the cursor that covers them, received events before this device's own that depend
    on them. Only that write itself passes ``settle=False``."""
    writes = _writes(db)
    if settle:
        await writes.settle()
    async with writes.lock:
        yield


def write_behind(
    db: aiosqlite.Connection, work: Callable[[], Awaitable[None]]
) -> asyncio.Future[None]:
    """Run ``work`` (transactions taken with ``settle=False``) behind the caller, after
    the write already running behind, if any: it fails with that one (what is written
    behind depends on what was written behind before it). Every later transaction on
    ``db`` waits for it first, and raises its failure."""
    writes = _writes(db)
    previous = writes.behind

    async def run() -> None:
        if previous is not None:
            await previous
        await work()

    writes.behind = future = asyncio.ensure_future(run())
    return future


async def settle_writes(db: aiosqlite.Connection) -> None:
    """Wait for the write running behind on ``db`` (for writes outside a transaction)."""
    await _writes(db).settle()


def failure_reason(exc: sqlite3.Error) -> str:
    """What stopped a write, in plain words, from SQLite's result code (never the
    exception's text: it may quote a statement, and a statement may hold a value)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_FULL"):
        return "the disk is full"
    if name.startswith("SQLITE_READONLY"):
        return "Trellis's folder on this device cannot be written to"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "another program (or another Trellis window) held the database"
    if name.startswith("SQLITE_IOERR"):
        return "the disk reported an error"
    if name in ("SQLITE_CONSTRAINT_FOREIGNKEY", "SQLITE_CONSTRAINT_UNIQUE"):
        # This device's next place in its chain was taken by another writer of the same
        # home (a second Trellis window or command) between sealing and storing.
        return "another Trellis window on this device saved something at the same moment"
    return "the database refused the write"
