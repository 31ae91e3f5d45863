"""Writing one's own events: check, sign, encrypt, store, and queue them
(docs/PROTOCOL.md §9). Works on :class:`client.space.state.SpaceState`."""

from __future__ import annotations

import sqlite3

import msgspec

from client.core.verify import Verdict, VerifiedEvent
from client.errors import (
    ClientErrorCode,
    HomeError,
    LocalDataError,
    LocalWriteError,
    TrellisError,
)
from client.keys import crypto
from client.space.device_zone import device_zone_name
from client.space.state import SpaceState, back_to_disk, reload_from_disk
from client.store.home_lock import home_write_lock
from client.store.localstore import NewEvent, now_ms
from client.store.writes import failure_reason
from client.views import write_rules
from client.views.fold import causal_order
from client.views.moments import as_moment
from schemas.envelope import encode_envelope
from schemas.ids import EventId
from schemas.payloads import (
    EventBody,
    Payload,
    PayloadFormatError,
    decode_payload,
    encode_payload,
)
from schemas.practices import SignalSent

BEHIND_ANOTHER_WINDOW = (
    "Trellis wrote from another window on this device, and this one is behind it. "
    "Close this window and open Trellis again; nothing was changed here."
)

DEVICE_REMOVED = (
    "This device has left the space or was removed from it, so it no longer writes or "
    "syncs. What was shared until then stays readable on this device."
)

PARTNER_LEFT = (
    "Your partner has left the space, so a signal would reach nobody; nothing was sent. "
    "If you need help now, 'trellis not-safe' (or Not safe? in the app) lists where to find it."
)


async def append(state: SpaceState, payload: Payload, occurred_at: int | None) -> VerifiedEvent:
    """Sign, encrypt and store one event locally; it is pushed at the next sync (or
    at once while a sync connection is open)."""
    check_payload(payload)
    # One writer at a time per home, up to date with what another window wrote
    # (client/store/home_lock.py): two processes never sign the same seq.
    async with home_write_lock(state.home):
        if state.store.failed_admission is not None:
            # A page was admitted in memory and not stored (a failed write, or a sync
            # stopped half-way): seal against what the disk holds (§9.13).
            await back_to_disk(state)
        await catch_up_own(state)
        membership = state.verifier.membership
        me = membership.member_of(state.device.device_id)
        if me is not None and not membership.is_active(state.device.device_id):
            # Left, or removed: the chain is closed and every reader refuses more of it.
            raise TrellisError(DEVICE_REMOVED, code=ClientErrorCode.DEVICE_REMOVED)
        if isinstance(payload, SignalSent) and me is not None and membership.lifecycle.left:
            # A signal is for the partner: "delivered" to a relay nobody reads from again
            # would be a comfort it is not (THREAT_MODEL §16.3).
            raise TrellisError(PARTNER_LEFT, code=ClientErrorCode.NO_PARTNER)
        write_rules.check_write(
            payload,
            None if me is None else me.member_id,
            lambda: causal_order(state.events.values()),
            membership,
        )
        if state.join is not None:
            raise TrellisError(
                "Joining is not finished yet: run 'trellis sync' once your partner's device "
                "is online.",
                code=ClientErrorCode.JOIN_INCOMPLETE,
            )
        data = seal(state, payload, occurred_at)
        return await accept_own(state, data, relay_seq=None, queue=True)


async def catch_up_own(state: SpaceState) -> None:
    """Admit what another process stored since this one loaded the home, when that
    process wrote as this device, so the next event continues the chain after it.

    Its events may depend on events it pulled that this one has not read, so every
    stored event this one lacks is admitted, in the order stored (an event is stored
    after what it depends on). Own events among them are queued on an open connection
    too (a push of what the relay holds is acknowledged again)."""
    me = state.device.device_id
    head = state.verifier.heads.get(me)
    if not await state.store.own_events_after(me, head[0] if head else 0):
        return
    for stored in await state.store.load_events():
        if EventId(stored.event_id) in state.events:
            continue
        outcome = state.verifier.admit(stored.envelope, trusted=True)
        if outcome.verdict is Verdict.DUPLICATE:
            # Admitted here already, on its way to state.events (a page written behind,
            # or one this process is admitting): nothing to catch up.
            continue
        if outcome.verdict is not Verdict.ACCEPTED or outcome.event is None:
            raise HomeError(BEHIND_ANOTHER_WINDOW, code=ClientErrorCode.HOME_IN_USE)
        state.events[outcome.event.event_id] = outcome.event
        state.pending.pop(outcome.event.event_id, None)  # held here, stored there
        connection = state.connection
        if connection is not None and outcome.event.author == me:
            state.tracker.sending([outcome.event.event_id])
            connection.session.queue([stored.envelope])


def seal(state: SpaceState, payload: Payload, occurred_at: int | None) -> bytes:
    """The signed, encrypted envelope of ``payload`` as this device's next event."""
    verifier, me = state.verifier, state.device.device_id
    head = verifier.heads.get(me)
    seq, prev = (head[0] + 1, head[1]) if head else (1, None)
    deps = verifier.frontier(excluding=me)
    recorded_at = as_moment(now_ms())  # never read as a calendar date (§10.8)
    body = EventBody(
        deps=list(deps),
        lamport=verifier.next_lamport(deps, prev),
        recorded_at=recorded_at,
        occurred_at=recorded_at if occurred_at is None else occurred_at,
        payload=msgspec.Raw(encode_payload(payload)),
        tz=device_zone_name(),
    )
    epoch = max(verifier.space_keys)
    events_key = verifier.events_key(epoch)
    if events_key is None:
        raise LocalDataError("This device has no key for the space's current epoch.")
    env = crypto.seal_event(
        device=state.device,
        space_id=state.space_id,
        seq=seq,
        prev=prev,
        epoch=epoch,
        events_key=events_key,
        plaintext=msgspec.msgpack.encode(body),
    )
    return encode_envelope(env)


async def accept_own(
    state: SpaceState, data: bytes, *, relay_seq: int | None, queue: bool
) -> VerifiedEvent:
    """Admit and store this device's own new event; with ``queue``, put it in the
    outbox (and push it at once on an open sync connection)."""
    verifier = state.verifier
    outcome = verifier.admit(data, trusted=True)
    if outcome.event is None:
        raise LocalDataError(
            f"This device refused its own new event ({outcome.code}); nothing was saved."
        )
    event = outcome.event
    async with state.outbox_lock:  # stored and queued in one step (SpaceState.outbox_lock)
        if state.verifier is not verifier:
            # What is in memory went back to the disk meanwhile (state.back_to_disk):
            # this event was sealed against a state that held more than the disk does.
            raise LocalWriteError(
                "This was not saved: a write on this device failed just before, and "
                "Trellis reloaded what this device holds. Nothing was lost; try again."
            )
        try:
            await state.store.add_events([new_event(event, relay_seq)], outbox=queue)
        except (sqlite3.Error, LocalWriteError) as exc:
            # The verifier admitted this event (its seq is taken in memory), and maybe
            # received events that never reached the disk: memory goes back to the disk
            # before the next own write may start, so it continues the chain the disk
            # holds (§9.13).
            await reload_from_disk(state)
            if isinstance(exc, LocalWriteError):
                raise
            full = getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL"
            raise LocalWriteError(
                f"Could not save this on this device: {failure_reason(exc)}. Nothing was "
                f"saved; try again{' once there is room' if full else ''}."
            ) from None
        state.events[event.event_id] = event
        connection = state.connection if queue else None
        if connection is not None:
            state.tracker.sending([event.event_id])
            connection.session.queue([data])
    if connection is not None:
        await connection.send_queued()
    return event


def check_payload(payload: Payload) -> None:
    """Refuse, before anything is signed, a payload the partner's app would reject.

    msgspec checks field limits (lengths, ranges, formats) when decoding, not when a
    struct is built, so a round trip is the check.
    """
    try:
        decode_payload(encode_payload(payload))
    except PayloadFormatError as exc:
        detail = str(exc).removeprefix("payload invalid: ")
        raise TrellisError(
            f"That cannot be saved: {detail}.", code=ClientErrorCode.INVALID_INPUT
        ) from None


def new_event(event: VerifiedEvent, relay_seq: int | None) -> NewEvent:
    """The store's row for an accepted event."""
    return NewEvent(
        event_id=event.event_id,
        author=event.author,
        author_seq=event.envelope.seq,
        envelope=event.canonical,
        relay_seq=relay_seq,
    )
