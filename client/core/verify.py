"""Admission of envelopes into the local log, sans-I/O (docs/PROTOCOL.md §9).

Theory of operation. Every envelope the client receives, from the relay or from itself,
passes :meth:`LogVerifier.admit`, which decides one of:

* **accepted**: well-formed, signed by its author, continues the author's chain, opens
  with the epoch's events key, names only dependencies we already hold, carries a
  Lamport clock above all of them, and its author is a member device by the signed
  membership events (the genesis ``space_created``, or a ``member_joined`` whose invite
  proof verifies against an ``invite_issued`` written by a member device);
* **duplicate**: we hold it already (a retry, a replay, a live copy of a paged event);
* **pending**: it may become acceptable when something else arrives first (an earlier
  event of its author, a dependency, a key for its epoch); it is held, not folded;
* **rejected**: it can never become acceptable (forged, corrupt, a non-member, a second
  event at a position its author already used). It is recorded with a code and never
  folded into any view.

The verifier keeps only what these rules need; storage and sockets live elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from client.core.admission_checks import open_plaintext
from client.core.events import Device, Member, VerifiedEvent
from client.core.membership_rules import Invite, Membership
from client.keys import crypto
from schemas.envelope import Envelope, EnvelopeFormatError, decode_envelope, event_id_of
from schemas.http import invite_proof_transcript
from schemas.ids import DeviceId, EventId, InviteId, MemberId, SpaceId
from schemas.payloads import (
    InviteIssued,
    KeyRotated,
    MemberJoined,
    PayloadFormatError,
    SpaceCreated,
)

__all__ = [
    "Device",
    "Invite",
    "LogVerifier",
    "Member",
    "Membership",
    "Outcome",
    "RejectCode",
    "Verdict",
    "VerifiedEvent",
]
"""``Device``, ``Member`` and ``VerifiedEvent`` live in client/core/events.py and
``Invite``, ``Membership`` in client/core/membership_rules.py (so the two modules do not
import each other); they are re-exported here for the importers that name this module."""


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    PENDING = "pending"
    REJECTED = "rejected"


class RejectCode(StrEnum):
    """Stable codes for why an envelope was refused (docs/PROTOCOL.md §9.2)."""

    BAD_ENVELOPE = "bad_envelope"
    WRONG_SPACE = "wrong_space"
    BAD_SIGNATURE = "bad_signature"
    CHAIN_BAD_PREV = "chain_bad_prev"
    EQUIVOCATION = "equivocation"
    UNDECRYPTABLE = "undecryptable"
    BAD_KEY_COMMITMENT = "bad_key_commitment"
    BAD_PAYLOAD = "bad_payload"
    BAD_LAMPORT = "bad_lamport"
    NOT_A_MEMBER = "not_a_member"
    BAD_GENESIS = "bad_genesis"
    BAD_INVITE_PROOF = "bad_invite_proof"
    INVITE_REUSED = "invite_reused"
    DEVICE_REVOKED = "device_revoked"
    BAD_REVOCATION = "bad_revocation"
    BAD_LEAVE = "bad_leave"
    BAD_ROTATION = "bad_rotation"
    STALE_EPOCH = "stale_epoch"
    BAD_REJOIN = "bad_rejoin"
    THIRD_MEMBER = "third_member"


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    event_id: EventId | None = None
    event: VerifiedEvent | None = None
    code: RejectCode | None = None
    reason: str = ""
    waiting_for: str = ""


class LogVerifier:
    """Holds what admission needs: chain heads, known events, membership, epoch keys."""

    def __init__(
        self,
        space_id: SpaceId,
        epoch_keys: Mapping[int, bytes],
        *,
        me: DeviceId | None = None,
        open_sealed: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """``me`` and ``open_sealed`` let the verifier learn new epoch keys from the
        ``key_rotated`` events sealed to this device (membership_rules.py, rule 4)."""
        self.space_id = space_id
        self._space_keys = dict(epoch_keys)
        self._events_keys = {epoch: crypto.events_key_for(k) for epoch, k in epoch_keys.items()}
        self._me = me
        self._open_sealed = open_sealed
        self.membership = Membership()
        self.heads: dict[DeviceId, tuple[int, EventId]] = {}
        self._lamports: dict[EventId, int] = {}
        self._positions: dict[tuple[DeviceId, int], EventId] = {}
        self._outsiders: set[DeviceId] = set()
        """Devices whose join was refused as a third member: all they write is refused."""

    # -- queries ----------------------------------------------------------------

    def knows(self, event_id: bytes) -> bool:
        return EventId(event_id) in self._lamports

    def frontier(self, excluding: DeviceId) -> list[EventId]:
        """Newest event of every other device, sorted: what a new event depends on."""
        return sorted(head for device, (_, head) in self.heads.items() if device != excluding)

    def next_lamport(self, deps: list[EventId], prev: EventId | None) -> int:
        ids = [*deps, *([prev] if prev is not None else [])]
        return 1 + max((self._lamports[i] for i in ids), default=0)

    def add_epoch_key(self, epoch: int, space_key: bytes) -> None:
        self._space_keys[epoch] = space_key
        self._events_keys[epoch] = crypto.events_key_for(space_key)

    @property
    def space_keys(self) -> dict[int, bytes]:
        """Every epoch's space key this device holds (from its vault or learned)."""
        return dict(self._space_keys)

    def events_key(self, epoch: int) -> bytes | None:
        return self._events_keys.get(epoch)

    # -- admission --------------------------------------------------------------

    def admit(self, data: bytes, *, trusted: bool = False) -> Outcome:
        """Decide what ``data`` is; on acceptance, update heads and membership.

        ``trusted`` skips the signature check for envelopes whose signature this device
        has already checked: its own stored ones, or a page checked ahead on several
        cores (client/keys/signatures.py). Every other rule still runs, so the state is the
        same either way.
        """
        try:
            env = decode_envelope(data)
        except EnvelopeFormatError as exc:
            return Outcome(Verdict.REJECTED, code=RejectCode.BAD_ENVELOPE, reason=str(exc))
        event_id = event_id_of(data)
        if event_id in self._lamports:
            return Outcome(Verdict.DUPLICATE, event_id)
        if env.space_id != self.space_id:
            return self._reject(event_id, RejectCode.WRONG_SPACE, "belongs to another space")
        if not trusted and not crypto.envelope_signature_valid(env):
            return self._reject(event_id, RejectCode.BAD_SIGNATURE, "signature does not verify")
        author = DeviceId(env.author)
        if author in self._outsiders:
            return self._reject(
                event_id, RejectCode.THIRD_MEMBER, "written by a third person's device"
            )
        chain = self._check_chain(event_id, env)
        if chain is not None:
            return chain
        event = self._open(event_id, env, data)
        if isinstance(event, Outcome):
            return event
        membership = self._check_membership(event)
        if membership is not None:
            return membership
        self._record(event, author)
        return Outcome(Verdict.ACCEPTED, event_id, event)

    def _open(self, event_id: EventId, env: Envelope, data: bytes) -> VerifiedEvent | Outcome:
        """Decrypt and decode an envelope whose signature and chain passed: the event, or
        the outcome that says why it waits (no key yet, causes missing) or is refused."""
        events_key = self._events_keys.get(env.epoch)
        if events_key is None:
            return Outcome(Verdict.PENDING, event_id, waiting_for=f"key for epoch {env.epoch}")
        try:
            plaintext = crypto.open_event(events_key, env)
        except crypto.KeyCommitmentError:
            return self._reject(
                event_id,
                RejectCode.BAD_KEY_COMMITMENT,
                "its wrapped key is not the key its signed header commits to",
            )
        except crypto.CryptoError:
            return self._reject(event_id, RejectCode.UNDECRYPTABLE, "does not decrypt")
        try:
            # Hostile payloads come back as InvalidPayload (client/core/admission_checks.py).
            body, payload = open_plaintext(plaintext)
        except PayloadFormatError as exc:
            return self._reject(event_id, RejectCode.BAD_PAYLOAD, str(exc))
        missing = [d for d in body.deps if d not in self._lamports]
        if missing:
            return Outcome(
                Verdict.PENDING,
                event_id,
                waiting_for=f"{len(missing)} earlier event(s) it depends on",
            )
        prev = EventId(env.prev) if env.prev is not None else None
        # Exactly one more than its causes: a clock pushed far ahead would let one
        # device make every later event of its partner overflow the clock's range.
        if body.lamport != self.next_lamport([EventId(d) for d in body.deps], prev):
            return self._reject(
                event_id, RejectCode.BAD_LAMPORT, "clock is not one more than its causes"
            )
        return VerifiedEvent(event_id, env, data, body, payload)

    def _reject(self, event_id: EventId, code: RejectCode, reason: str) -> Outcome:
        return Outcome(Verdict.REJECTED, event_id, code=code, reason=reason)

    def _check_chain(self, event_id: EventId, env: Envelope) -> Outcome | None:
        author = DeviceId(env.author)
        taken = self._positions.get((author, env.seq))
        if taken is not None and taken != event_id:
            return self._reject(
                event_id,
                RejectCode.EQUIVOCATION,
                f"a different event already holds position {env.seq}",
            )
        head_seq, head_id = self.heads.get(author, (0, None))
        if env.seq > head_seq + 1:
            return Outcome(
                Verdict.PENDING,
                event_id,
                waiting_for=f"{env.seq - head_seq - 1} earlier event(s) of its author",
            )
        if env.seq == head_seq + 1 and env.prev != head_id:
            return self._reject(
                event_id, RejectCode.CHAIN_BAD_PREV, "does not follow its author's previous event"
            )
        return None

    def _check_membership(self, event: VerifiedEvent) -> Outcome | None:
        m = self.membership
        payload = event.payload
        env = event.envelope
        if isinstance(payload, SpaceCreated):
            if m.genesis is not None or env.seq != 1 or event.body.deps:
                return self._reject(
                    event.event_id,
                    RejectCode.BAD_GENESIS,
                    "a space has exactly one genesis, written first",
                )
            return None
        if m.genesis is None:
            return Outcome(Verdict.PENDING, event.event_id, waiting_for="the space's genesis")
        if DeviceId(env.author) in m.devices:
            if isinstance(payload, InviteIssued) and InviteId(payload.invite_id) in m.invites:
                return self._reject(
                    event.event_id, RejectCode.INVITE_REUSED, "an invite with this id exists"
                )
            if isinstance(payload, MemberJoined):
                return self._reject(
                    event.event_id,
                    RejectCode.BAD_INVITE_PROOF,
                    "a device joins only once, with its first event",
                )
            return self._check_lifecycle(event)
        if isinstance(payload, MemberJoined) and env.seq == 1:
            return self._check_join(event, payload) or self._check_lifecycle(event)
        return self._reject(
            event.event_id, RejectCode.NOT_A_MEMBER, "its author is not a device any member invited"
        )

    def _check_lifecycle(self, event: VerifiedEvent) -> Outcome | None:
        refusal = self.membership.lifecycle.check(event, self.membership)
        if refusal is None:
            return None
        code, reason = refusal
        return self._reject(event.event_id, RejectCode(code), reason)

    def _check_join(self, event: VerifiedEvent, joined: MemberJoined) -> Outcome | None:
        invite = self.membership.invites.get(InviteId(joined.invite_id))
        if invite is None:
            return self._reject(
                event.event_id, RejectCode.BAD_INVITE_PROOF, "names an invite no member issued"
            )
        transcript = invite_proof_transcript(
            self.space_id, joined.invite_id, event.envelope.author, joined.box_key
        )
        if not crypto.verify_signature(invite.verify_key, transcript, joined.proof):
            return self._reject(
                event.event_id, RejectCode.BAD_INVITE_PROOF, "invite proof does not verify"
            )
        if invite.used_by is not None:
            return self._reject(
                event.event_id,
                RejectCode.INVITE_REUSED,
                "the invite was already used by another device",
            )
        if invite.kind == "member" and MemberId(joined.member_id) in self.membership.members:
            return self._reject(
                event.event_id, RejectCode.BAD_INVITE_PROOF, "a member invite must add a new member"
            )
        if invite.kind == "member" and len(self.membership.members) >= 2:
            # A space has exactly two partners for its whole life (§9.9): whatever the
            # relay lets through, a third member is never let in here.
            self._outsiders.add(DeviceId(event.envelope.author))
            return self._reject(
                event.event_id,
                RejectCode.THIRD_MEMBER,
                "a space has two partners; a third person cannot join",
            )
        return None

    def _record(self, event: VerifiedEvent, author: DeviceId) -> None:
        env = event.envelope
        self._lamports[event.event_id] = event.lamport
        self._positions[(author, env.seq)] = event.event_id
        self.heads[author] = (env.seq, event.event_id)
        m = self.membership
        payload = event.payload
        if isinstance(payload, SpaceCreated):
            m.genesis = event.event_id
            member_id = MemberId(payload.member_id)
            m.members[member_id] = Member(member_id, payload.name, event.event_id)
            m.devices[author] = Device(author, member_id, payload.box_key, event.event_id)
        elif isinstance(payload, InviteIssued):
            issuer = m.devices[author].member_id
            m.invites[InviteId(payload.invite_id)] = Invite(
                InviteId(payload.invite_id),
                payload.verify_key,
                payload.kind,
                issuer,
                for_member=None if payload.for_member is None else MemberId(payload.for_member),
            )
        elif isinstance(payload, MemberJoined):
            invite = m.invites[InviteId(payload.invite_id)]
            invite.used_by = author
            joins = invite.joins_member
            if joins is None:
                member_id = MemberId(payload.member_id)
                m.members[member_id] = Member(member_id, payload.name, event.event_id)
            else:
                member_id = joins
            m.devices[author] = Device(author, member_id, payload.box_key, event.event_id)
        m.lifecycle.record(event, m)
        if isinstance(payload, KeyRotated):
            self._learn_key(payload)

    def _learn_key(self, rotated: KeyRotated) -> None:
        mine = [k for k in rotated.sealed_keys if k.device_id == self._me]
        if not mine or self._open_sealed is None or rotated.epoch in self._space_keys:
            return
        try:
            self.add_epoch_key(rotated.epoch, self._open_sealed(mine[0].sealed))
        except crypto.CryptoError:
            # Sealed to us but unopenable: events of that epoch stay pending, visibly.
            return
