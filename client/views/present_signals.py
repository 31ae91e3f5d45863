"""Safety signals in words, and the one rule for a time-out's return time, shared by
the CLI (``trellis signal``, ``trellis signals``) and the local app (client/app).

A signal is words a person reads when they are upset: short, plain, never blaming.
The partner is never told a time-out is "late" (SignalView.return_due_for).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from client.errors import ClientErrorCode, TrellisError
from client.views.present import local_time
from client.views.recovery import SignalView, active_signals
from schemas.ids import MemberId
from schemas.practices import TIMEOUT_DEFAULT_MIN, TIMEOUT_MAX_MIN

MINUTE_MS = 60_000
SIGNAL_NAMES = {"pause": "time-out", "slow": "slow down", "stop": "stop"}
"""What each level is called wherever a person reads it."""


def timeout_return_ms(
    sent_ms: int, *, minutes: float | None = None, until_ms: int | None = None
) -> int:
    """A time-out's return: ``until_ms``, else ``minutes`` from ``sent_ms`` (default
    :data:`TIMEOUT_DEFAULT_MIN`); later than now and at most 24 hours away."""
    if until_ms is not None and minutes is not None:
        raise TrellisError(
            "Give a return time or a number of minutes, not both.",
            code=ClientErrorCode.USAGE,
        )
    if until_ms is not None:
        back_ms = until_ms
        minutes_away = (back_ms - sent_ms) / MINUTE_MS
    else:
        minutes_away = TIMEOUT_DEFAULT_MIN if minutes is None else minutes
        back_ms = sent_ms + int(minutes_away * MINUTE_MS)
    if minutes_away <= 0:
        raise TrellisError(
            "That return time has already passed; give one later than now.",
            code=ClientErrorCode.USAGE,
        )
    if minutes_away > TIMEOUT_MAX_MIN:
        raise TrellisError(
            "A time-out comes back between a few minutes and 24 hours from now (you can "
            "always come back and ask for more time).",
            code=ClientErrorCode.USAGE,
        )
    return back_ms


def signal_given_sentence(level: str, until: int | None) -> str:
    """What the sender reads after giving a signal ("given", never "sent": whether the
    partner can have it yet is said next, by present.delivery_sentence)."""
    if level == "pause":
        if until is None:
            return "Time-out given."
        return (
            "Time-out given. Coming back is yours to do, even just to ask for more time: "
            f"you will be reminded at {local_time(until)}."
        )
    if level == "slow":
        return "Slow-down given."
    return "Stop given. A stop owes no return."


def partner_signal_sentence(who: str, level: str, until: int | None) -> str:
    """The banner the partner sees on every page while a signal is active."""
    if level == "pause":
        back = f", back around {local_time(until)}" if until else ""
        return f"{who} asked for a time-out{back}."
    if level == "slow":
        return f"{who} asked to slow down."
    return f"{who} asked to stop. A stop owes no return."


RETURN_DUE = (
    "Your time-out's return is due. Come back when you can, even just to ask for more time."
)


@dataclass(frozen=True)
class SignalRow:
    """One active signal as a page lists it (the app's Today and Signals screens)."""

    id: str
    """The signal's event id in hex (what a clear names)."""
    who: str
    mine: bool
    name: str
    """The level in words (:data:`SIGNAL_NAMES`)."""
    level: str
    until: int | None
    words: str | None
    """The preset's text or the sender's own note."""
    due: bool
    """The sender's reminder that the time-out's return is due (never the partner's)."""


def signal_rows(
    signals: Iterable[SignalView],
    name_of: Callable[[bytes], str],
    me: MemberId | None,
    now_ms: int,
) -> list[SignalRow]:
    """The active signals among ``signals``, as rows for ``me`` at ``now_ms``: one
    builder, so Today and Signals cannot come to say a signal differently."""
    return [
        SignalRow(
            id=s.id.hex(),
            who=name_of(s.sender),
            mine=s.sender == me,
            name=SIGNAL_NAMES.get(s.level, s.level),
            level=s.level,
            until=s.until,
            words=s.preset_text or s.note,
            due=s.return_due_for(me, now_ms),
        )
        for s in active_signals(signals)
    ]
