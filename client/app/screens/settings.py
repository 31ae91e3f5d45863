"""Settings: the relay this space syncs through, this device's passphrase, and how
long the app waits before it locks itself."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Screen, done, page, read_form
from client.app.state import IDLE_LOCK_CHOICES_S
from client.errors import ClientErrorCode, TrellisError
from client.space import devices
from client.space.state import META_VAULT
from client.views.present import plain_error


@get("/settings")
async def settings_page(app: App) -> Response[Any]:
    space = app.require()
    return page(
        app,
        "settings/settings.html",
        current="/settings",
        relay=space.endpoint.url,
        idle_lock_s=int(app.idle_lock_s),
        idle_choices=IDLE_LOCK_CHOICES_S,
    )


@post("/settings/relay")
async def relay(app: App, request: Request[Any, Any, Any]) -> Redirect:
    form = await read_form(request)
    url = form.get("relay")
    try:
        async with app.sync_paused() as space:
            moved = await space.move_relay(url)
    except TrellisError as exc:
        return done(app, "/settings", plain_error(exc.message), problem=True)
    text = f"This space now syncs through {moved.relay}."
    if moved.waiting:
        text += (
            " The new relay does not know this device yet: ask your partner to move to the "
            "same address on their device; this device gives it its copy after that."
        )
    else:
        text += " Your partner moves too, in Settings on their device."
    return done(app, "/settings", text)


@post("/settings/passphrase")
async def passphrase(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    sealed = await space.get_local(META_VAULT)
    try:
        if sealed is None:
            raise TrellisError("This device has no saved keys.", code=ClientErrorCode.HOME_ERROR)
        # The current passphrase first: an open, unattended app is not enough to change it.
        # Wrong ones count in the vault's back-off like a wrong unlock, so an unattended
        # app is not a way to guess without limit.
        await devices.check_passphrase(space, form.raw("current"), sealed)
        if form.raw("new") != form.raw("new2"):
            raise TrellisError(
                "The two new passphrases did not match; nothing was changed.",
                code=ClientErrorCode.USAGE,
            )
        await devices.change_passphrase(space, form.raw("new"))
    except TrellisError as exc:
        return done(app, "/settings", plain_error(exc.message), problem=True)
    return done(
        app, "/settings", "Passphrase changed. The old one no longer opens this device's keys."
    )


@post("/settings/idle-lock")
async def idle_lock(app: App, request: Request[Any, Any, Any]) -> Redirect:
    form = await read_form(request)
    value = form.get("seconds")
    if not value.isdigit() or int(value) not in IDLE_LOCK_CHOICES_S:
        return done(app, "/settings", "Choose one of the times offered.", problem=True)
    await app.set_idle_lock(int(value))
    minutes = int(value) // 60
    return done(
        app,
        "/settings",
        f"The app now locks after {minutes} minute{'s' if minutes != 1 else ''} without use.",
    )


SCREEN = Screen(
    handlers=[settings_page, relay, passphrase, idle_lock],
    nav_label="Settings",
    nav_path="/settings",
)
