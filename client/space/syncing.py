"""Syncing: one session with the relay, the retry loop around it, and admitting what
the relay serves (docs/PROTOCOL.md §6, §9). Works on
:class:`client.space.state.SpaceState`; the session's rules are sans-I/O in
``client.core.session``."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from client.core.integrity import assess, waiting_item
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
from client.core.verify import Verdict, VerifiedEvent
from client.errors import RelayUnreachable, TrellisError
from client.keys import signatures
from client.space.opening import complete_join
from client.space.ports import EventCallback
from client.space.reports import SyncReport
from client.space.state import META_LAST_SYNC, SpaceState
from client.space.writing import new_event
from client.store.integrity_names import name_token
from client.store.localstore import now_ms
from client.store.transport import SyncConnection

WATCH_RETRY_MAX_S = 30.0
RETRY_FIRST_DELAY_S = 0.25
OFF_LOOP_SIGNATURES = 64
"""Pages of more envelopes than this have their signatures checked off the event loop."""
_PASSING_CODES = frozenset({"shutting_down", "internal_error", "rate_limited", "auth_timeout"})


def is_passing_failure(exc: TrellisError) -> bool:
    """A failure that may pass if we try again later (the relay restarting, no network)."""
    return isinstance(exc, RelayUnreachable) or exc.code in _PASSING_CODES


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
) -> SyncReport:
    """:meth:`client.space.Space.sync`; ``rotate_if_due`` writes a key rotation that
    a partner leaving or a revocation left due (client/space/devices.py)."""
    report = SyncReport()
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + retry_for_s
    delay = RETRY_FIRST_DELAY_S
    while True:
        started = loop.time()
        try:
            if watch:
                await _sync_once(state, report, on_event, until_up_to_date=False)
            else:
                async with asyncio.timeout(timeout_s):
                    await _sync_once(state, report, on_event, until_up_to_date=True)
                    # A partner left or a revocation lacks its rotation (devices.py).
                    if await rotate_if_due():
                        await _sync_once(state, report, on_event, until_up_to_date=True)
                return report
        except TrellisError as exc:
            if not is_passing_failure(exc) or (not watch and loop.time() >= give_up_at):
                raise
        if loop.time() - started > WATCH_RETRY_MAX_S:
            delay = RETRY_FIRST_DELAY_S  # it was connected for a while: start over
        await asyncio.sleep(delay)
        delay = min(delay * 2, WATCH_RETRY_MAX_S)


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
) -> None:
    session = await _start_session(state, push=push, from_start=from_start)
    connection = SyncConnection(state.endpoint, session)
    handler = _SessionHandler(state, session, report, on_event)
    state.connection = connection
    try:
        await connection.run(handler.handle, until_up_to_date=until_up_to_date)
    finally:
        state.connection = None
        await state.tracker.challenged(session.challenge)
        await state.tracker.save()
        if state.tracker.changed_since_published:
            await _refresh_integrity(state)
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
    ) -> None:
        self.state, self.session, self.report, self.on_event = state, session, report, on_event

    async def handle(self, event: SessionEvent) -> None:
        state, report, tracker = self.state, self.report, self.state.tracker
        match event:
            case Received():
                fresh = await _receive(state, [(s.envelope, s.seq) for s in event.events], report)
                await self._tell(fresh)
            case Acknowledged():
                await state.store.mark_acknowledged((a.event_id, a.seq) for a in event.acks)
                tracker.acked(event.acks)
                report.acknowledged += len(event.acks)
                report.acked_ids.update(a.event_id for a in event.acks)
            case CursorAdvanced():
                # The cursor and the relay record it covers, in one transaction.
                await tracker.save(cursor=event.cursor)
            case PushRefused():
                report.refused.append(event.code)
                report.refusals.append(event)
            case RelayBehind() | RelayRewound():
                report.relay_behind = True
                await tracker.relay_lost_data(state.events)
            case UpToDate():
                # Read up to the relay's head: what is still missing is overdue.
                await tracker.read_complete(self.session.cursor)
                await _refresh_integrity(state)
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
    state: SpaceState, items: list[tuple[bytes, int | None]], report: SyncReport
) -> list[VerifiedEvent]:
    """Admit envelopes from the relay; store what passes, hold or record the rest."""
    accepted: list[tuple[VerifiedEvent, int | None]] = []
    # Signatures first, a page at a time on every core (client/keys/signatures.py).
    verified = await check_signatures([data for data, _ in items])
    queue = deque(items)
    first_readings = len(items)
    accepted_since_retry = False
    while queue:
        data, relay_seq = queue.popleft()
        outcome = state.verifier.admit(data, trusted=data in verified)
        if first_readings:
            # What the relay served at that seq (pending ones re-admitted are not).
            first_readings -= 1
            state.tracker.served(
                relay_seq, data, outcome.event_id, valid=outcome.verdict is not Verdict.REJECTED
            )
        if outcome.verdict is Verdict.ACCEPTED and outcome.event is not None:
            accepted.append((outcome.event, relay_seq))
            state.pending.pop(outcome.event.event_id, None)
            accepted_since_retry = True
        elif outcome.verdict is Verdict.PENDING and outcome.event_id is not None:
            if outcome.event_id not in state.pending:
                state.pending[outcome.event_id] = (data, relay_seq)
                await state.store.put_pending(
                    outcome.event_id, data, relay_seq, outcome.waiting_for
                )
        elif outcome.verdict is Verdict.REJECTED:
            if outcome.event_id is not None:
                state.pending.pop(outcome.event_id, None)
            key = outcome.event_id or b""
            if key not in state.rejected:
                state.rejected.add(key)
                report.rejected += 1
                await state.store.add_rejected(
                    outcome.event_id, data, str(outcome.code), outcome.reason, relay_seq
                )
        if not queue and accepted_since_retry and state.pending:
            # What waited may pass now: one more round over the held events, and
            # again only while a round lets something through (not once per event).
            accepted_since_retry = False
            queue.extend(state.pending.values())
    if accepted:
        await state.store.add_events(new_event(e, s) for e, s in accepted)
        for event, _ in accepted:
            state.events[event.event_id] = event
    report.received += len(accepted)
    return [e for e, _ in accepted if e.author != state.device.device_id]


async def _refresh_integrity(state: SpaceState) -> None:
    verifier, me = state.verifier, state.device.device_id
    # Events of an epoch whose key never reached a removed device are not withheld.
    still_member = verifier.membership.is_active(me)
    waiting = [
        item
        for event_id, (data, relay_seq) in state.pending.items()
        if (
            item := waiting_item(
                event_id,
                data,
                relay_seq,
                knows=verifier.knows,
                events_key=verifier.events_key,
            )
        ).has_key
        or still_member
    ]
    findings = assess(
        me=me,
        events=state.events.values(),
        waiting=waiting,
        refusals=await state.tracker.store.refusals(),
        view=state.tracker.view,
        cursor=await state.cursor(),
        lost=state.tracker.lost(),
        sightings=await state.tracker.store.sightings(),
        # Stored as written: names go in only when shown (THREAT_MODEL.md §22).
        name_of=name_token,
        grace_ms=state.split_view_grace_ms,
    )
    await state.tracker.publish(findings)


receive = _receive
refresh_integrity = _refresh_integrity
"""Public names for the facade's test hooks (``Space._receive``,
``Space._refresh_integrity``); the private names stay so call sites read as before."""
