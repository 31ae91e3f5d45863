"""What a finding is: a stable code, warning or proof, a sentence for people, and the
events involved (docs/PROTOCOL.md §9.6); and the few words every finding shares."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    WARNING = "warning"
    """May be innocent or passing; clears when the missing data arrives."""
    PROOF = "proof"
    """Evidence that stays."""


class FindingCode(StrEnum):
    """Stable codes (docs/PROTOCOL.md §9.6); a code never changes meaning."""

    WITHHELD_EVENTS = "withheld_events"
    ROLLBACK = "rollback"
    SPLIT_VIEW = "split_view"
    EQUIVOCATION = "equivocation"
    FORGED_EVENT = "forged_event"
    INVALID_EVENT = "invalid_event"
    REPLAY = "replay"


@dataclass(frozen=True, slots=True)
class Finding:
    code: FindingCode
    severity: Severity
    message: str
    events: tuple[str, ...] = ()
    """Lowercase hex event ids (for bytes that are not an envelope, their BLAKE2b-256)."""

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "message": self.message,
            "events": list(self.events),
        }


def unique(items: Iterable[str]) -> list[str]:
    """``items`` without repeats, in first-seen order (so findings list ids stably)."""
    return list(dict.fromkeys(items))


def count_events(n: int) -> str:
    return "one event" if n == 1 else f"{n} events"


def count_positions(n: int) -> str:
    return "position" if n == 1 else "positions"
