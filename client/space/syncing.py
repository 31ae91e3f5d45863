"""Syncing: one session with the relay, the retry loop around it, and admitting what
the relay serves (docs/PROTOCOL.md §6, §9). Works on
:class:`client.space.state.SpaceState`; the session's rules are sans-I/O in
``client.core.session``."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Awaitable, Callable

from client.core import decisions
from client.core.session import (
    Acknowledged,
    CursorAdvanced,
    PushRefused,
    Received,
    RelayBehind,
    RelayRewound,
    SessionEvent,
    SyncSession,
    UpToDate,
)
from client.core.verify import VerifiedEvent
from client.errors import ClientErrorCode, RelayRefused, RelayUnreachable, TrellisError
from client.keys.signature_worker import SignatureWorker
from client.space.admitting import receive as _receive
from client.space.findings import refresh_integrity
from client.space.opening import complete_join
from client.space.ports import EventCallback
from client.space.reports import SyncReport
from client.space.state import META_LAST_SYNC, SpaceState, back_to_disk
from client.space.write_failures import WriteFailed, sync_write_failed
from client.space.writing import DEVICE_REMOVED
from client.store.localstore import now_ms
from client.store.transport import SyncConnection
from client.views.present import refusal_sentence
from schemas.protocol import MAX_PULL_LIMIT

PULL_LIMIT = MAX_PULL_LIMIT
"""Envelopes asked for per page (the relay may send fewer, to stay within its frame)."""

WORKER_PAGE = 500
"""A page of at least this many envelopes means a long catch-up: the session starts a
child process to check signatures (client/keys/signature_worker.py) and uses it from
the next page on (it takes a moment to start; this page is checked on threads)."""


def is_passing_failure(exc: TrellisError) -> bool:
    """A failure that may pass if we try again later (the relay restarting, no network)."""
    return decisions.is_passing_failure(exc.code, unreachable=isinstance(exc, RelayUnreachable))


async def sync(
    state: SpaceState,
    rotate_if_due: Callable[[], Awaitable[bool]],
    *,
    watch: bool,
    on_event: EventCallback | None,
    timeout_s: float | None,
    retry_for_s: float,
    connected: asyncio.Event | None = None,
) -> SyncReport:
    """:meth:`client.space.Space.sync`; ``rotate_if_due`` writes a key rotation that
    a partner leaving or a revocation left due (client/space/devices.py)."""
    await _refuse_if_removed(state)
    report = SyncReport()
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + retry_for_s
    delay: float | None = None
    while True:
        started = loop.time()
        try:
            if watch:
                await _sync_once(
                    state, report, on_event, until_up_to_date=False, connected=connected
                )
            else:
                async with asyncio.timeout(timeout_s):
                    await _sync_once(
                        state, report, on_event, until_up_to_date=True, connected=connected
                    )
                    # A partner left or a revocation lacks its rotation (devices.py).
                    if await rotate_if_due():
                        await _sync_once(state, report, on_event, until_up_to_date=True)
                return report
        except TrellisError as exc:
            if not is_passing_failure(exc) or (not watch and loop.time() >= give_up_at):
                raise
        delay = decisions.next_retry_delay(delay, loop.time() - started)
        await asyncio.sleep(delay)


async def _refuse_if_removed(state: SpaceState) -> None:
    """A device that left or was removed does not contact the relay again, once its
    outbox (its ``member_left``) is delivered: each sign-in would tell the relay, often
    the other partner's own, that the leaver was using the app, and when, and from
    where (THREAT_MODEL §16.2)."""
    membership, me = state.verifier.membership, state.device.device_id
    if membership.member_of(me) is None or membership.is_active(me):
        return
    if await state.store.outbox_size() == 0:
        raise TrellisError(DEVICE_REMOVED, code=ClientErrorCode.DEVICE_REMOVED)


async def run_session(
    state: SpaceState,
    report: SyncReport,
    on_event: EventCallback | None = None,
    *,
    until_up_to_date: bool = True,
    push: list[bytes] | None = None,
    from_start: bool = False,
) -> None:
    """One session. ``push`` replaces the outbox (a re-seed); ``from_start`` reads
    the relay's whole history again."""
    await _sync_once(
        state, report, on_event, until_up_to_date=until_up_to_date, push=push, from_start=from_start
    )


async def _sync_once(
    state: SpaceState,
    report: SyncReport,
    on_event: EventCallback | None,
    *,
    until_up_to_date: bool,
    push: list[bytes] | None = None,
    from_start: bool = False,
    connected: asyncio.Event | None = None,
) -> None:
    """One session; a write that fails takes what is in memory back to the disk
    (§9.13), so the next session fetches and stores what this one could not."""
    if state.store.failed_admission is not None:
        # A failure raised to a writer that could not take memory back (a setting).
        await back_to_disk(state)
    try:
        await _session(
            state,
            report,
            on_event,
            until_up_to_date=until_up_to_date,
            push=push,
            from_start=from_start,
            connected=connected,
        )
    except (sqlite3.Error, WriteFailed) as exc:
        await back_to_disk(state)
        raise sync_write_failed(exc) from None


async def _session(
    state: SpaceState,
    report: SyncReport,
    on_event: EventCallback | None,
    *,
    until_up_to_date: bool,
    push: list[bytes] | None,
    from_start: bool,
    connected: asyncio.Event | None,
) -> None:
    async with state.outbox_lock:  # see SpaceState.outbox_lock
        session = await _start_session(state, push=push, from_start=from_start)
        connection = SyncConnection(state.endpoint, session)
        state.connection = connection
    handler = _SessionHandler(
        state, session, report, on_event, connected, ends_on_refusal=not until_up_to_date
    )
    try:
        await connection.run(handler.handle, until_up_to_date=until_up_to_date)
    finally:
        state.connection = None
        await handler.close()
        # What was admitted is on disk (or its failure raised) before the session ends.
        await state.store.settle()
        await state.tracker.challenged(session.challenge)
        await state.tracker.save()
        if state.tracker.changed_since_published:
            await refresh_integrity(state)
    await state.store.put({META_LAST_SYNC: str(now_ms()).encode()})
    report.pending = len(state.pending)


async def _start_session(
    state: SpaceState, *, push: list[bytes] | None, from_start: bool
) -> SyncSession:
    """The session's starting point: where to read from and what to push."""
    cursor = await state.cursor()
    # Seqs the relay skipped or filled with refused bytes are read once more (§9.6).
    refetch = state.tracker.view.refetch_from(cursor)
    start = 0 if from_start else cursor if refetch is None else refetch
    outbox = await state.store.outbox() if push is None else push
    session = SyncSession(
        space_id=state.space_id,
        device_id=state.device.device_id,
        host=state.endpoint.host,
        sign=state.device.sign,
        cursor=start,
        outbox=outbox,
        anchor=state.tracker.view.anchor(start),
        pull_limit=PULL_LIMIT,
    )
    state.tracker.begin_session(outbox, read_from=start)
    return session


class _SessionHandler:
    """What one session's events do to the local state and the report."""

    def __init__(
        self,
        state: SpaceState,
        session: SyncSession,
        report: SyncReport,
        on_event: EventCallback | None,
        connected: asyncio.Event | None = None,
        *,
        ends_on_refusal: bool = False,
    ) -> None:
        self.state, self.session, self.report, self.on_event = state, session, report, on_event
        self.ends_on_refusal = ends_on_refusal
        """A live session ends on a refused push (§9.14), so whoever runs it learns why."""
        self.connected = connected
        """Set once signed in and read up to the relay's head: live from then on."""
        self.generation = state.disk_generation
        self.worker: SignatureWorker | None = None
        self._worker_tried = False

    async def close(self) -> None:
        if self.worker is not None:
            await self.worker.close()
            self.worker = None

    async def _page_checker(self, size: int) -> SignatureWorker | None:
        """The child process checking this session's signatures, if it is running; a
        first long page starts it, for the pages after it."""
        if self.worker is not None and self.worker.alive:
            return self.worker
        if size >= WORKER_PAGE and not self._worker_tried and (os.cpu_count() or 1) > 1:
            self._worker_tried = True
            self.worker = await SignatureWorker.start()
        return None

    async def handle(self, event: SessionEvent) -> None:
        state, report, tracker = self.state, self.report, self.state.tracker
        failure = state.store.failed_admission
        if failure is not None or state.disk_generation != self.generation:
            # Memory is ahead of the disk (or was taken back under this session): going
            # on would save a cursor past what never reached the disk (§9.13).
            raise WriteFailed(failure if isinstance(failure, sqlite3.Error) else None)
        behind = self.on_event is None
        if not isinstance(event, Received | CursorAdvanced):
            # Anything but the next page works on what is on disk and in state.events:
            # the page (and its cursor) written behind lands first.
            await state.store.settle()
        match event:
            case Received():
                # Written behind (the next page is admitted meanwhile) unless someone is
                # told of each event: they hear of it once it is on disk.
                items: list[tuple[bytes, int | None]] = [(s.envelope, s.seq) for s in event.events]
                worker = await self._page_checker(len(items))
                fresh = await _receive(state, items, report, behind=behind, worker=worker)
                await self._tell(fresh)
            case Acknowledged():
                await state.store.mark_acknowledged((a.event_id, a.seq) for a in event.acks)
                tracker.acked(event.acks)
                report.acknowledged += len(event.acks)
                report.acked_ids.update(a.event_id for a in event.acks)
            case CursorAdvanced():
                # The cursor and the relay record it covers, in one transaction, after
                # the events it covers; behind, as they are, while catching up.
                if behind:
                    tracker.save_behind(event.cursor)
                else:
                    await tracker.save(cursor=event.cursor)
            case PushRefused():
                report.refused.append(event.code)
                report.refusals.append(event)
                if self.ends_on_refusal:
                    # The session pushes nothing after a refusal (core/session.py): a
                    # live one that went on would hold every later write, silently.
                    raise RelayRefused(refusal_sentence(event.code), code=event.code)
            case RelayBehind() | RelayRewound():
                report.relay_behind = True
                await tracker.relay_lost_data(state.events)
            case UpToDate():
                # Caught up: the signature child's work is done (a live session may
                # last hours); it is not started again in this session.
                await self.close()
                # Read up to the relay's head: what is still missing is overdue.
                await tracker.read_complete(self.session.cursor)
                await refresh_integrity(state)
                if self.connected is not None:
                    self.connected.set()
            case _:
                pass
        if state.join is not None and self.session.up_to_date:
            await complete_join(state)

    async def _tell(self, fresh: list[VerifiedEvent]) -> None:
        if self.on_event is None:
            return
        for verified in fresh:
            result = self.on_event(verified)
            if result is not None:
                await result


receive = _receive
"""The facade's test hook (``Space._receive``, client/space/admitting.py's);
``Space._refresh_integrity`` is client/space/findings.py's."""
