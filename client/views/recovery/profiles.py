"""Profiles: every member's name and whether they are in recovery (docs/PROTOCOL.md §10).
Part of :mod:`client.views.recovery` (import from there)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from client.core.verify import Membership, VerifiedEvent
from client.views.recovery.records import authored
from schemas.ids import MemberId
from schemas.payloads import MemberJoined, SpaceCreated
from schemas.practices import ProfileUpdated


@dataclass
class Profile:
    member_id: MemberId
    name: str
    in_recovery: bool


def fold_profiles(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> dict[MemberId, Profile]:
    """Every member's name and role, as of the end of ``ordered``.

    A profile starts from the member's joining event (``space_created`` for the creator,
    the ``member_joined`` that added them for the partner; a device joining later does
    not change it). Then each ``profile_updated`` written by that member, from any of
    their devices, sets the fields it carries (None leaves a field as it was); the last
    in causal order wins. An update describes its author only: no one can rename their
    partner. A member whose joining event is not in ``ordered`` keeps the name that
    admission recorded and is not in recovery unless they said so.
    """
    profiles: dict[MemberId, Profile] = {}
    for event, member in authored(ordered, membership):
        payload = event.payload
        if isinstance(payload, SpaceCreated | MemberJoined):
            if event.event_id == member.joined_by:
                profiles[member.member_id] = Profile(
                    member.member_id, payload.name, payload.in_recovery
                )
        elif isinstance(payload, ProfileUpdated):
            profile = profiles.setdefault(
                member.member_id, Profile(member.member_id, member.name, False)
            )
            if payload.name is not None:
                profile.name = payload.name
            if payload.in_recovery is not None:
                profile.in_recovery = payload.in_recovery
    for member_id, member in membership.members.items():
        profiles.setdefault(member_id, Profile(member_id, member.name, False))
    return profiles
