"""Formal-disclosure preparation (docs/PROTOCOL.md §5.15): the questions one partner
prepares, revised only by them, and each question's latest "answered" mark."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from client.core.verify import Membership, VerifiedEvent
from client.views.recovery.records import authored
from client.views.recovery.violations import PracticeViolation
from schemas.ids import EventId, MemberId
from schemas.intimacy import DisclosurePrepared, DisclosureQuestionsMarked


@dataclass(frozen=True, slots=True)
class Mark:
    answered: bool
    by: MemberId
    at: int
    disclosure: EventId | None


@dataclass
class PreparationView:
    id: EventId
    owner: MemberId
    current: DisclosurePrepared
    version_id: EventId
    recorded_at: int
    versions: list[EventId] = field(default_factory=list)
    marks: dict[EventId, dict[int, Mark]] = field(default_factory=dict)
    """Per version: each question's latest mark."""

    def mark_of(self, index: int) -> Mark | None:
        return self.marks.get(self.version_id, {}).get(index)


def fold_preparations(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> tuple[list[PreparationView], list[PracticeViolation]]:
    """Preparations for a formal disclosure. Only the partner who wrote one revises it;
    either partner marks its questions answered or not, and the latest mark of each
    question counts (both marks stay in the history)."""
    preps: dict[EventId, PreparationView] = {}
    of_version: dict[EventId, PreparationView] = {}
    violations: list[PracticeViolation] = []
    for event, member in authored(ordered, membership):
        p = event.payload
        who = member.member_id
        if isinstance(p, DisclosurePrepared):
            if p.revises is None:
                view = preps[event.event_id] = PreparationView(
                    event.event_id, who, p, event.event_id, event.body.recorded_at
                )
            else:
                found = of_version.get(EventId(p.revises))
                if found is None or found.owner != who:
                    code = "unknown_preparation" if found is None else "not_preparation_owner"
                    violations.append(
                        PracticeViolation(event.event_id, code, "revises a preparation it may not")
                    )
                    continue
                view = found
                view.current, view.version_id = p, event.event_id
                view.recorded_at = event.body.recorded_at
            view.versions.append(event.event_id)
            of_version[event.event_id] = view
        elif isinstance(p, DisclosureQuestionsMarked):
            target = of_version.get(EventId(p.preparation))
            if target is None:
                violations.append(
                    PracticeViolation(
                        event.event_id, "unknown_preparation", "marks an unknown preparation"
                    )
                )
                continue
            marks = target.marks.setdefault(EventId(p.preparation), {})
            disclosure = None if p.disclosure is None else EventId(p.disclosure)
            for m in p.marks:
                marks[m.index] = Mark(m.answered, who, event.body.recorded_at, disclosure)
    return list(preps.values()), violations
