"""A moment with a time, in the reader's zone and, when its clock differs, the writer's.

A partner reads "back around 13:00" in New York; the partner who wrote it in Berlin
meant 19:00. Both are true, and a reader who sees only theirs may think the other
made a mistake. So a moment the writer chose (a time-out's return, when a disclosed
event happened) is shown in the reader's zone, followed by "(19:00 in Sam's time,
Europe/Berlin)" when the writer's wall clock at that moment shows another time.
The writer's zone is the IANA name their device put in the event body (``tz``,
docs/PROTOCOL.md §5.1, §10.9). A calendar date (§10.8) is the same date everywhere and
never gets a zone; a zone name this device does not know is ignored, never guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
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


def as_moment(ms: int) -> int:
    """A moment with a time, never read as a calendar date: 12:00:00.000 UTC exactly
    (13:00 typed in Berlin in winter) is written 1 ms later (docs/PROTOCOL.md §10.8)."""
    return ms + 1 if is_calendar_date(ms) else ms


def known_zone_info(name: str | None) -> ZoneInfo | None:
    """The zone ``name`` names, or None when there is none or this device does not know it."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def in_zones(
    ms: int, *, writer: str, writer_zone: str | None, reader_zone: tzinfo | None = None
) -> str:
    """``ms`` as the reader reads it (in this device's zone, or ``reader_zone``), plus
    the writer's clock when it shows another time: "2026-11-27 13:00 (19:00 in Sam's
    time, Europe/Berlin)". The writer's date is added when it is another day. Never
    raises: a time past the year 9999 is written as what it is."""
    if is_calendar_date(ms):
        return _as_date(ms)
    try:
        instant = _EPOCH + timedelta(milliseconds=ms)
        ours = instant.astimezone(reader_zone) if reader_zone else instant.astimezone()
    except (OverflowError, ValueError, OSError):
        return f"{ms} ms after 1970-01-01 00:00 UTC"
    shown = ours.strftime("%Y-%m-%d %H:%M")
    zone = known_zone_info(writer_zone)
    if zone is None:
        return shown
    theirs = instant.astimezone(zone)
    if theirs.utcoffset() == ours.utcoffset():
        return shown
    clock = theirs.strftime("%H:%M" if theirs.date() == ours.date() else "%Y-%m-%d %H:%M")
    return f"{shown} ({clock} in {writer}'s time, {writer_zone})"


def _as_date(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%d")
