"""Shared intimacy check-ins (docs/PROTOCOL.md §5.12): comfort, desire, arousal and
fatigue as each partner wrote them. No averages, no comparisons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from client.core.verify import Membership, VerifiedEvent
from client.views.recovery.records import authored
from schemas.ids import EventId, MemberId
from schemas.intimacy import IntimacyCheckIn


@dataclass(frozen=True, slots=True)
class IntimacyCheckInView:
    id: EventId
    author: MemberId
    recorded_at: int
    comfort: int | None
    desire: str | None
    arousal: int | None
    fatigue: int | None
    note: str | None


def checkin_view(event: VerifiedEvent, author: MemberId, p: IntimacyCheckIn) -> IntimacyCheckInView:
    return IntimacyCheckInView(
        event.event_id,
        author,
        event.body.recorded_at,
        p.comfort,
        p.desire,
        p.arousal,
        p.fatigue,
        p.note,
    )


def fold_intimacy_checkins(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> list[IntimacyCheckInView]:
    """Shared intimacy check-ins, in causal order. No averages, no comparisons."""
    return [
        checkin_view(event, member.member_id, event.payload)
        for event, member in authored(ordered, membership)
        if isinstance(event.payload, IntimacyCheckIn)
    ]
