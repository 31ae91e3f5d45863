"""Timeline sentences for the intimacy practices (docs/PROTOCOL.md §5.11-§5.16).

Apart from client/views/present_intimacy.py so that client/views/present/ can use it without an
import cycle. A step back reads as a move, never as a failure."""

from __future__ import annotations

from schemas.intimacy import (
    BoundaryAcknowledged,
    BoundarySet,
    BoundaryWithdrawn,
    DisclosurePrepared,
    DisclosureQuestionsMarked,
    IntimacyCheckIn,
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingSteppedBack,
    PrivateNote,
    PrivateNoteDeleted,
    PrivateNoteShared,
    TermAccepted,
    TermProposed,
    TermWithdrawn,
)

# --- timeline --------------------------------------------------------------------


def intimacy_summary(p: object, who: str) -> str | None:
    """A sentence for the timeline, or None when ``p`` is not an intimacy payload."""
    match p:
        case PacingPlanProposed():
            return f"{who} proposed a pacing plan of {len(p.stages)} stages"
        case PacingPlanAccepted():
            return f"{who} accepted the pacing plan"
        case PacingForwardProposed():
            return f"{who} offered to move forward to stage {p.from_stage + 2}"
        case PacingForwardAccepted():
            return f"{who} agreed to move forward"
        case PacingForwardDeclined():
            return f"{who} chose not to move forward now"
        case PacingSteppedBack():
            return f"{who} stepped back to stage {p.to_stage + 1}"
        case IntimacyCheckIn():
            return f"{who} shared an intimacy check-in"
        case TermProposed():
            return f"{who} proposed a word for the shared language: '{p.term}'"
        case TermAccepted():
            return f"{who} accepted a word of the shared language"
        case TermWithdrawn():
            return f"{who} withdrew a word of the shared language"
        case BoundarySet():
            return f"{who} stated a personal boundary"
        case BoundaryWithdrawn():
            return f"{who} withdrew a personal boundary"
        case BoundaryAcknowledged():
            return f"{who} read a personal boundary"
        case DisclosurePrepared():
            return f"{who} prepared for a formal disclosure"
        case DisclosureQuestionsMarked():
            return f"{who} marked disclosure questions answered or not"
        case PrivateNote() | PrivateNoteShared() | PrivateNoteDeleted():
            return f"{who} wrote a private-space record here by mistake (not shown)"
    return None
