"""What a recovery or intimacy practice reports about an event it kept but did not apply:
a stable snake_case code for ``trellis verify`` and a plain sentence (docs/PROTOCOL.md
§10). Part of :mod:`client.views.recovery` (import from there)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from schemas.ids import EventId


class ViolationCode(StrEnum):
    """Stable codes for an event that breaks a rule of its practice."""

    ACKNOWLEDGE_OWN_DISCLOSURE = "acknowledge_own_disclosure"
    UNKNOWN_DISCLOSURE = "unknown_disclosure"
    SLIP_REPORT_ON_OTHER_KIND = "slip_report_on_other_kind"
    OUTER_CIRCLE_SLIP = "outer_circle_slip"
    CLEAR_BY_OTHER_MEMBER = "clear_by_other_member"
    UNKNOWN_SIGNAL = "unknown_signal"


@dataclass(frozen=True)
class PracticeViolation:
    """An event kept in the log whose effect the fold did not apply (or, for a slip
    report on another kind, applied as written and flagged)."""

    event_id: EventId
    code: str
    message: str
