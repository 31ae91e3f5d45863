"""Safety signals: a time-out, "slow down" or "stop", cleared only by its sender
(docs/PROTOCOL.md §10.4). Part of :mod:`client.views.recovery` (import from there)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from client.core.verify import Membership, VerifiedEvent
from client.views.recovery.records import authored
from client.views.recovery.violations import PracticeViolation, ViolationCode
from schemas.ids import EventId, MemberId
from schemas.practices import (
    SIGNAL_PRESETS,
    TIMEOUT_DEFAULT_MIN,
    TIMEOUT_MAX_MIN,
    SignalCleared,
    SignalSent,
)

_MINUTE_MS = 60_000


@dataclass
class SignalView:
    id: EventId
    sender: MemberId
    level: str
    until: int | None
    """When a time-out (``pause``) returns (ms since the epoch): as written, else
    ``sent_at`` + 20 minutes, never more than 24 hours after ``sent_at``. Always None
    for ``stop``, which owes no return."""
    note: str | None
    sent_at: int
    """The signal's ``recorded_at``."""
    cleared_at: int | None = None
    """The clearing event's ``recorded_at``."""
    cleared_by_event: EventId | None = None
    preset: str | None = None
    """A preset note's key (:data:`schemas.practices.SIGNAL_PRESETS`)."""

    @property
    def active(self) -> bool:
        """Not cleared. A signal stays active past its return time until its sender
        clears it: the time is a plan to talk again, not an automatic end."""
        return self.cleared_by_event is None

    @property
    def preset_text(self) -> str | None:
        return SIGNAL_PRESETS.get(self.preset) if self.preset else None

    def return_due_for(self, member: MemberId | None, now_ms: int) -> bool:
        """Whether ``member`` should be reminded that this time-out's return is due.

        Only the sender is ever reminded, and only while the signal is active: the
        return is theirs to make (even just to ask for more time); the partner is
        never told that it is "late"."""
        return (
            member == self.sender
            and self.active
            and self.until is not None
            and now_ms >= self.until
        )


def _return_time(payload: SignalSent, sent_at: int) -> int | None:
    """A time-out's return: as written, by default 20 minutes, at most 24 hours."""
    if payload.level == "stop":
        return None
    if payload.level != "pause":
        return payload.until
    latest = sent_at + TIMEOUT_MAX_MIN * _MINUTE_MS
    if payload.until is None:
        return sent_at + TIMEOUT_DEFAULT_MIN * _MINUTE_MS
    return min(payload.until, latest)


def fold_signals(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> tuple[list[SignalView], list[PracticeViolation]]:
    """Signals in causal order, with when and by which event each was cleared.

    A time-out (``pause``) has a return time (:func:`_return_time`); a ``stop`` has
    none, whatever its ``until`` says: a stop owes no return.

    Only the member who sent a signal clears it, from any of their devices. A clear by
    the other member is not applied and is reported (``clear_by_other_member``), as is
    a clear of an event that is not a signal folded earlier (``unknown_signal``).
    Clearing a signal that is already cleared changes nothing and is not a violation:
    the first clear stands (a retry from another device is harmless).
    """
    signals: dict[EventId, SignalView] = {}
    violations: list[PracticeViolation] = []
    for event, member in authored(ordered, membership):
        payload = event.payload
        if isinstance(payload, SignalSent):
            signals[event.event_id] = SignalView(
                id=event.event_id,
                sender=member.member_id,
                level=payload.level,
                until=_return_time(payload, event.body.recorded_at),
                note=payload.note,
                sent_at=event.body.recorded_at,
                preset=payload.preset,
            )
        elif isinstance(payload, SignalCleared):
            signal = signals.get(EventId(payload.signal))
            if signal is None:
                violations.append(
                    PracticeViolation(
                        event.event_id,
                        ViolationCode.UNKNOWN_SIGNAL,
                        "clears a signal this log does not hold; not applied",
                    )
                )
            elif signal.sender != member.member_id:
                violations.append(
                    PracticeViolation(
                        event.event_id,
                        ViolationCode.CLEAR_BY_OTHER_MEMBER,
                        "a signal is cleared by the person who sent it; not applied",
                    )
                )
            elif signal.cleared_by_event is None:
                signal.cleared_at = event.body.recorded_at
                signal.cleared_by_event = event.event_id
    return list(signals.values()), violations


def active_signals(signals: Iterable[SignalView]) -> list[SignalView]:
    """The signals not yet cleared, in the order given."""
    return [s for s in signals if s.active]
