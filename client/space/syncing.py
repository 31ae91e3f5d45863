"""Syncing: one session with the relay, the retry loop around it, and admitting what
the relay serves (docs/PROTOCOL.md §6, §9). Works on
:class:`client.space.state.SpaceState`; the session's rules are sans-I/O in
``client.core.session``."""

from __future__ import annotations

import asyncio
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
from client.errors import RelayRefused, RelayUnreachable, TrellisError
from client.keys import signatures
from client.space.findings import refresh_integrity
from client.space.opening import complete_join
from client.space.ports import EventCallback
from client.space.reports import SyncReport
from client.space.state import META_LAST_SYNC, SpaceState, back_to_disk
from client.space.write_failures import WriteFailed, store_page, sync_write_failed
from client.space.writing import new_event
from client.store.localstore import Admission, HeldRow, RejectedRow, now_ms
from client.store.transport import SyncConnection
from client.views.present import refusal_sentence

OFF_LOOP_SIGNATURES = 64
"""Pages of more envelopes than this have their signatures checked off the event loop."""


def is_passing_failure(exc: TrellisError) -> bool:
    """A failure that may pass if we try again later (the relay restarting, no network)."""
    return decisions.is_passing_failure(exc.code, unreachable=isinstance(exc, RelayUnreachable))


async def check_signatures(envelopes: list[bytes]) -> set[bytes]:
    """The envelopes whose signature verifies; a large page is checked on a worker
    thread, so an app embedding the library keeps serving its other tasks."""
    if len(envelopes) <= OFF_LOOP_SIGNATURES:
        return signatures.valid_signatures(envelopes)
    return await asyncio.to_thread(signatures.valid_signatures, envelopes)


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
                fresh = await _receive(state, items, report, behind=behind)
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


async def _receive(
    state: SpaceState,
    items: list[tuple[bytes, int | None]],
    report: SyncReport,
    *,
    behind: bool = False,
) -> list[VerifiedEvent]:
    """Admit envelopes from the relay; store what passes, hold or record the rest.

    Signatures are checked on worker threads (client/keys/signatures.py) ahead of
    admission. A large page goes in parts of ``PIPELINE_PART`` envelopes, and the
    signatures of the next part are checked while this thread admits the current one
    (decrypting, checking the rules): the two used to take turns, leaving a core idle
    through every admission. Admitting a page part by part is admitting smaller pages,
    which the rules already allow for (what waits is retried). What the parts change
    on disk is written in one transaction at the end of the page
    (``LocalStore.record_admissions``): one commit, one wait for the disk, per page.
    With ``behind`` that write runs behind the caller, which goes on with the next page
    while the disk works; whatever is written next waits for it (the cursor that covers
    these events, this device's own events), and ``state.events`` gains them once they
    are on disk."""
    generation = state.disk_generation
    admissions: list[Admission] = []
    accepted: list[VerifiedEvent] = []
    fresh: list[VerifiedEvent] = []
    if len(items) <= PIPELINE_PART:
        verified = await check_signatures([data for data, _ in items])
        fresh = _admit(state, items, verified, report, admissions, accepted)
    else:
        parts = [items[i : i + PIPELINE_PART] for i in range(0, len(items), PIPELINE_PART)]
        checking = _check_part(parts[0])
        try:
            # The checking threads (and the write behind) get the GIL back quickly
            # while this thread admits: see signatures.quick_gil_handoff.
            with signatures.quick_gil_handoff():
                for n, part in enumerate(parts):
                    verified = await checking
                    if n + 1 < len(parts):
                        checking = _check_part(parts[n + 1])
                    fresh += _admit(state, part, verified, report, admissions, accepted)
                    # A part admitted: an app's other tasks get a turn (storing used to
                    # give them one; it now waits for the end of the page).
                    await asyncio.sleep(0)
        finally:
            if not checking.done():
                checking.cancel()

    await store_page(state, admissions, accepted, behind=behind, generation=generation)
    return fresh


PIPELINE_PART = 100
"""Envelopes admitted while the next as many have their signatures checked."""


def _check_part(items: list[tuple[bytes, int | None]]) -> asyncio.Future[set[bytes]]:
    envelopes = [data for data, _ in items]
    return asyncio.ensure_future(asyncio.to_thread(signatures.valid_signatures, envelopes))


def _admit(
    state: SpaceState,
    items: list[tuple[bytes, int | None]],
    verified: set[bytes],
    report: SyncReport,
    admissions: list[Admission],
    accepted: list[VerifiedEvent],
) -> list[VerifiedEvent]:
    """Admit one part in memory; what it changes on disk is added to ``admissions``,
    and its accepted events to ``accepted``, for the caller to store and then keep."""
    # What passes, waits or fails, held events retried: client/core/decisions.py.
    page = decisions.admit_page(state.verifier, items, state.pending, state.rejected, verified)
    tracker = state.tracker
    for served in page.served:
        tracker.served(served.relay_seq, served.data, served.event_id, valid=served.valid)
    for h in page.held:
        state.pending[h.event_id] = (h.data, h.relay_seq)
    for event_id in page.released:
        state.pending.pop(event_id, None)
    for r in page.rejected:
        state.rejected.add(r.event_id or b"")
    report.rejected += len(page.rejected)
    admissions.append(
        Admission(
            held=[HeldRow(h.event_id, h.data, h.relay_seq, h.waiting_for) for h in page.held],
            rejected=[
                RejectedRow(r.event_id, r.data, r.code, r.reason, r.relay_seq)
                for r in page.rejected
            ],
            events=[new_event(e, s) for e, s in page.accepted],
        )
    )
    accepted.extend(e for e, _ in page.accepted)
    report.received += len(page.accepted)
    return [e for e, _ in page.accepted if e.author != state.device.device_id]


receive = _receive
"""Public names for the facade's test hooks (``Space._receive``,
``Space._refresh_integrity``, which is client/space/findings.py's); the private names
stay so call sites read as before."""
