"""Getting in and out: first start (a new space, or joining with a code), unlock,
lock, quick exit, the neutral page, and the live-update stream.

The passphrase is only ever read from a POST form body (never the URL), and never
echoed back into a page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage

from client.app.screen import App, Screen, done, page, read_form, render
from client.errors import TrellisError
from client.space import Space
from client.views.present import plain_error
from schemas.errors import ErrorCode

DEFAULT_RELAY = "http://127.0.0.1:8765"
"""What the first-start form suggests: the relay ``make run`` starts (README)."""


@get("/", sync_to_thread=False)
def root(app: App) -> Redirect:
    if app.space is not None:
        return Redirect(path="/today", status_code=303)
    return Redirect(path="/unlock" if app.has_space else "/welcome", status_code=303)


@get("/welcome")
async def welcome(app: App) -> Response[Any]:
    if app.has_space:
        return Redirect(path="/", status_code=303)
    return page(app, "access/welcome.html", default_relay=DEFAULT_RELAY, current="/welcome")


def _new_passphrase(app: App, first: str, second: str) -> str | None:
    if first != second:
        app.flash("The two passphrases did not match; nothing was set up.", problem=True)
        return None
    return first


@post("/welcome/start")
async def start(app: App, request: Request[Any, Any, Any]) -> Redirect:
    form = await read_form(request)
    if app.has_space:
        return done(app, "/")
    passphrase = _new_passphrase(app, form.raw("passphrase"), form.raw("passphrase2"))
    if passphrase is None:
        return done(app, "/welcome")
    name = form.get("name")
    try:
        space = await Space.create(
            app.home, relay_url=form.get("relay") or DEFAULT_RELAY, name=name, passphrase=passphrase
        )
    except TrellisError as exc:
        return done(app, "/welcome", plain_error(exc.message), problem=True)
    await app.adopt(space)
    return done(
        app,
        "/pairing",
        f"Your shared space is ready, {' '.join(name.split())}. Next: invite your partner below.",
    )


@post("/welcome/join")
async def join(app: App, request: Request[Any, Any, Any]) -> Redirect:
    form = await read_form(request)
    if app.has_space:
        return done(app, "/")
    passphrase = _new_passphrase(app, form.raw("passphrase"), form.raw("passphrase2"))
    if passphrase is None:
        return done(app, "/welcome")
    try:
        space = await Space.join(
            app.home,
            code=form.get("code"),
            name=form.get("name"),
            passphrase=passphrase,
            relay_url=form.optional("relay"),
        )
    except TrellisError as exc:
        text = plain_error(exc.message)
        if exc.code == str(ErrorCode.INVITE_USED):
            # Someone else may have used it first: worth a careful look (as the CLI says).
            text += (
                " If you did not use this code yourself, it may have leaked: tell your "
                "partner, and once you have joined with a new code compare safety numbers "
                "in person."
            )
        return done(app, "/welcome", text, problem=True)
    await app.adopt(space)
    if space.joined:
        others = [m.name for m in space.members() if not m.is_me]
        partner = " and ".join(others) or "your partner"
        text = f"You joined the space shared with {partner}. Compare safety numbers in person."
    else:
        text = (
            "Your invite is accepted and saved on this device, but joining could not finish "
            "yet. It finishes by itself once your partner's device has synced."
        )
    return done(app, "/pairing", text)


@get("/unlock")
async def unlock_page(app: App) -> Response[Any]:
    if app.space is not None:
        return Redirect(path="/today", status_code=303)
    if not app.has_space:
        return Redirect(path="/welcome", status_code=303)
    return page(app, "access/unlock.html", current="/unlock")


@post("/unlock")
async def unlock(app: App, request: Request[Any, Any, Any]) -> Redirect:
    form = await read_form(request)
    if app.space is not None:
        return done(app, "/today")
    try:
        await app.unlock(form.raw("passphrase"))
    except TrellisError as exc:
        return done(app, "/unlock", plain_error(exc.message), problem=True)
    return done(app, "/today")


@post("/lock")
async def lock(app: App) -> Redirect:
    await app.lock()
    return done(app, "/unlock", "Locked. Your passphrase opens it again.")


@post("/exit")
async def quick_exit(app: App) -> Redirect:
    """Lock at once and show the neutral page. A new session cookie replaces the old
    one, so a browser keeps no page of the old session in its back/forward cache, and
    the browser is asked to drop what it cached of this site."""
    await app.lock()
    session = app.access.rotate()
    return Redirect(
        path="/bye",
        status_code=303,
        headers={
            "set-cookie": app.access.set_cookie_header(session).decode(),
            "clear-site-data": '"cache"',
        },
    )


@get("/bye", sync_to_thread=False)
def bye() -> Response[str]:
    """The neutral page: nothing of Trellis on it, not even its name."""
    return Response(content=render("access/bye.html"), media_type="text/html")


@get("/favicon.ico", status_code=204, sync_to_thread=False)
def favicon() -> None:
    """No icon: a tab with no Trellis mark is one less thing a glance can read."""


@get("/events")
async def events(app: App) -> ServerSentEvent:
    """Live updates for the open page (client/app/static/app.js): ``change``,
    ``signal`` (a signal arrived or was cleared) and ``locked``. Only the kind goes over
    the stream, never content: the page fetches itself again to show it."""

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        async for kind in app.live.stream(lambda: app.space is not None):
            if kind is None:
                yield ServerSentEventMessage(comment="still here")
            else:
                yield ServerSentEventMessage(event=kind, data=kind)

    return ServerSentEvent(stream())


SCREEN = Screen(
    handlers=[
        root,
        welcome,
        start,
        join,
        unlock_page,
        unlock,
        lock,
        quick_exit,
        bye,
        favicon,
        events,
    ]
)
