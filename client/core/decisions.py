"""The protocol decisions the I/O flows make, as pure functions (issue #12, docs/PROTOCOL.md §9).

Why this module exists: client/space/ talks to the relay and the local database, and in
between it decides things — which held events to try again, which device writes the key
rotation and for whom, which member a joining device becomes, which devices to vouch for
at a new relay, whether a failure is worth retrying. Inside I/O code no unit test reached
those choices; here each is a function of its inputs, tested directly in
tests/client/test_decisions.py, and the flows call them in one line.

Nothing here does I/O, reads a clock or draws randomness (the ``client-core-sans-io``
import contract checks it): time, fresh ids and keys, and the sealing function come in
as arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Literal

from client.core.events import VerifiedEvent
from client.core.membership_rules import Membership
from client.core.session import PushRefused
from client.core.verify import LogVerifier, Verdict
from client.errors import ClientErrorCode
from schemas.envelope import decode_envelope, event_id_of
from schemas.ids import DeviceId, EventId, InviteId, MemberId
from schemas.payloads import KeyRotated, SealedKey

# -- 3.1 admitting a page, with the held-event retry ----------------------------------


@dataclass(frozen=True, slots=True)
class Held:
    """An envelope that may pass later (verify.py's ``pending``), with why it waits."""

    event_id: EventId
    data: bytes
    relay_seq: int | None
    waiting_for: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """An envelope that can never pass, recorded once with its stable code."""

    event_id: EventId | None
    data: bytes
    code: str
    reason: str
    relay_seq: int | None


@dataclass(frozen=True, slots=True)
class Served:
    """What the relay served at one seq, judged on its first reading (for the tracker
    of client/store/integrity_store.py; a held event read again is not served again)."""

    relay_seq: int | None
    data: bytes
    event_id: EventId | None
    valid: bool


@dataclass(frozen=True, slots=True)
class Admitted:
    """What one page did to the log; the caller stores it and updates its own state.

    ``held`` are newly held envelopes; ``released`` are ids that were held (before this
    page, or earlier in it) and are now accepted or rejected: the caller's pending map
    afterwards is ``pending + held - released``."""

    accepted: list[tuple[VerifiedEvent, int | None]] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    released: set[EventId] = field(default_factory=set)
    rejected: list[Rejected] = field(default_factory=list)
    served: list[Served] = field(default_factory=list)


def admit_page(
    verifier: LogVerifier,
    items: Sequence[tuple[bytes, int | None]],
    pending: Mapping[EventId, tuple[bytes, int | None]],
    already_rejected: Set[bytes],
    trusted: Set[bytes],
) -> Admitted:
    """Admit a page of envelopes (data, relay seq) in order, retrying held ones.

    Whenever a pass over the queue let something through, everything held (from earlier
    pages or this one) is tried once more, and again only while a round lets something
    through: an event served before its dependency passes in the next round, and a chain
    served backwards costs one round per event, never one retry per admitted event.
    ``trusted`` are envelopes whose signature was already checked (client/keys/
    signatures.py); ``already_rejected`` are ids (``b""`` for undecodable bytes)
    recorded before, so a rejection is reported once."""
    out = Admitted()
    held: dict[EventId, tuple[bytes, int | None]] = dict(pending)
    rejected_now: set[bytes] = set()
    queue = list(items)
    first_readings = len(items)
    accepted_since_retry = False
    i = 0
    while i < len(queue):
        data, relay_seq = queue[i]
        i += 1
        outcome = verifier.admit(data, trusted=data in trusted)
        if first_readings:
            first_readings -= 1
            out.served.append(
                Served(relay_seq, data, outcome.event_id, outcome.verdict is not Verdict.REJECTED)
            )
        if outcome.verdict is Verdict.ACCEPTED and outcome.event is not None:
            out.accepted.append((outcome.event, relay_seq))
            if held.pop(outcome.event.event_id, None) is not None:
                out.released.add(outcome.event.event_id)
            accepted_since_retry = True
        elif outcome.verdict is Verdict.PENDING and outcome.event_id is not None:
            if outcome.event_id not in held:
                held[outcome.event_id] = (data, relay_seq)
                out.held.append(Held(outcome.event_id, data, relay_seq, outcome.waiting_for))
        elif outcome.verdict is Verdict.REJECTED:
            if outcome.event_id is not None and held.pop(outcome.event_id, None) is not None:
                out.released.add(outcome.event_id)
            key = outcome.event_id or b""
            if key not in already_rejected and key not in rejected_now:
                rejected_now.add(key)
                out.rejected.append(
                    Rejected(outcome.event_id, data, str(outcome.code), outcome.reason, relay_seq)
                )
        if i == len(queue) and accepted_since_retry and held:
            accepted_since_retry = False
            queue.extend(held.values())
    return out


# -- 3.2 who rotates the key, and to whom ---------------------------------------------


def rotator(membership: Membership) -> DeviceId | None:
    """The device that writes a due rotation: the smallest active device id, so every
    device computes the same one and one rotation is written, not one per device."""
    active = sorted(d for d in membership.devices if membership.lifecycle.active(d))
    return active[0] if active else None


def must_rotate(membership: Membership, me: DeviceId, *, force: bool) -> bool:
    """Whether ``me`` writes a rotation now: some removed device still holds the newest
    key, ``me`` is active, and ``me`` is the rotator — or ``force`` (the device that just
    revoked another, which should not wait for the rotator to come online)."""
    lifecycle = membership.lifecycle
    if not lifecycle.active(me) or not lifecycle.unrotated():
        return False
    return force or rotator(membership) == me


def rotation(
    membership: Membership,
    known_epochs: Iterable[int],
    new_key: bytes,
    seal_to: Callable[[bytes, bytes], bytes],
) -> KeyRotated:
    """The ``key_rotated`` event: the next epoch after every one known, its key sealed to
    exactly the active devices (membership_rules.py, rule 4). ``seal_to(box_key, key)``
    is crypto.seal_to_device; the key is drawn by the caller."""
    sealed = [
        SealedKey(device_id=d.device_id, sealed=seal_to(d.box_key, new_key))
        for d in membership.devices.values()
        if membership.lifecycle.active(d.device_id)
    ]
    return KeyRotated(epoch=max(known_epochs) + 1, sealed_keys=sealed)


# -- 3.3 the rejoin target ------------------------------------------------------------


def rejoin_partner(membership: Membership, me: MemberId) -> MemberId | None:
    """The partner a rejoin invite is for: the other member, if they have not left."""
    for member in membership.members.values():
        if member.member_id != me and member.member_id not in membership.lifecycle.left:
            return member.member_id
    return None


def rejoin_device(membership: Membership, partner: MemberId) -> DeviceId | None:
    """The device of ``partner`` the relay swaps for the rejoining one (``for_device``):
    the smallest active one, or None when they have none left to replace."""
    targets = sorted(
        d.device_id
        for d in membership.devices.values()
        if d.member_id == partner and membership.lifecycle.active(d.device_id)
    )
    return targets[0] if targets else None


def lost_devices(membership: Membership, me: DeviceId) -> list[DeviceId]:
    """After a rejoin, this member's other active devices: the ones that were lost."""
    mine = membership.devices.get(me)
    if mine is None:
        return []
    return sorted(
        d.device_id
        for d in membership.devices.values()
        if d.member_id == mine.member_id
        and d.device_id != me
        and membership.lifecycle.active(d.device_id)
    )


# -- 3.4 which devices to vouch for at a new relay ------------------------------------


def devices_to_admit(
    membership: Membership, me: DeviceId
) -> list[tuple[DeviceId, bytes, Literal["device", "member"]]]:
    """(device id, box key, invite kind) to register at a new relay, in member-id then
    device-id order: this member's other active devices as ``device``; for the other
    member one device as ``member``, the one that joined as that member (else their
    smallest active one), so both partners' devices vouch for the same device."""
    mine = membership.devices.get(me)
    if mine is None:
        return []
    admitted: list[tuple[DeviceId, bytes, Literal["device", "member"]]] = []
    for member in sorted(membership.members.values(), key=lambda x: x.member_id):
        active = sorted(
            (
                d
                for d in membership.devices.values()
                if d.member_id == member.member_id and membership.is_active(d.device_id)
            ),
            key=lambda d: d.device_id,
        )
        if member.member_id == mine.member_id:
            admitted.extend((d.device_id, d.box_key, "device") for d in active if d.device_id != me)
        elif active:
            first = [d for d in active if d.added_by == member.joined_by]
            chosen = (first or active)[0]
            admitted.append((chosen.device_id, chosen.box_key, "member"))
    return admitted


# -- 3.5 which member a joining device becomes ----------------------------------------


def joining_identity(
    membership: Membership, invite_id: InviteId, fresh_member_id: MemberId, typed_name: str
) -> tuple[MemberId, str] | None:
    """(member id, name) for this device's ``member_joined``; None while the partner's
    ``invite_issued`` has not arrived. A member invite adds a new member (the fresh id
    and the typed name); a device or rejoin invite makes it a device of an existing
    member, under that member's recorded name (the typed one is ignored, as verify.py
    ignores it). A joined member unknown here falls back to the fresh identity."""
    invite = membership.invites.get(invite_id)
    if invite is None:
        return None
    joins = invite.joins_member
    if joins is not None and joins in membership.members:
        return joins, membership.members[joins].name
    return fresh_member_id, typed_name


# -- 3.6 passing or permanent failure, and the retry schedule -------------------------

PASSING_CODES = frozenset({"shutting_down", "internal_error", "rate_limited", "auth_timeout"})
"""Relay refusals that go away by themselves (docs/PROTOCOL.md §8.1)."""
RETRY_FIRST_DELAY_S = 0.25
RETRY_MAX_DELAY_S = 30.0


def is_passing_failure(code: str, *, unreachable: bool) -> bool:
    """Whether retrying may help: the relay out of reach, restarting, busy or slow.
    Anything else (this device removed, the space unknown, a bad frame) is permanent
    and reaches the person at once."""
    return unreachable or code in PASSING_CODES


def next_retry_delay(previous_s: float | None, connected_for_s: float) -> float:
    """Seconds to wait before the next attempt: 0.25 s first, doubling up to 30 s; a
    connection that stayed up longer than 30 s starts the schedule over."""
    if previous_s is None or connected_for_s > RETRY_MAX_DELAY_S:
        return RETRY_FIRST_DELAY_S
    return min(previous_s * 2, RETRY_MAX_DELAY_S)


# -- 3.8 revoke permissions -----------------------------------------------------------


def revoke_refusal(
    membership: Membership, me: DeviceId, target: DeviceId
) -> ClientErrorCode | None:
    """Why this device may not remove ``target``, or None: never itself (it leaves
    instead), and only its own member's devices (each partner removes their own).
    An own device already revoked is allowed: the relay call is repeated."""
    if target == me:
        return ClientErrorCode.CANNOT_REVOKE_SELF
    mine = membership.devices.get(me)
    device = membership.devices.get(target)
    if mine is None or device is None or device.member_id != mine.member_id:
        return ClientErrorCode.NOT_YOUR_DEVICE
    return None


# -- 3.9 re-seeding a relay, round by round -------------------------------------------


MOVE_WAITS_FOR = frozenset({"unknown_device", "device_revoked"})
"""Refusals of the new relay that mean "a registered device must move first": this
device is not known there yet (docs/PROTOCOL.md §9.7)."""


@dataclass(frozen=True, slots=True)
class ReseedRefusal:
    """The relay would not take some of one author's events back, and why."""

    author: DeviceId | None
    first_seq: int | None
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class ReseedRound:
    """One session of a re-seed: what to push, and whether to read the relay's history
    again from its start (the first round does, so whatever it skipped arrives)."""

    push: list[bytes]
    from_start: bool


class ReseedPlan:
    """Which of this device's envelopes each re-seed round pushes, and when to stop
    (docs/PROTOCOL.md §9.7).

    The first round pushes the whole verified copy, in the order it was accepted. A
    round the relay refuses nothing of ends the re-seed. When it refuses an author's
    events, that author is reported once, with the first seq refused, and left out of
    every later round, so one refusal never stops the others; events the relay has
    acknowledged are not pushed again. Each round either finishes or leaves out one more
    author, so there are at most (authors + 2) rounds."""

    def __init__(self, envelopes: Sequence[bytes]) -> None:
        self._envelopes = [
            (e, DeviceId(decode_envelope(e).author), event_id_of(e)) for e in envelopes
        ]
        self._max_rounds = len({author for _, author, _ in self._envelopes}) + 2
        self._rounds = 0
        self._done = False
        self.excluded: set[DeviceId] = set()
        self.stored: set[bytes] = set()
        """Event ids the relay acknowledged (it held them already, or stored them now)."""
        self.refusals: list[ReseedRefusal] = []

    def next_round(self) -> ReseedRound | None:
        """The next session to run, or None when the re-seed is over."""
        if self._done or self._rounds >= self._max_rounds:
            return None
        push = [
            data
            for data, author, event_id in self._envelopes
            if author not in self.excluded and event_id not in self.stored
        ]
        if not push and self._rounds > 0:
            return None
        self._rounds += 1
        return ReseedRound(push, from_start=self._rounds == 1)

    def record(self, acked: Iterable[bytes], refused: Sequence[PushRefused]) -> None:
        """What the relay answered to the round just run."""
        self.stored |= set(acked)
        if not refused:
            self._done = True
            return
        for refusal in refused:
            author, seq = None, None
            if refusal.envelope is not None:
                env = decode_envelope(refusal.envelope)
                author, seq = DeviceId(env.author), env.seq
                if author in self.excluded:
                    continue
                self.excluded.add(author)
            self.refusals.append(ReseedRefusal(author, seq, refusal.code, refusal.detail))
