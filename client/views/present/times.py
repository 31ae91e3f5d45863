"""Times as people read them: ISO 8601 UTC in JSON, local time on screen, and calendar
dates (typed without a time) as the same date in every time zone (docs/PROTOCOL.md
§10.8). Every function here never raises, even for a signed time past year 9999."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(ms: int) -> str:
    """Never raises: a signed time may lie past the year 9999 that datetime can show
    (docs/PROTOCOL.md §9.8). It is then written as what it is, never as another date."""
    try:
        return (
            datetime.fromtimestamp(ms / 1000, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
    except (ValueError, OverflowError, OSError):
        return _beyond_calendar(ms)


_DAY_MS = 86_400_000
CALENDAR_NOON_MS = 43_200_000
"""A date typed without a time (``--when 2027-01-01``) is a calendar date, not a moment.
It is written as that date at 12:00:00.000 UTC and shown as the bare date, so it is the
same date in every time zone (docs/PROTOCOL.md §10.8)."""


def calendar_date_ms(day: str) -> int:
    """The moment that stands for the calendar date ``day`` (YYYY-MM-DD)."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return int(start.timestamp() * 1000) + CALENDAR_NOON_MS


def is_calendar_date(ms: int) -> bool:
    return ms % _DAY_MS == CALENDAR_NOON_MS


def local_time(ms: int) -> str:
    """Never raises, like :func:`iso_utc`. A calendar date shows as that date everywhere;
    a moment shows in this device's time zone."""
    try:
        if is_calendar_date(ms):
            return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")
        return datetime.fromtimestamp(ms / 1000).astimezone().strftime("%Y-%m-%d %H:%M")
    except (ValueError, OverflowError, OSError):
        return _beyond_calendar(ms)


def _beyond_calendar(ms: int) -> str:
    return f"{ms} ms after 1970-01-01 00:00 UTC"
