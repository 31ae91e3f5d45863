"""Plain records, sans-I/O: check-ins, milestones and gratitude notes.

Part of :mod:`client.views.recovery` (import from there). These practices have no rules
between events: each event is one record by the member who wrote it, shown in causal
order. :func:`authored` is the attribution every recovery fold shares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from client.core.verify import Member, Membership, VerifiedEvent
from schemas.ids import EventId, MemberId
from schemas.practices import CheckIn, DisclosureMade, GratitudeNoted, MilestoneMarked

FORMAL_DISCLOSURE_TITLE = "Formal disclosure"
"""What a formal-disclosure milestone reads as: it carries no content of its own."""


def authored(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> Iterable[tuple[VerifiedEvent, Member]]:
    """The events written by member devices, with the member who wrote each."""
    for event in ordered:
        member = membership.member_of(event.author)
        if member is not None:
            yield event, member


@dataclass
class CheckInView:
    """A FANOS check-in: feelings, affirmation, needs (not necessarily met by the
    partner), ownership (something I said or did, with an apology), struggles and
    self-care (the S, stored as ``sobriety``); and mood. Nothing in it asks for an
    answer."""

    id: EventId
    author: MemberId
    feelings: str | None
    affirmation: str | None
    needs: str | None
    ownership: str | None
    sobriety: str | None
    mood: int | None
    recorded_at: int
    occurred_at: int


def fold_checkins(ordered: Iterable[VerifiedEvent], membership: Membership) -> list[CheckInView]:
    """Check-ins by either partner, in causal order."""
    return [
        CheckInView(
            id=event.event_id,
            author=member.member_id,
            feelings=p.feelings,
            affirmation=p.affirmation,
            needs=p.needs,
            ownership=p.ownership,
            sobriety=p.sobriety,
            mood=p.mood,
            recorded_at=event.body.recorded_at,
            occurred_at=event.body.occurred_at,
        )
        for event, member in authored(ordered, membership)
        if isinstance(p := event.payload, CheckIn)
    ]


@dataclass
class MilestoneView:
    id: EventId
    author: MemberId
    title: str
    note: str | None
    occurred_at: int
    recorded_at: int
    kind: str = "milestone"
    """``milestone`` or ``formal_disclosure`` (a date, with no content)."""


def fold_milestones(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> list[MilestoneView]:
    """Milestones by either partner, in causal order.

    A formal disclosure is a milestone without content: a ``milestone`` of kind
    ``formal_disclosure``, and also a ``disclosure`` of kind ``formal_disclosure``
    written before this rule, are shown as "Formal disclosure" on their date, with no
    title, summary, details or note of their own (the words stay in the history).
    """
    milestones: list[MilestoneView] = []
    for event, member in authored(ordered, membership):
        p = event.payload
        formal = (isinstance(p, MilestoneMarked) and p.kind == "formal_disclosure") or (
            isinstance(p, DisclosureMade) and p.kind == "formal_disclosure"
        )
        if formal:
            title, note, kind = FORMAL_DISCLOSURE_TITLE, None, "formal_disclosure"
        elif isinstance(p, MilestoneMarked):
            title, note, kind = p.title, p.note, "milestone"
        else:
            continue
        milestones.append(
            MilestoneView(
                id=event.event_id,
                author=member.member_id,
                title=title,
                note=note,
                occurred_at=event.body.occurred_at,
                recorded_at=event.body.recorded_at,
                kind=kind,
            )
        )
    return milestones


@dataclass
class GratitudeView:
    id: EventId
    author: MemberId
    text: str
    occurred_at: int
    recorded_at: int


def fold_gratitude(ordered: Iterable[VerifiedEvent], membership: Membership) -> list[GratitudeView]:
    """Gratitude notes by either partner, in causal order."""
    return [
        GratitudeView(
            id=event.event_id,
            author=member.member_id,
            text=p.text,
            occurred_at=event.body.occurred_at,
            recorded_at=event.body.recorded_at,
        )
        for event, member in authored(ordered, membership)
        if isinstance(p := event.payload, GratitudeNoted)
    ]
