"""Transparency windows, sans-I/O: when the next agreed time for a hard conversation is.

Part of :mod:`client.recovery` (import from there). Which windows are in force is the
agreements fold's business; this module only does the calendar arithmetic, with the
moment passed in (``now_ms``), never read from the clock.

A window recurs every week on ``weekday`` at ``time`` on the wall clock of the fixed
offset ``utc_offset_min`` (no daylight-saving rules: the offset is part of what the
partners agreed), and lasts ``duration_min`` minutes.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.practices import Window

_MINUTE_MS = 60_000
_DAY_MS = 24 * 60 * _MINUTE_MS
_WEEK_MS = 7 * _DAY_MS
_EPOCH_WEEKDAY = 3
"""1970-01-01 was a Thursday (Monday is 0, as in :class:`Window`)."""

_WEEKDAYS = (
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
)


def _minutes_into_day(window: Window) -> int:
    hours, minutes = window.time.split(":")
    return int(hours) * 60 + int(minutes)


def _latest_start(window: Window, now_ms: int) -> int:
    """The latest start of ``window`` at or before ``now_ms`` (both ms since the epoch)."""
    offset_ms = window.utc_offset_min * _MINUTE_MS
    local_now = now_ms + offset_ms
    local_day = local_now // _DAY_MS  # floor division: correct before 1970 as well
    weekday = (local_day + _EPOCH_WEEKDAY) % 7
    days_back = (weekday - window.weekday) % 7
    start_local = (local_day - days_back) * _DAY_MS + _minutes_into_day(window) * _MINUTE_MS
    if start_local > local_now:  # today is the day, but later on
        start_local -= _WEEK_MS
    return start_local - offset_ms


def window_start(window: Window, now_ms: int) -> int:
    """The start of the occurrence in progress at ``now_ms``, or else of the next one.

    In progress means ``start <= now_ms < start + duration``.
    """
    start = _latest_start(window, now_ms)
    if now_ms < start + window.duration_min * _MINUTE_MS:
        return start
    return start + _WEEK_MS


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


def describe_window(window: Window) -> str:
    """A plain sentence: ``Sundays at 19:00 (UTC+01:00) for 60 minutes: finances``."""
    sign = "+" if window.utc_offset_min >= 0 else "-"
    hours, minutes = divmod(abs(window.utc_offset_min), 60)
    text = (
        f"{_WEEKDAYS[window.weekday]} at {window.time} "
        f"(UTC{sign}{hours:02d}:{minutes:02d}) for {window.duration_min} minutes"
    )
    topic = window.topic.strip()
    return f"{text}: {topic}" if topic else text
