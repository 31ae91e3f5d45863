"""Personal boundaries (docs/PROTOCOL.md §5.14): what each partner will do, versioned by
its owner, acknowledged by the other; a withdrawn boundary stays in the history."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from client.core.verify import Membership, VerifiedEvent
from client.views.recovery.records import authored
from client.views.recovery.violations import PracticeViolation
from schemas.ids import EventId, MemberId
from schemas.intimacy import BoundaryAcknowledged, BoundarySet, BoundaryWithdrawn

_REQUEST_OPENINGS = ("you must", "you will", "you have to", "you need to", "you should")


@dataclass
class BoundaryVersion:
    id: EventId
    payload: BoundarySet
    recorded_at: int
    acknowledged_by: dict[MemberId, int] = field(default_factory=dict)


@dataclass
class BoundaryView:
    id: EventId
    owner: MemberId
    versions: list[BoundaryVersion] = field(default_factory=list)
    withdrawn_at: int | None = None

    @property
    def current(self) -> BoundaryVersion:
        return self.versions[-1]

    @property
    def request_like(self) -> bool:
        return looks_like_request(self.current.payload.i_will)


def looks_like_request(text: str) -> bool:
    """A boundary says what its owner will do; "You must..." reads as a demand on the
    partner, and the views gently point that out (§5.14)."""
    return _as_read(text).startswith(_REQUEST_OPENINGS)


def _as_read(text: str) -> str:
    """The words as a reader takes them: compatibility forms folded, case folded, any
    run of spaces (no-break ones too) as one, and a leading quote, bullet or other mark
    dropped, so '"YOU  must' reads like "you must" (THREAT_MODEL §23.8)."""
    words = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return re.sub(r"^\W+", "", words)


def fold_boundaries(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> tuple[list[BoundaryView], list[PracticeViolation]]:
    """Boundaries with every version; only the owner revises or withdraws one, only the
    other partner acknowledges reading it. A withdrawn boundary stays in the history."""
    boundaries: dict[EventId, BoundaryView] = {}
    of_version: dict[EventId, tuple[BoundaryView, BoundaryVersion]] = {}
    violations: list[PracticeViolation] = []

    def flag(event: VerifiedEvent, code: str, message: str) -> None:
        violations.append(PracticeViolation(event.event_id, code, message))

    for event, member in authored(ordered, membership):
        p = event.payload
        who = member.member_id
        if isinstance(p, BoundarySet):
            if p.revises is None:
                view = boundaries[event.event_id] = BoundaryView(event.event_id, who)
            else:
                found = of_version.get(EventId(p.revises))
                if found is None:
                    flag(event, "unknown_boundary", "revises a boundary that is not here")
                    continue
                view = found[0]
                if view.owner != who:
                    flag(event, "not_boundary_owner", "revises the partner's boundary")
                    continue
                view.withdrawn_at = None
            version = BoundaryVersion(event.event_id, p, event.body.recorded_at)
            view.versions.append(version)
            of_version[event.event_id] = (view, version)
        elif isinstance(p, BoundaryWithdrawn | BoundaryAcknowledged):
            found = of_version.get(EventId(p.version))
            if found is None:
                flag(event, "unknown_boundary", "refers to a boundary that is not here")
                continue
            view, version = found
            if isinstance(p, BoundaryWithdrawn):
                if view.owner != who:
                    flag(event, "not_boundary_owner", "withdraws the partner's boundary")
                    continue
                view.withdrawn_at = event.body.recorded_at
            elif view.owner == who:
                flag(event, "acknowledge_own_boundary", "acknowledges the author's own boundary")
            else:
                version.acknowledged_by.setdefault(who, event.body.recorded_at)
    return list(boundaries.values()), violations
