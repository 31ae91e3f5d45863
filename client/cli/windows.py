"""``trellis windows``: agreed recurring times for hard conversations, kept in a time-zone
name so they follow daylight saving, and postponed once by either partner."""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from client.cli.agreement_show import agreement_json, cmd_show, status_line
from client.cli.common import (
    UsageError,
    open_space,
    parse_when,
    print_json,
    read_optional,
    tell_delivery,
)
from client.cli.versions import (
    cmd_accept,
    cmd_decline,
    cmd_withdraw,
    find_agreement,
    propose_version,
)
from client.space.device_zone import device_zone_name
from client.views import Moment
from client.views.moments import as_moment, is_calendar_date
from client.views.practice_forms import check_postponed_to, coming_to_postpone, postponed_sentence
from client.views.present import iso_utc, local_time
from client.views.recovery import describe_window, known_zone, next_occurrence
from client.views.recovery.windows import windows_in_force
from schemas.practices import AgreementProposed, Window, WindowPostponed

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hh_mm(value: str) -> str:
    """A window's local time as the payload needs it (HH:MM, 24-hour)."""
    try:
        moment = datetime.strptime(value.strip(), "%H:%M")
    except ValueError:
        raise UsageError(
            f"'{value}' is not a time of day; use 24-hour HH:MM, e.g. 19:00 for 7 pm."
        ) from None
    return moment.strftime("%H:%M")


def _parse_offset(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    try:
        hours, _, minutes = text.lstrip("+-").partition(":")
        return sign * (int(hours) * 60 + int(minutes or 0))
    except ValueError:
        raise UsageError(f"'{text}' is not a UTC offset; use a form like +01:00.") from None


async def cmd_window_propose(args: argparse.Namespace) -> int:
    day = args.weekday.strip().lower()[:3]
    if day not in _WEEKDAYS:
        raise UsageError("--weekday takes a day name, e.g. sunday or sun.")
    tz = args.tz.strip() if args.tz else None
    if tz is not None and not known_zone(tz):
        raise UsageError(
            f"'{tz}' is not a time-zone name this device knows; use a name like "
            "Europe/London or America/New_York."
        )
    if tz is None and not args.utc_offset:
        tz = device_zone_name()
    offset = _parse_offset(args.utc_offset) if args.utc_offset else _offset_min(tz)
    window = Window(
        weekday=_WEEKDAYS.index(day),
        time=_hh_mm(args.time),
        utc_offset_min=offset,
        duration_min=args.duration,
        topic=args.topic or "",
        tz=tz,
    )
    title = f"Transparency window: {args.topic}" if args.topic else "Transparency window"
    if tz is None:
        print(
            "Note: this window keeps a fixed UTC offset, which drifts at daylight saving; "
            "give --tz (e.g. Europe/London) to follow your clock."
        )
    return await propose_version(
        args,
        lambda revises: AgreementProposed(
            title=title,
            clauses=[describe_window(window)],
            revises=revises,
            kind="window",
            window=window,
        ),
    )


def _offset_min(tz: str | None) -> int:
    """The UTC offset now in ``tz`` (or on this device): kept as the fallback."""
    zone = ZoneInfo(tz) if tz else None
    offset = datetime.now(zone).astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


async def cmd_windows_list(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        moment = Moment.now()
        views = space.views(moment)
        windows = [a for a in views.agreements.agreements if a.kind == "window"]
        upcoming = next_occurrence(windows_in_force(windows), moment.now_ms, views.postponements)
        if args.json:
            print_json(
                {
                    "windows": [agreement_json(space, a, versions=False) for a in windows],
                    "next": (
                        {
                            "starts_at": iso_utc(upcoming.start),
                            "scheduled_at": iso_utc(upcoming.scheduled),
                            "postponed": upcoming.start != upcoming.scheduled,
                            "window": describe_window(upcoming.window),
                        }
                        if upcoming
                        else None
                    ),
                }
            )
            return 0
        for a in windows:
            print(status_line(a))
        if upcoming:
            moved = (
                f" (postponed once from {local_time(upcoming.scheduled)})"
                if upcoming.start != upcoming.scheduled
                else ""
            )
            print(f"Next: {local_time(upcoming.start)}, {describe_window(upcoming.window)}{moved}")
        elif not windows:
            print("No windows agreed yet.")
    return 0


_CLOCK = re.compile(r"\d{1,2}:\d{2}")
_SAY_WHEN = (
    "Say when to meet instead, with a time: --to 20:30 (the same day) or "
    "--to 2026-11-30T20:30 (another day)."
)


def _postponed_to(value: str, scheduled_ms: int) -> int:
    """``--to``: a time of day (``20:30``) on the scheduled day, in this device's zone,
    or a date with a time. A date alone says no time to meet, so it is refused."""
    text = value.strip()
    if _CLOCK.fullmatch(text):
        clock = datetime.strptime(_hh_mm(text), "%H:%M").time()
        day = datetime.fromtimestamp(scheduled_ms / 1000).astimezone().date()
        return as_moment(int(datetime.combine(day, clock).astimezone().timestamp() * 1000))
    to = parse_when(text)
    if to is None or is_calendar_date(to):
        raise UsageError(_SAY_WHEN)
    return to


async def cmd_window_postpone(args: argparse.Namespace) -> int:
    if not args.to.strip():
        raise UsageError(_SAY_WHEN)
    async with await open_space(args) as space:
        moment = Moment.now()
        views = space.views(moment)
        agreement, _ = find_agreement(space, args.id)
        window, coming = coming_to_postpone(agreement, moment.now_ms, views.postponements)
        to = _postponed_to(args.to, coming.scheduled)
        check_postponed_to(to, coming.scheduled)
        await space.append(
            WindowPostponed(
                window=window,
                occurrence=coming.scheduled,
                to=to,
                note=read_optional(args.note),
            )
        )
        await tell_delivery(space, args, postponed_sentence(coming.scheduled, to))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    windows = sub.add_parser("windows", help="agreed times for hard conversations").add_subparsers(
        dest="windows_command", required=True, metavar="ACTION"
    )
    p = windows.add_parser("propose", help="propose a recurring time")
    p.add_argument("--weekday", required=True, help="e.g. sunday")
    p.add_argument("--time", required=True, help="local time, HH:MM")
    p.add_argument("--duration", type=int, default=60, help="minutes (default 60)")
    p.add_argument("--topic", help="what the time is for")
    p.add_argument(
        "--tz", metavar="ZONE", help="time-zone name, e.g. Europe/London (default: this device's)"
    )
    p.add_argument("--utc-offset", help="a fixed offset instead of a zone, e.g. +01:00")
    p.add_argument("--revises", metavar="ID")
    p.set_defaults(handler=cmd_window_propose, family="windows")
    p = windows.add_parser("list", help="agreed windows and the next one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_windows_list)
    p = windows.add_parser(
        "postpone", help="move the next time of a window, once (either of you can)"
    )
    p.add_argument("id", help="the window's id, or its first characters")
    p.add_argument(
        "--to",
        required=True,
        metavar="TIME",
        help="a later time the same day (20:30), or a date and time (2026-11-30T19:00)",
    )
    p.add_argument("--note", help="optional")
    p.set_defaults(handler=cmd_window_postpone, family="windows")
    p = windows.add_parser("show", help="a window's full, verified history")
    p.add_argument("id", nargs="?", help="the window's id (default: the only one)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show, family="windows")
    for name, handler, text in (
        ("accept", cmd_accept, "accept the time your partner proposed"),
        ("decline", cmd_decline, "decline a proposed time"),
        ("withdraw", cmd_withdraw, "withdraw your consent to a window (takes effect at once)"),
    ):
        p = windows.add_parser(name, help=text)
        p.add_argument("id", help="the window's id (or a version's), or its first characters")
        if name == "accept":
            p.add_argument("--note", help="optional words back")
        else:
            p.add_argument("--reason", help="optional; never required")
        p.set_defaults(handler=handler, family="windows")
