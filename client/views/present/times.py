"""Times as people read them: ISO 8601 UTC in JSON, local time on screen, and calendar
dates (typed without a time) as the same date in every time zone (docs/PROTOCOL.md
§10.8). Every function here never raises, even for a signed time past year 9999."""

from __future__ import annotations

from datetime import UTC, datetime

from client.views.moments import CALENDAR_NOON_MS as CALENDAR_NOON_MS  # their home was here
from client.views.moments import as_moment as as_moment
from client.views.moments import calendar_date_ms as calendar_date_ms
from client.views.moments import is_calendar_date as is_calendar_date


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
