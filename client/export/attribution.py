"""Who wrote each event of an export, derived as the apps derive it (docs/PROTOCOL.md
"Exports", "Attribution").

A device's own ``member_joined`` names a member and a name, but for a device invite (and
a rejoin invite) the apps ignore both and count the device as the member the invite
says (client/core/membership_rules.py, ``Invite.joins_member``). An export that took the
name from the
device's own event would let a device added by one partner appear as the other partner.
So an export carries, revealed, every signed fact the apps used: each device's first
event, the ``invite_issued`` it joined by, that invite's author's facts in turn, and for
a rejoin the first event of the member it rejoins; the verifier replays them with the
same rules and nothing else.

:func:`support` is the exporter's side (which events to reveal); :func:`attribute` the
verifier's (which member each device belongs to).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from client.core.verify import VerifiedEvent
from client.keys import crypto
from client.views.shown import shown
from schemas.envelope import Envelope
from schemas.http import invite_proof_transcript
from schemas.ids import DeviceId, EventId, MemberId, SpaceId
from schemas.payloads import InviteIssued, MemberJoined, Payload, SpaceCreated, UnknownPayload

MAX_MEMBERS = 2
"""A space has exactly two partners for its whole life (DESIGN, "Pairing")."""


def support(events: Sequence[VerifiedEvent], devices: Iterable[DeviceId]) -> set[EventId]:
    """The membership events that attribute ``devices``, as this device accepted them.

    Walks from each device's first event to the invite it joined by and that invite's
    author, until it reaches the genesis; ``events`` are the device's accepted events.
    """
    first: dict[DeviceId, VerifiedEvent] = {}
    invites: dict[bytes, VerifiedEvent] = {}
    founding: dict[MemberId, VerifiedEvent] = {}
    for e in events:
        p = e.payload
        if e.envelope.seq == 1:
            first.setdefault(e.author, e)
        if isinstance(p, InviteIssued):
            invites.setdefault(p.invite_id, e)
        if isinstance(p, SpaceCreated):
            founding.setdefault(MemberId(p.member_id), e)
        elif isinstance(p, MemberJoined) and e.envelope.seq == 1:
            invite = invites.get(p.invite_id)
            if invite is not None and _kind(invite) == "member":
                founding.setdefault(MemberId(p.member_id), e)
    needed: set[EventId] = set()
    pending = list(devices)
    done: set[DeviceId] = set()
    while pending:
        device = pending.pop()
        if device in done:
            continue
        done.add(device)
        joined = first.get(device)
        if joined is None:
            continue
        needed.add(joined.event_id)
        if not isinstance(joined.payload, MemberJoined):
            continue
        invite = invites.get(joined.payload.invite_id)
        if invite is None:
            continue
        needed.add(invite.event_id)
        pending.append(invite.author)
        rejoins = invite.payload.for_member if isinstance(invite.payload, InviteIssued) else None
        if rejoins is not None and MemberId(rejoins) in founding:
            member_event = founding[MemberId(rejoins)]
            needed.add(member_event.event_id)
            pending.append(member_event.author)
    return needed


def _kind(invite: VerifiedEvent) -> str | None:
    return invite.payload.kind if isinstance(invite.payload, InviteIssued) else None


@dataclass
class _Invite:
    kind: str
    issuer: MemberId
    for_member: MemberId | None
    verify_key: bytes
    used: bool = False
    issuer_device: DeviceId | None = None


@dataclass
class Attribution:
    """Members and devices as the revealed, signed membership events establish them."""

    names: dict[MemberId, str] = field(default_factory=dict)
    """Each member's name as they gave it when they joined (or started the space)."""
    devices: dict[DeviceId, MemberId] = field(default_factory=dict)
    invites: dict[bytes, _Invite] = field(default_factory=dict)
    genesis: bool = False
    vouched_by_other: set[DeviceId] = field(default_factory=set)
    """Devices whose place in their member rests on the *other* member's word: a device
    that joined through a rejoin invite (which the other partner issues), and every
    device added by a device invite of such a device. Honest ones exist (a partner who
    lost every device), but so can invented ones: an exporter can sign a rejoin invite
    for the partner and a device that redeems it, offline, with no relay to refuse it
    (docs/THREAT_MODEL.md §17.4). Such a device's consent never counts in an export."""

    def name_of(self, device: bytes) -> str | None:
        member = self.devices.get(DeviceId(device))
        return None if member is None else self.names.get(member)


def attribute(
    space_id: SpaceId, opened: Sequence[tuple[Envelope, Payload | UnknownPayload]]
) -> Attribution:
    """Replay the revealed events, in their causal order, with the apps' membership rules
    (docs/PROTOCOL.md §9.1 step 10, §5.3): only signed facts count, never a name a device
    gives itself when it joined as an existing member's device."""
    a = Attribution()
    for env, p in opened:
        author = DeviceId(env.author)
        if isinstance(p, SpaceCreated):
            if env.seq == 1 and not a.genesis:
                a.genesis = True
                a.names[MemberId(p.member_id)] = p.name
                a.devices[author] = MemberId(p.member_id)
        elif isinstance(p, InviteIssued):
            issuer = a.devices.get(author)
            if issuer is not None and p.invite_id not in a.invites:
                a.invites[p.invite_id] = _Invite(
                    p.kind,
                    issuer,
                    None if p.for_member is None else MemberId(p.for_member),
                    p.verify_key,
                    issuer_device=author,
                )
        elif isinstance(p, MemberJoined) and env.seq == 1 and author not in a.devices:
            member = _joins(a, space_id, env, p)
            if member is not None:
                a.devices[author] = member
    _tell_apart(a)
    return a


def _tell_apart(a: Attribution) -> None:
    """Two members who gave the same name (as shown: case, spacing and unshown
    characters aside) are told apart by their member ids, so "withdrawn by Alex" can
    never be the partner who joined under the exporter's name (docs/THREAT_MODEL.md
    §17.5). Names that differ are left exactly as written."""
    by_name: dict[str, list[MemberId]] = {}
    for member, name in a.names.items():
        by_name.setdefault(" ".join(shown(name).split()).casefold(), []).append(member)
    for members in by_name.values():
        if len(members) > 1:
            for member in members:
                a.names[member] = f"{a.names[member]} (member {member.hex()[:8]})"


def _joins(a: Attribution, space_id: SpaceId, env: Envelope, p: MemberJoined) -> MemberId | None:
    """The member a joining device belongs to, or None when the revealed facts do not
    establish one (no such invite, a proof that fails, a reused invite, a third member)."""
    invite = a.invites.get(p.invite_id)
    if invite is None or invite.used:
        return None
    transcript = invite_proof_transcript(space_id, p.invite_id, env.author, p.box_key)
    if not crypto.verify_signature(invite.verify_key, transcript, p.proof):
        return None
    if invite.kind == "device":
        member: MemberId | None = invite.issuer
        if invite.issuer_device in a.vouched_by_other:
            a.vouched_by_other.add(DeviceId(env.author))
    elif invite.kind == "rejoin":
        member = invite.for_member if invite.for_member in a.names else None
        if member is not None:
            a.vouched_by_other.add(DeviceId(env.author))
    elif invite.kind == "member":
        new = MemberId(p.member_id)
        if new in a.names or len(a.names) >= MAX_MEMBERS:
            return None
        a.names[new] = p.name
        member = new
    else:
        member = None
    if member is not None:
        invite.used = True
    return member
