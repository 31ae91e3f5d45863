"""Transparency windows, sans-I/O: when the next agreed time for a hard conversation is.

Part of :mod:`client.views.recovery` (import from there). Which windows are in force is the
agreements fold's business; this module does the calendar arithmetic, with the moment
passed in (``now_ms``), never read from the clock, and folds postponements.

A window recurs every week on ``weekday`` at ``time`` on the wall clock of its time
zone, ``tz`` (an IANA name such as ``Europe/London``, so the time stays put across
daylight saving), and lasts ``duration_min`` minutes. A window without ``tz``, or whose
zone this device does not know, uses the fixed offset ``utc_offset_min``. A local time
that does not exist on a given day (skipped at the start of daylight saving) is read
with the offset before the change, as Python's ``zoneinfo`` does (fold 0).

Either partner can postpone one occurrence once (``window_postponed``): the first
postponement of an occurrence in causal order stands (docs/PROTOCOL.md §10.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from client.core.verify import Membership, VerifiedEvent
from client.views.recovery.records import authored
from schemas.ids import EventId, MemberId
from schemas.practices import MAX_POSTPONE_MIN, AgreementProposed, Window, WindowPostponed

_MINUTE_MS = 60_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)

_WEEKDAYS = (
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
)


def window_zone(window: Window) -> tzinfo:
    """The window's wall clock: its named zone, or its fixed offset as a fallback."""
    if window.tz is not None:
        try:
            return ZoneInfo(window.tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # A zone unknown on this device: the offset written beside it stands.
    return timezone(timedelta(minutes=window.utc_offset_min))


def known_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time-zone name this device can use."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_MS


def _occurrences(window: Window, now_ms: int, weeks: range) -> list[int]:
    """Scheduled starts around ``now_ms``, ``weeks`` counted from the latest week whose
    weekday is at or before today (in the window's zone), in ascending order."""
    zone = window_zone(window)
    today = (_EPOCH + timedelta(milliseconds=now_ms)).astimezone(zone).date()
    last = today - timedelta(days=(today.weekday() - window.weekday) % 7)
    hours, minutes = (int(part) for part in window.time.split(":"))
    starts: list[int] = []
    for week in weeks:
        day: date = last + timedelta(weeks=week)
        local = datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone)
        starts.append(_to_ms(local))
    return starts


def window_start(window: Window, now_ms: int) -> int:
    """The start of the occurrence in progress at ``now_ms``, or else of the next one.

    In progress means ``start <= now_ms < start + duration``.
    """
    duration_ms = window.duration_min * _MINUTE_MS
    return next(s for s in _occurrences(window, now_ms, range(-1, 3)) if now_ms < s + duration_ms)


def next_window(windows: Iterable[Window], now_ms: int) -> tuple[Window, int] | None:
    """The window that comes soonest, with its start in ms since the epoch (UTC).

    A window in progress at ``now_ms`` counts with its current start, so it comes
    before any window that has not begun. Between windows starting at the same moment
    the first given wins. None when there are no windows.
    """
    soonest: tuple[Window, int] | None = None
    for window in windows:
        start = window_start(window, now_ms)
        if soonest is None or start < soonest[1]:
            soonest = (window, start)
    return soonest


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One coming (or current) occurrence of a window, after any postponement."""

    window_id: EventId
    window: Window
    start: int
    scheduled: int
    """The start as scheduled; differs from ``start`` when it was postponed."""
    postponed_by: MemberId | None = None


def next_occurrence(
    windows: Iterable[tuple[EventId, Window]],
    now_ms: int,
    moved: Mapping[tuple[EventId, int], Postponement],
) -> Occurrence | None:
    """The soonest occurrence of the windows in force (by version id), postponements
    applied; one in progress counts with its start. Ties go to the first given."""
    soonest: Occurrence | None = None
    for window_id, window in windows:
        duration_ms = window.duration_min * _MINUTE_MS
        # Two weeks back: a postponed occurrence moves at most a week later.
        for scheduled in _occurrences(window, now_ms, range(-2, 3)):
            postponement = moved.get((window_id, scheduled))
            start = postponement.to if postponement else scheduled
            if now_ms >= start + duration_ms:
                continue
            if soonest is None or start < soonest.start:
                soonest = Occurrence(
                    window_id,
                    window,
                    start,
                    scheduled,
                    postponement.by if postponement else None,
                )
    return soonest


def describe_window(window: Window) -> str:
    """A plain sentence: ``Sundays at 19:00 (Europe/London) for 60 minutes: finances``."""
    if window.tz is not None:
        where = window.tz
    else:
        sign = "+" if window.utc_offset_min >= 0 else "-"
        hours, minutes = divmod(abs(window.utc_offset_min), 60)
        where = f"UTC{sign}{hours:02d}:{minutes:02d}"
    text = (
        f"{_WEEKDAYS[window.weekday]} at {window.time} ({where}) for {window.duration_min} minutes"
    )
    topic = window.topic.strip()
    return f"{text}: {topic}" if topic else text


# --- postponing ------------------------------------------------------------------------


class PostponeCode(StrEnum):
    """Stable codes for a postponement that is not applied."""

    UNKNOWN_WINDOW = "unknown_window"
    ALREADY_POSTPONED = "window_already_postponed"
    POSTPONE_OUT_OF_RANGE = "postpone_out_of_range"


_POSTPONE_MESSAGES: Mapping[PostponeCode, str] = {
    PostponeCode.UNKNOWN_WINDOW: "postpones a window this log does not hold; not applied",
    PostponeCode.ALREADY_POSTPONED: "postpones a window time that was already postponed "
    "once; not applied (the first postponement stands)",
    PostponeCode.POSTPONE_OUT_OF_RANGE: "moves a window time earlier, or more than a week "
    "later; not applied",
}


@dataclass(frozen=True, slots=True)
class Postponement:
    event_id: EventId
    by: MemberId
    to: int
    note: str | None


@dataclass(frozen=True, slots=True)
class PostponeProblem:
    event_id: EventId
    code: str
    message: str


def fold_postponements(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> tuple[dict[tuple[EventId, int], Postponement], list[PostponeProblem]]:
    """Postponed occurrences, keyed by (window version id, scheduled start).

    A postponement applies when it names an earlier ``agreement_proposed`` of kind
    ``window``, moves the occurrence later by at most a week, and is the first for that
    occurrence in causal order (by either partner: once, not once each). Otherwise it
    is kept in the log, not applied, and reported.
    """
    windows: set[EventId] = set()
    moved: dict[tuple[EventId, int], Postponement] = {}
    problems: list[PostponeProblem] = []

    def refuse(event: VerifiedEvent, code: PostponeCode) -> None:
        problems.append(PostponeProblem(event.event_id, code.value, _POSTPONE_MESSAGES[code]))

    for event, member in authored(ordered, membership):
        payload = event.payload
        if isinstance(payload, AgreementProposed) and payload.kind == "window":
            windows.add(event.event_id)
        elif isinstance(payload, WindowPostponed):
            key = (EventId(payload.window), payload.occurrence)
            if key[0] not in windows:
                refuse(event, PostponeCode.UNKNOWN_WINDOW)
            elif not 0 < payload.to - payload.occurrence <= MAX_POSTPONE_MIN * _MINUTE_MS:
                refuse(event, PostponeCode.POSTPONE_OUT_OF_RANGE)
            elif key in moved:
                refuse(event, PostponeCode.ALREADY_POSTPONED)
            else:
                moved[key] = Postponement(
                    event.event_id, member.member_id, payload.to, payload.note
                )
    return moved, problems


def windows_in_force(agreements: Iterable[Any]) -> list[tuple[EventId, Window]]:
    """The windows agreed and in force, by their current version's id (the input of
    :func:`next_occurrence`); ``agreements`` are client.views.agreements.Agreement."""
    return [
        (a.current.id, a.current.window)
        for a in agreements
        if a.kind == "window" and a.status == "in_force" and a.current and a.current.window
    ]
