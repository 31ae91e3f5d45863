"""Gratitude notes by either partner, newest first."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Screen, delivery, done, page, read_form
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.views.present import plain_error
from schemas.practices import GratitudeNoted

NEWEST = 100
"""The newest shown on the page; the timeline lists every event."""


@get("/gratitude")
async def gratitude(app: App) -> Response[Any]:
    space = app.require()
    items = [
        (space.member_name(g.author), g)
        for g in list(reversed(current_views(space).gratitude))[:NEWEST]
    ]
    return page(app, "gratitude/gratitude.html", current="/gratitude", items=items)


@post("/gratitude")
async def note(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        text = form.get("text")
        if not text:
            raise TrellisError("The note is empty; nothing was saved.", code=ClientErrorCode.USAGE)
        await space.append(GratitudeNoted(text=text))
    except TrellisError as exc:
        return done(app, "/gratitude", plain_error(exc.message), problem=True)
    return done(app, "/gratitude", f"Noted. {await delivery(app, space)}")


SCREEN = Screen(handlers=[gratitude, note], nav_label="Gratitude", nav_path="/gratitude")
