"""What the space's flows hand back: plain data, so no flow imports the facade for a
type (that import was one half of the ``space`` <-> ``devices`` <-> ``relocation``
cycle, issue #12)."""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from client.core.integrity import Finding
from client.core.session import PushRefused
from schemas.ids import DeviceId, MemberId, SpaceId


class PendingJoin(msgspec.Struct):
    """A redeemed invite whose ``member_joined`` event is not written yet: it must
    follow the partner's ``invite_issued`` event, which arrives with the first sync."""

    invite_id: bytes
    kind: str
    name: str
    member_id: bytes
    proof: bytes


_PendingJoin = PendingJoin
"""The name it had inside the facade; kept so older call sites read the same."""


@dataclass
class SyncReport:
    received: int = 0
    acknowledged: int = 0
    rejected: int = 0
    pending: int = 0
    refused: list[str] = field(default_factory=list)
    relay_behind: bool = False
    """The relay held less than this device had already read from it."""
    acked_ids: set[bytes] = field(default_factory=set)
    refusals: list[PushRefused] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeviceView:
    device_id: DeviceId
    this_device: bool


@dataclass(frozen=True, slots=True)
class MemberView:
    member_id: MemberId
    name: str
    devices: list[DeviceView]
    is_me: bool


@dataclass(frozen=True, slots=True)
class Status:
    relay: str
    space_id: SpaceId
    device_id: DeviceId
    members: list[MemberView]
    events: int
    outbox: int
    pending: int
    rejected: int
    last_sync_at: int | None
    joined: bool
    integrity: list[Finding] = field(default_factory=list)
    """The findings that stand (docs/PROTOCOL.md §9.6); empty when all is well."""
