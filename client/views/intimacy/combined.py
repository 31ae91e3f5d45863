"""Every intimacy view folded at once, with the violations of all of them for
``trellis verify`` (a private note found in the shared space among them, §5.16)."""

from __future__ import annotations

from dataclasses import dataclass

from client.core.verify import Membership, VerifiedEvent
from client.views.intimacy.boundaries import BoundaryView, fold_boundaries
from client.views.intimacy.checkins import IntimacyCheckInView, fold_intimacy_checkins
from client.views.intimacy.language import TermView, fold_language
from client.views.intimacy.pacing import PacingView, fold_pacing
from client.views.intimacy.preparations import PreparationView, fold_preparations
from client.views.recovery.violations import PracticeViolation
from schemas.ids import EventId
from schemas.intimacy import PrivateNote, PrivateNoteDeleted, PrivateNoteShared


@dataclass
class IntimacyViews:
    pacing: PacingView
    checkins: list[IntimacyCheckInView]
    language: list[TermView]
    boundaries: list[BoundaryView]
    preparations: list[PreparationView]
    violations: list[PracticeViolation]
    without_effect: set[EventId]
    """Honest events that changed nothing (PROTOCOL §10.5), beside the violations."""


def build_intimacy_views(ordered: list[VerifiedEvent], membership: Membership) -> IntimacyViews:
    pacing = fold_pacing(ordered, membership)
    language, language_violations = fold_language(ordered, membership)
    boundaries, boundary_violations = fold_boundaries(ordered, membership)
    preparations, preparation_violations = fold_preparations(ordered, membership)
    # A private note belongs in its writer's private space (§5.16): one in the shared
    # space is never shown, and verify says so.
    misplaced = [
        PracticeViolation(
            e.event_id,
            "private_note_in_shared_space",
            "a private-space record was written to the shared space; it is not shown",
        )
        for e in ordered
        if isinstance(e.payload, PrivateNote | PrivateNoteShared | PrivateNoteDeleted)
    ]
    return IntimacyViews(
        pacing=pacing,
        checkins=fold_intimacy_checkins(ordered, membership),
        language=language,
        boundaries=boundaries,
        preparations=preparations,
        violations=[
            *pacing.violations,
            *language_violations,
            *boundary_violations,
            *preparation_violations,
            *misplaced,
        ],
        without_effect=set(pacing.without_effect),
    )
