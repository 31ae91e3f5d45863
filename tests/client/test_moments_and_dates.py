"""Issue #13, "Dates and times" (docs/PROTOCOL.md §10.8, §10.9).

A date without a time is a calendar date: the same date in every zone from UTC-12 to
UTC+14, on screen and in the sober-day count, and no moment with a time is ever taken
for one. A moment with a time shows in the reader's zone, with the writer's clock when
it shows another time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from client.cli.common import parse_when
from client.views.moments import in_zones
from client.views.present import calendar_date_ms, is_calendar_date, local_time
from client.views.recovery import local_date
from schemas.practices import DisclosureMade, SlipReport
from tests.client.test_recovery import Story, sobriety_of, start

#: Every whole-hour offset from UTC-12 to UTC+14 (POSIX names have the sign reversed:
#: Etc/GMT+12 is UTC-12), and real zones with odd offsets and daylight saving.
ZONES = [f"Etc/GMT{-hours:+d}" if hours else "Etc/UTC" for hours in range(-12, 15)] + [
    "Pacific/Kiritimati",  # UTC+14
    "Pacific/Apia",  # UTC+13
    "Pacific/Tongatapu",  # UTC+13
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "Australia/Lord_Howe",  # a 30-minute daylight saving shift
    "Asia/Kathmandu",  # UTC+5:45
    "America/St_Johns",  # UTC-3:30 / -2:30
    "Pacific/Pago_Pago",  # UTC-11
    "America/New_York",
    "Europe/Berlin",
]
#: Year ends, a leap day, and the days daylight saving starts or ends somewhere.
DAYS = ["2024-02-29", "2026-03-08", "2026-03-29", "2026-04-05", "2026-10-04", "2026-12-31"]


@pytest.fixture
def device_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Sets this process's zone as a device in that zone has it (TZ, then tzset)."""

    def use(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("zone", ZONES)
def test_a_date_without_a_time_is_the_same_date_in_every_zone(
    zone: str, device_zone: Callable[[str], None]
) -> None:
    device_zone(zone)
    for day in DAYS:
        written = parse_when(day)  # typed in this zone
        assert written == calendar_date_ms(day)
        assert is_calendar_date(written)
        assert local_time(written) == day  # shown in this zone
        assert local_date(written, ZoneInfo(zone)) == date.fromisoformat(day)  # counted


@pytest.mark.parametrize("zone", ZONES)
def test_a_moment_typed_with_a_time_is_never_taken_for_a_calendar_date(
    zone: str, device_zone: Callable[[str], None]
) -> None:
    device_zone(zone)
    for day in DAYS:
        # The local time that is exactly 12:00:00.000 UTC that day, where it is a whole
        # minute: the one instant the date rule could mistake for a date.
        noon = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).astimezone()
        typed = noon.strftime("%Y-%m-%dT%H:%M")
        written = parse_when(typed)
        assert written is not None
        assert not is_calendar_date(written)
        assert local_time(written) == noon.strftime("%Y-%m-%d %H:%M")


def test_an_inner_circle_slip_on_a_date_counts_on_that_date_in_a_zone_at_utc_plus_14() -> None:
    story = Story()
    start(story, date(2026, 1, 10))
    slip = DisclosureMade(kind="slip", summary="I slipped", slip=SlipReport(circle="inner"))
    story.write(story.alex, slip, occurred_at=calendar_date_ms("2026-01-20"))
    for zone in ("Pacific/Kiritimati", "Pacific/Chatham", "Etc/GMT+12", "Europe/Berlin"):
        view = sobriety_of(story, date(2026, 2, 1), ZoneInfo(zone))[story.alex.member_id]
        assert view.slips == [date(2026, 1, 20)], zone


BERLIN_19H = int(datetime(2026, 11, 27, 18, 0, tzinfo=UTC).timestamp() * 1000)


def test_a_moment_shows_in_the_readers_zone_with_the_writers_clock_when_it_differs() -> None:
    new_york = ZoneInfo("America/New_York")
    shown = in_zones(BERLIN_19H, writer="Sam", writer_zone="Europe/Berlin", reader_zone=new_york)
    assert shown == "2026-11-27 13:00 (19:00 in Sam's time, Europe/Berlin)"
    auckland = in_zones(
        BERLIN_19H, writer="Sam", writer_zone="Pacific/Auckland", reader_zone=new_york
    )
    assert auckland == "2026-11-27 13:00 (2026-11-28 07:00 in Sam's time, Pacific/Auckland)"


@pytest.mark.parametrize("writer_zone", [None, "Europe/Berlin", "Europe/Paris", "Mars/Base"])
def test_the_writers_clock_is_left_out_when_it_shows_the_same_time_or_is_unknown(
    writer_zone: str | None,
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    shown = in_zones(BERLIN_19H, writer="Sam", writer_zone=writer_zone, reader_zone=berlin)
    assert shown == "2026-11-27 19:00"


def test_a_calendar_date_never_gets_a_zone() -> None:
    day = calendar_date_ms("2027-01-01")
    shown = in_zones(
        day, writer="Sam", writer_zone="Pacific/Kiritimati", reader_zone=ZoneInfo("Etc/GMT+12")
    )
    assert shown == "2027-01-01"
