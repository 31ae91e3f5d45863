"""Revocation, leaving and key rotation: the admission rules, sans-I/O (docs/PROTOCOL.md §5.5-§5.8).

Theory of operation. Every rule here is *causal*, never by wall clock or arrival order:
what an event may do depends on what its author had seen when it wrote it. What an
event E has seen is its **seen vector**: for its own author, E's seq; for every other
device, the highest seq among E's ``deps`` (an author's frontier names the newest event
it held of every other device, so the vector is exact for honest authors and only ever
too small for a dishonest one, which can only make its own event fail these rules).
An event at position (device, seq) *is in E's causal past* when seen(E)[device] >= seq.

The rules (each refusal is a stable RejectCode of client/core/verify.py):

1. **Cut-off.** A device's chain ends at its *cut-off*: ``last_seq`` of the
   ``device_revoked`` that removed it, or, when its member left, the seq of the
   ``member_left`` event (for the device that wrote it) or seen(member_left)[device]
   (for the member's other devices). Any event of that device with a higher seq is
   refused (``device_revoked``), whoever delivers it and whenever.
2. **Who revokes.** ``device_revoked`` names a device of the *author's own member*
   (``bad_revocation`` otherwise: partner A's device never revokes B's), and its
   ``last_seq`` is at least seen(R)[target]: a revocation cannot cut off events its
   author had already accepted.
3. **Who leaves.** ``member_left`` names the author's own member, once (``bad_leave``).
4. **Rotation.** ``key_rotated`` to epoch N is written under an older epoch, N is not
   taken by an earlier rotation, and its sealed keys go to *exactly* the devices active
   in its causal past: every device whose admitting event is in its past, minus those
   cut off by a revocation or a leave in its past (``bad_rotation``: omitting a
   remaining device or including a removed one).
5. **Epochs.** An event's epoch must be at least the epoch of every rotation in its
   causal past (``stale_epoch``). An event in an older epoch whose author had *not* seen
   the rotation (written offline, concurrently) is accepted: nothing is lost, and the
   removed device gains nothing it did not already hold, since that old key was its.
   An event in an epoch whose key this device lacks stays pending (verify.py).
6. **Rejoin.** An ``invite_issued`` of kind ``rejoin`` names ``for_member``: an existing
   member, other than the issuer's own, that has not left (``bad_rejoin``); no other
   kind names one. A device that joins through it becomes a device of ``for_member``
   (the partner who lost every device), and is refused if that member left before the
   join (``bad_leave``), as a device invite is when its issuer left.

Known limit (documented in docs/THREAT_MODEL.md): an event of a removed device above its
cut-off that a client accepted *before* the revocation reached it stays accepted there;
the revoking client first asks the relay to refuse the device and pulls everything, so
with an honest relay every such event is below ``last_seq``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from client.core.events import Device, Member, VerifiedEvent
from schemas.ids import DeviceId, EventId, InviteId, MemberId
from schemas.payloads import (
    DeviceRevoked,
    InviteIssued,
    KeyRotated,
    MemberJoined,
    MemberLeft,
    Payload,
    UnknownPayload,
)

DEVICE_REVOKED = "device_revoked"
BAD_REVOCATION = "bad_revocation"
BAD_LEAVE = "bad_leave"
BAD_ROTATION = "bad_rotation"
STALE_EPOCH = "stale_epoch"
BAD_REJOIN = "bad_rejoin"

Position = tuple[DeviceId, int]
Refusal = tuple[str, str]
"""(reject code, reason for people)."""


@dataclass(frozen=True, slots=True)
class CutOff:
    last_seq: int
    by: EventId
    """The device_revoked or member_left event that ended the chain."""
    reason: str


@dataclass
class Lifecycle:
    """What revocations, leaves and rotations established, by signed events only."""

    positions: dict[EventId, Position] = field(default_factory=dict)
    cut_offs: dict[DeviceId, CutOff] = field(default_factory=dict)
    left: dict[MemberId, EventId] = field(default_factory=dict)
    rotations: dict[int, Position] = field(default_factory=dict)
    """Epoch → position of the key_rotated event that started it."""
    rotation_seen: dict[int, dict[DeviceId, int]] = field(default_factory=dict)
    """Epoch → the seen vector of the key_rotated event that started it."""

    def seen(self, event: VerifiedEvent) -> dict[DeviceId, int]:
        vector: dict[DeviceId, int] = {}
        for dep in event.body.deps:
            position = self.positions.get(EventId(dep))
            if position is not None and vector.get(position[0], 0) < position[1]:
                vector[position[0]] = position[1]
        vector[event.author] = event.envelope.seq
        return vector

    def active(self, device_id: bytes) -> bool:
        return DeviceId(device_id) not in self.cut_offs

    # -- admission ------------------------------------------------------------------

    def check(self, event: VerifiedEvent, membership: Membership) -> Refusal | None:
        """Refuse ``event`` if a rule above forbids it; call only for member devices."""
        author = event.author
        cut = self.cut_offs.get(author)
        if cut is not None and event.envelope.seq > cut.last_seq:
            return DEVICE_REVOKED, f"its author's device was removed ({cut.reason})"
        seen = self.seen(event)
        for epoch, (device, seq) in self.rotations.items():
            if event.envelope.epoch < epoch and seen.get(device, 0) >= seq:
                return STALE_EPOCH, f"written in an old epoch after its author saw epoch {epoch}"
        payload = event.payload
        if isinstance(payload, DeviceRevoked):
            return self._check_revocation(event, payload, membership, seen)
        if isinstance(payload, MemberLeft):
            member = membership.member_of(author)
            if member is None or member.member_id != payload.member_id:
                return BAD_LEAVE, "a member can only leave for itself"
            if MemberId(payload.member_id) in self.left:
                return BAD_LEAVE, "this member already left"
            return None
        if isinstance(payload, KeyRotated):
            return self._check_rotation(event, payload, membership, seen)
        if isinstance(payload, InviteIssued):
            return self._check_invite(payload, membership, author)
        if isinstance(payload, MemberJoined):
            invite = membership.invites.get(InviteId(payload.invite_id))
            joins = None if invite is None else invite.joins_member
            if joins is not None and joins in self.left:
                return BAD_LEAVE, "joins as a device of a partner who left"
        return None

    def _check_invite(
        self, invite: InviteIssued, membership: Membership, author: DeviceId
    ) -> Refusal | None:
        if invite.kind != "rejoin":
            if invite.for_member is not None:
                return BAD_REJOIN, "only a rejoin invite names the partner it is for"
            return None
        if invite.for_member is None:
            return BAD_REJOIN, "a rejoin invite must name the partner it is for"
        target = MemberId(invite.for_member)
        issuer = membership.member_of(author)
        if target not in membership.members:
            return BAD_REJOIN, "a rejoin invite must be for a partner in the space"
        if issuer is None or issuer.member_id == target:
            return BAD_REJOIN, "a rejoin invite is for the other partner, not its issuer"
        if target in self.left:
            return BAD_REJOIN, "a rejoin invite cannot be for a partner who left"
        return None

    def _check_revocation(
        self,
        event: VerifiedEvent,
        revoked: DeviceRevoked,
        membership: Membership,
        seen: dict[DeviceId, int],
    ) -> Refusal | None:
        target = membership.devices.get(DeviceId(revoked.device_id))
        mine = membership.devices[event.author]
        if target is None:
            return BAD_REVOCATION, "names a device that is not in the space"
        if target.member_id != mine.member_id:
            return BAD_REVOCATION, "a device can only be removed by its own partner's devices"
        if revoked.last_seq < seen.get(target.device_id, 0):
            return BAD_REVOCATION, "would cut off events its author had already accepted"
        return None

    def _check_rotation(
        self,
        event: VerifiedEvent,
        rotated: KeyRotated,
        membership: Membership,
        seen: dict[DeviceId, int],
    ) -> Refusal | None:
        if rotated.epoch <= event.envelope.epoch:
            return BAD_ROTATION, "a rotation must start a newer epoch than it is written in"
        if rotated.epoch in self.rotations:
            return BAD_ROTATION, f"epoch {rotated.epoch} was already started"
        recipients = [DeviceId(k.device_id) for k in rotated.sealed_keys]
        if len(set(recipients)) != len(recipients):
            return BAD_ROTATION, "seals the key to one device twice"
        expected = self.active_in_past(membership, seen)
        if set(recipients) - expected:
            return BAD_ROTATION, "gives the new key to a device that was removed or unknown"
        if expected - set(recipients):
            return BAD_ROTATION, "leaves out a device that is still in the space"
        return None

    def active_in_past(self, membership: Membership, seen: dict[DeviceId, int]) -> set[DeviceId]:
        """Devices active in the causal past described by ``seen`` (rule 4)."""

        def in_past(event_id: EventId) -> bool:
            position = self.positions.get(event_id)
            return position is not None and seen.get(position[0], 0) >= position[1]

        return {
            device.device_id
            for device in membership.devices.values()
            if in_past(device.added_by)
            and not (
                device.device_id in self.cut_offs and in_past(self.cut_offs[device.device_id].by)
            )
        }

    # -- recording ------------------------------------------------------------------

    def record(self, event: VerifiedEvent, membership: Membership) -> None:
        """After acceptance (and after verify.py recorded membership changes)."""
        self.positions[event.event_id] = (event.author, event.envelope.seq)
        payload: Payload | UnknownPayload = event.payload
        if isinstance(payload, DeviceRevoked):
            self._cut(DeviceId(payload.device_id), payload.last_seq, event.event_id, "revoked")
        elif isinstance(payload, MemberLeft):
            member_id = MemberId(payload.member_id)
            self.left[member_id] = event.event_id
            seen = self.seen(event)
            for device in membership.devices.values():
                if device.member_id == member_id:
                    self._cut(
                        device.device_id,
                        seen.get(device.device_id, 0),
                        event.event_id,
                        "its partner left the space",
                    )
        elif isinstance(payload, KeyRotated):
            self.rotations[payload.epoch] = (event.author, event.envelope.seq)
            self.rotation_seen[payload.epoch] = self.seen(event)

    def unrotated(self) -> list[CutOff]:
        """Cut-offs that no rotation has followed yet: a removed device still holds the
        newest key, so a remaining device must rotate (client/space/devices.py)."""

        def followed(cut: CutOff) -> bool:
            author, seq = self.positions[cut.by]
            return any(seen.get(author, 0) >= seq for seen in self.rotation_seen.values())

        return [cut for cut in self.cut_offs.values() if not followed(cut)]

    def _cut(self, device_id: DeviceId, last_seq: int, by: EventId, reason: str) -> None:
        current = self.cut_offs.get(device_id)
        if current is None or last_seq < current.last_seq:
            self.cut_offs[device_id] = CutOff(last_seq, by, reason)


@dataclass
class Invite:
    invite_id: InviteId
    verify_key: bytes
    kind: str
    issuer_member: MemberId
    used_by: DeviceId | None = None
    for_member: MemberId | None = None
    """A rejoin invite's partner (membership_rules.py, rule 6)."""

    @property
    def joins_member(self) -> MemberId | None:
        """The existing member a device joining through this invite becomes, or None
        for a member invite (which adds a new member)."""
        if self.kind == "device":
            return self.issuer_member
        if self.kind == "rejoin":
            return self.for_member
        return None


@dataclass
class Membership:
    """Members and devices as established by signed events only."""

    genesis: EventId | None = None
    members: dict[MemberId, Member] = field(default_factory=dict)
    devices: dict[DeviceId, Device] = field(default_factory=dict)
    invites: dict[InviteId, Invite] = field(default_factory=dict)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    """Revocations, leaves and epochs (:class:`Lifecycle`, above)."""

    def member_of(self, device_id: bytes) -> Member | None:
        device = self.devices.get(DeviceId(device_id))
        return None if device is None else self.members.get(device.member_id)

    def is_active(self, device_id: bytes) -> bool:
        """A member device that was not revoked and whose partner did not leave."""
        return DeviceId(device_id) in self.devices and self.lifecycle.active(device_id)
