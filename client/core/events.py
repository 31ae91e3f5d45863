"""The records admission produces: a member, a device, an accepted event (docs/PROTOCOL.md §9).

They live apart from the verifier (client/core/verify.py) and the lifecycle rules
(client/core/membership_rules.py) because both use them: with the types here, neither of
those two modules imports the other's, and the dependency points one way
(``events`` <- ``membership_rules`` <- ``verify``). Imports ``schemas`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from schemas.envelope import Envelope
from schemas.ids import DeviceId, EventId, MemberId
from schemas.payloads import EventBody, Payload, UnknownPayload


@dataclass(frozen=True, slots=True)
class Device:
    device_id: DeviceId
    member_id: MemberId
    box_key: bytes
    added_by: EventId


@dataclass(frozen=True, slots=True)
class Member:
    member_id: MemberId
    name: str
    joined_by: EventId


class VerifiedEvent(msgspec.Struct, frozen=True, gc=False):
    """An accepted event with its decrypted body; the unit the fold works on.

    A device holds one of these per event of its space, so ``gc=False`` (it never takes
    part in a reference cycle): Python's cycle collector walking them, with their
    bodies and payloads, took ~16% of a 100,000-event catch-up (bench/catchup.py)."""

    event_id: EventId
    envelope: Envelope
    canonical: bytes
    body: EventBody
    payload: Payload | UnknownPayload

    @property
    def author(self) -> DeviceId:
        return DeviceId(self.envelope.author)

    @property
    def lamport(self) -> int:
        return self.body.lamport
