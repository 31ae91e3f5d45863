"""Storing what admitting a page changed, and what a sync does when a write on this
device fails (docs/PROTOCOL.md §9.11, §9.13): the session that depends on it ends (the
store notes the failure as it happens, ``LocalStore.failed_admission``), and the person
reads why in plain words. Taking memory back to the disk is client/space/state.py
``back_to_disk``."""

from __future__ import annotations

import sqlite3

from client.core.verify import VerifiedEvent
from client.errors import LocalWriteError
from client.space.state import SpaceState
from client.store.localstore import Admission
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


def sync_write_failed(exc: sqlite3.Error | WriteFailed) -> LocalWriteError:
    """The error a sync raises once memory is back on the disk: the reason in plain
    words, from SQLite's result code (client/store/writes.py ``failure_reason``)."""
    failure = exc if isinstance(exc, sqlite3.Error) else exc.failure
    reason = "a write on this device failed" if failure is None else failure_reason(failure)
    return LocalWriteError(SYNC_WRITE_FAILED.format(reason=reason))


async def store_page(
    state: SpaceState,
    admissions: list[Admission],
    accepted: list[VerifiedEvent],
    *,
    behind: bool,
    generation: int,
) -> None:
    """Write what admitting a page changed (behind the caller with ``behind``), then
    keep its accepted events in ``state.events``: once they are on disk."""

    def keep() -> None:
        for event in accepted:
            state.events[event.event_id] = event

    if behind:
        # One page behind at most: the one before (admitted earlier) is on disk first.
        await state.store.settle()
        if state.disk_generation != generation:
            # Memory went back to the disk while this page was admitted (an own write
            # failed meanwhile, §9.13): parts of it may depend on what the disk lacks.
            raise WriteFailed(None)
        state.store.record_admissions_behind(admissions, keep)
    else:
        await state.store.record_admissions(admissions)
        keep()
