"""What a sync does when a write on this device fails (docs/PROTOCOL.md §9.13): the
failure of a write behind is noted as it happens, the session that depends on it ends,
and the person reads why in plain words. Taking memory back to the disk is
client/space/state.py ``back_to_disk``."""

from __future__ import annotations

import asyncio
import sqlite3

from client.errors import LocalWriteError
from client.space.state import SpaceState
from client.store.writes import failure_reason

SYNC_WRITE_FAILED = (
    "Could not save everything on this device: {reason}. Nothing was lost; it will be "
    "fetched again."
)
"""Said when a sync could not store what it received."""


class WriteFailed(Exception):
    """A write this session depends on failed, raised to another writer or still
    running behind: the session ends, its cursor being ahead of the disk."""

    def __init__(self, failure: sqlite3.Error | None) -> None:
        super().__init__("a write behind failed")
        self.failure = failure


def note_failure(state: SpaceState, written: asyncio.Future[None]) -> None:
    """Remember a write behind that failed, whoever it is raised to (the next writer
    may be a form of the app): the session ends and memory goes back to the disk."""
    if not written.cancelled() and written.exception() is not None:
        state.write_failure = written.exception()


def sync_write_failed(exc: sqlite3.Error | WriteFailed) -> LocalWriteError:
    """The error a sync raises once memory is back on the disk: the reason in plain
    words, from SQLite's result code (client/store/writes.py ``failure_reason``)."""
    failure = exc if isinstance(exc, sqlite3.Error) else exc.failure
    reason = "a write on this device failed" if failure is None else failure_reason(failure)
    return LocalWriteError(SYNC_WRITE_FAILED.format(reason=reason))
