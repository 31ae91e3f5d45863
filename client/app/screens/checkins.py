"""Check-ins (FANOS): one plain line per letter, and the listener is told there is
nothing to answer. The words are client/views/practice_forms.py's, shared with the CLI."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Screen, delivery, done, page, read_form
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.views.practice_forms import FANOS_LABELS, FANOS_PROMPTS, NOTHING_TO_ANSWER
from client.views.present import plain_error
from schemas.practices import CheckIn

MOODS = ((1, "very low"), (2, "low"), (3, "okay"), (4, "good"), (5, "very good"))


NEWEST = 100
"""The newest shown on the page; the timeline lists every event."""


@get("/checkins")
async def checkins(app: App) -> Response[Any]:
    space = app.require()
    items = [
        {
            "c": c,
            "who": space.member_name(c.author),
            "parts": [
                (label, getattr(c, name))
                for name, label in FANOS_LABELS.items()
                if getattr(c, name)
            ],
        }
        for c in list(reversed(current_views(space).checkins))[:NEWEST]
    ]
    return page(
        app,
        "checkins/checkins.html",
        current="/checkins",
        items=items,
        prompts=FANOS_PROMPTS,
        nothing_to_answer=NOTHING_TO_ANSWER,
        moods=MOODS,
    )


@post("/checkins")
async def check_in(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    fields = {name: form.optional(name) for name, _ in FANOS_PROMPTS}
    mood = form.get("mood")
    try:
        if not any(fields.values()) and not mood:
            raise TrellisError(
                "A check-in needs at least one of the letters, or a mood.",
                code=ClientErrorCode.USAGE,
            )
        await space.append(
            CheckIn(mood=int(mood) if mood in {"1", "2", "3", "4", "5"} else None, **fields)
        )
    except TrellisError as exc:
        return done(app, "/checkins", plain_error(exc.message), problem=True)
    return done(app, "/checkins", f"Checked in. {await delivery(app, space)}")


SCREEN = Screen(handlers=[checkins, check_in], nav_label="Check-ins", nav_path="/checkins")
