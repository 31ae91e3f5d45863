"""Sober days and milestones: the current run and the total for each partner (a slip
ends the run and never erases the total; a risk report changes neither), and
milestones. The counting is client/views/recovery_sobriety.py's."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Screen, delivery, done, page, read_form
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.views.present import calendar_date_ms, plain_error
from schemas.practices import MilestoneMarked, SobrietyStarted


def _past_day(value: str, what: str) -> str:
    """A calendar date of something that already happened: today or earlier."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise TrellisError(
            f"'{value}' is not a date; use a form like 2026-11-26.", code=ClientErrorCode.USAGE
        ) from None
    if day > datetime.now().astimezone().date():
        raise TrellisError(
            f"{value} is after today; {what} cannot be in the future.", code=ClientErrorCode.USAGE
        )
    return day.isoformat()


@get("/sobriety")
async def sobriety(app: App) -> Response[Any]:
    space = app.require()
    views = current_views(space)
    return page(
        app,
        "sobriety/sobriety.html",
        views=views,
        current="/sobriety",
        counters=[(space.member_name(m), s) for m, s in views.sobriety.items()],
        milestones=[(space.member_name(m.author), m) for m in reversed(views.milestones)],
        today=date.today().isoformat(),
    )


@post("/sobriety")
async def start(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        day = _past_day(form.get("date"), "a sober run's start")
        await space.append(SobrietyStarted(date=day, label=form.get("label")))
    except TrellisError as exc:
        return done(app, "/sobriety", plain_error(exc.message), problem=True)
    return done(app, "/sobriety", f"Sobriety counted from {day}. {await delivery(app, space)}")


@post("/sobriety/milestones")
async def milestone(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        occurred = None
        if form.get("when"):
            occurred = calendar_date_ms(_past_day(form.get("when"), "a milestone"))
        if form.get("formal") == "yes":
            payload = MilestoneMarked(title="Formal disclosure", kind="formal_disclosure")
        elif not form.get("title"):
            raise TrellisError(
                "A milestone needs a title, e.g. Six months.", code=ClientErrorCode.USAGE
            )
        else:
            payload = MilestoneMarked(title=form.get("title"), note=form.optional("note"))
        await space.append(payload, occurred_at=occurred)
    except TrellisError as exc:
        return done(app, "/sobriety", plain_error(exc.message), problem=True)
    return done(app, "/sobriety", f"Milestone marked. {await delivery(app, space)}")


SCREEN = Screen(handlers=[sobriety, start, milestone], nav_label="Sober days", nav_path="/sobriety")
