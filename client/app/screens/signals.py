"""Signals: a time-out (pause), slow down or stop, as large, obvious buttons, with an
optional note (a preset or one's own words) and, for a time-out, a return time. One's
own active signal can be cleared here. The partner's active signals show as a banner on
every page (client/app/templates/layout.html) and arrive live."""

from __future__ import annotations

from typing import Any, cast

from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Screen, delivery, done, page, read_form
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.store.localstore import now_ms
from client.views import Moment
from client.views.present import plain_error
from client.views.present_signals import (
    RETURN_DUE,
    signal_given_sentence,
    signal_rows,
    timeout_return_ms,
)
from client.views.recovery import active_signals
from schemas.practices import (
    SIGNAL_PRESETS,
    TIMEOUT_DEFAULT_MIN,
    SignalCleared,
    SignalLevel,
    SignalPreset,
    SignalSent,
)

RETURN_CHOICES_MIN = (10, 20, 30, 60, 120, 240)
LEVELS = ("pause", "slow", "stop")


@get("/signals")
async def signals_page(app: App) -> Response[Any]:
    space = app.require()
    moment = Moment.now()
    views = current_views(space)
    me = space.me()
    mine = me.member_id if me else None
    active = signal_rows(views.signals, space.member_name, mine, moment.now_ms)
    return page(
        app,
        "signals/signals.html",
        views=views,
        current="/signals",
        active=active,
        presets=SIGNAL_PRESETS,
        return_choices=RETURN_CHOICES_MIN,
        default_return=TIMEOUT_DEFAULT_MIN,
        return_due=RETURN_DUE,
    )


@post("/signals")
async def give(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    level = form.get("level")
    preset = form.optional("preset")
    note = form.optional("note")
    try:
        if level not in LEVELS:
            raise TrellisError("Choose time-out, slow down or stop.", code=ClientErrorCode.USAGE)
        if preset is not None and preset not in SIGNAL_PRESETS:
            preset = None
        if preset is not None and note is not None:
            raise TrellisError(
                "Choose a preset note or write your own, not both.", code=ClientErrorCode.USAGE
            )
        until = None
        if level == "pause":
            minutes = form.get("minutes")
            until = timeout_return_ms(
                now_ms(), minutes=float(minutes) if minutes.isdigit() else None
            )
        await space.append(
            SignalSent(
                level=cast(SignalLevel, level),
                until=until,
                note=note,
                preset=cast(SignalPreset | None, preset),
            )
        )
    except TrellisError as exc:
        return done(app, "/signals", plain_error(exc.message), problem=True)
    sentence = signal_given_sentence(level, until)
    return done(app, "/signals", f"{sentence} {await delivery(app, space, signal=True)}")


@post("/signals/clear")
async def clear(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    me = space.me()
    mine = [
        s
        for s in active_signals(current_views(space).signals)
        if me is not None and s.sender == me.member_id
    ]
    wanted = form.get("signal")
    if wanted:
        mine = [s for s in mine if s.id.hex() == wanted]
    if not mine:
        return done(app, "/signals", "You have no active signal to clear.", problem=True)
    for signal in mine:
        await space.append(SignalCleared(signal=signal.id))
    text = "Cleared." if len(mine) == 1 else f"Cleared {len(mine)} signals."
    return done(app, "/signals", f"{text} {await delivery(app, space, signal=True)}")


SCREEN = Screen(handlers=[signals_page, give, clear], nav_label="Signals", nav_path="/signals")
