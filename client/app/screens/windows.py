"""Times to talk (transparency windows): propose a recurring time, see the next date,
postpone the next time once. A window is an agreement underneath: it comes into force
when both accept it (the agreement page answers it); the next date and the
postponement rules are the views' (client/views/recovery_windows.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Screen, delivery, done, page, read_form
from client.app.screens.agreements import find
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.space.device_zone import device_zone_name
from client.views import Moment
from client.views.practice_forms import (
    check_postponed_to,
    coming_to_postpone,
    postponed_sentence,
    status_words,
)
from client.views.present import plain_error
from client.views.recovery.windows import (
    describe_window,
    known_zone,
    next_occurrence,
    windows_in_force,
)
from schemas.practices import AgreementProposed, Window, WindowPostponed

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@get("/windows")
async def windows(app: App) -> Response[Any]:
    space = app.require()
    moment = Moment.now()
    views = current_views(space)
    items = [a for a in views.agreements.agreements if a.kind == "window"]
    upcoming = next_occurrence(
        windows_in_force(views.agreements.agreements), moment.now_ms, views.postponements
    )
    return page(
        app,
        "agreements/windows.html",
        views=views,
        current="/windows",
        items=[(a, status_words(a)) for a in items],
        upcoming=upcoming,
        upcoming_words=describe_window(upcoming.window) if upcoming else None,
        weekdays=WEEKDAYS,
        zone=device_zone_name() or "",
        name_of=space.member_name,
    )


def _time(value: str) -> str:
    try:
        return datetime.strptime(value.strip(), "%H:%M").strftime("%H:%M")
    except ValueError:
        raise TrellisError(
            f"'{value}' is not a time of day; use 24-hour HH:MM, e.g. 19:00 for 7 pm.",
            code=ClientErrorCode.USAGE,
        ) from None


@post("/windows")
async def propose(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        day = form.get("weekday")
        if day not in {str(i) for i in range(7)}:
            raise TrellisError("Choose a day of the week.", code=ClientErrorCode.USAGE)
        tz = form.get("tz") or device_zone_name()
        if tz is not None and not known_zone(tz):
            raise TrellisError(
                f"'{tz}' is not a time-zone name this device knows; use a name like "
                "Europe/London or America/New_York.",
                code=ClientErrorCode.USAGE,
            )
        duration = form.get("duration") or "60"
        if not duration.isdigit() or not 5 <= int(duration) <= 24 * 60:
            raise TrellisError(
                "Give the length in minutes, between 5 and 1440.", code=ClientErrorCode.USAGE
            )
        offset = datetime.now(ZoneInfo(tz) if tz else None).astimezone().utcoffset()
        window = Window(
            weekday=int(day),
            time=_time(form.get("time")),
            utc_offset_min=int(offset.total_seconds() // 60) if offset else 0,
            duration_min=int(duration),
            topic=form.get("topic"),
            tz=tz,
        )
        topic = form.get("topic")
        await space.append(
            AgreementProposed(
                title=f"Transparency window: {topic}" if topic else "Transparency window",
                clauses=[describe_window(window)],
                kind="window",
                window=window,
            )
        )
    except TrellisError as exc:
        return done(app, "/windows", plain_error(exc.message), problem=True)
    return done(
        app,
        "/windows",
        f"Proposed. Your partner can accept or decline it. {await delivery(app, space)}",
    )


@post("/windows/postpone")
async def postpone(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        moment = Moment.now()
        views = current_views(space)
        agreement, _ = find(space, form.get("window"))
        window, coming = coming_to_postpone(agreement, moment.now_ms, views.postponements)
        try:
            to_moment = datetime.fromisoformat(form.get("to")).astimezone()
        except ValueError:
            raise TrellisError(
                "Say when to meet instead, e.g. 2026-11-30 19:00.", code=ClientErrorCode.USAGE
            ) from None
        to = int(to_moment.timestamp() * 1000)
        check_postponed_to(to, coming.scheduled)
        await space.append(
            WindowPostponed(
                window=window,
                occurrence=coming.scheduled,
                to=to,
                note=form.optional("note"),
            )
        )
    except TrellisError as exc:
        return done(app, "/windows", plain_error(exc.message), problem=True)
    return done(
        app,
        "/windows",
        f"{postponed_sentence(coming.scheduled, to)} {await delivery(app, space)}",
    )


SCREEN = Screen(handlers=[windows, propose, postpone])
