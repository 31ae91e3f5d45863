"""Getting in and out: first start (a new space, or joining with a code), unlock,
lock, quick exit, the neutral page, the live-update stream and the page script's
keep-alive.

The passphrase is only ever read from a POST form body (never the URL), and never
echoed back into a page.

A form sent while the app is locked (the lock came while someone was writing, and the
page had no script to keep the text under its lock card) is refused, not lost
(docs/THREAT_MODEL.md §27): :func:`refuse_locked_post` answers with the unlock page,
which carries what was sent in hidden fields; unlocking from it shows what was written
once more with a button that sends it. Nothing of it is stored anywhere.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage

from client.app.screen import App, Form, Screen, done, page, read_form, render
from client.app.security import CSRF_FIELD, ONCE_FIELD
from client.app.state import AppState
from client.errors import TrellisError
from client.space import Space
from client.views.present import plain_error
from schemas.errors import ErrorCode

DEFAULT_RELAY = "http://127.0.0.1:8765"
"""What the first-start form suggests: the relay ``make run`` starts (README)."""
LOCKED_OK = {"locked_ok": True}
"""Route ``opt`` of the forms that work while the app is locked (getting in and out);
every other form sent while locked is refused and kept (:func:`refuse_locked_post`)."""
CARRY_PREFIX = "carry."
RESEND_FIELD = "resend_to"
SECRET_FIELDS = frozenset(
    {CSRF_FIELD, ONCE_FIELD, "passphrase", "passphrase2", "current", "new", "new2"}
)
"""Fields never carried through the lock: the tokens, and every passphrase field."""
_OWN_PATH = re.compile(r"^/[A-Za-z0-9_\-./]*$")
"""A form's own path on this app (never another origin, never ``//host``)."""


def _carried(form: Form, prefix: str = "") -> list[tuple[str, str]]:
    """The fields a locked-out form sent (``prefix`` removed), less the secret ones."""
    return [
        (k[len(prefix) :], v)
        for k, v in form.fields
        if k.startswith(prefix) and k[len(prefix) :] not in SECRET_FIELDS
    ]


def _own_path(value: str) -> str | None:
    return value if _OWN_PATH.match(value) and not value.startswith("//") else None


def _locked_page(
    app: AppState, carried: list[tuple[str, str]], resend_to: str, problem: str | None = None
) -> Response[Any]:
    if problem:
        app.flash(problem, problem=True)
    return page(
        app,
        "access/locked.html",
        status=423,
        current="/unlock",
        carried=carried,
        carry_prefix=CARRY_PREFIX,
        resend_field=RESEND_FIELD,
        resend_to=resend_to,
    )


async def refuse_locked_post(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Before every handler: a form that needs the open space, sent while the app is
    locked, is refused with the unlock page that keeps what was sent (423)."""
    app: AppState = request.app.state["trellis"]
    if request.method != "POST" or app.space is not None or not app.has_space:
        return None
    if request.route_handler.opt.get("locked_ok"):
        return None
    form = await read_form(request)
    return _locked_page(app, _carried(form), request.scope["path"])


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


@post("/welcome/start", opt=LOCKED_OK)
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


@post("/welcome/join", opt=LOCKED_OK)
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


@post("/unlock", opt=LOCKED_OK)
async def unlock(app: App, request: Request[Any, Any, Any]) -> Response[Any]:
    """Unlock; from the page of a form refused while locked, then show that form's
    content again with a button that sends it (fresh ``once``, so it is sent once)."""
    form = await read_form(request)
    resend_to = _own_path(form.get(RESEND_FIELD))
    carried = _carried(form, CARRY_PREFIX)
    if app.space is None:
        try:
            await app.unlock(form.raw("passphrase"))
        except TrellisError as exc:
            if resend_to is not None:
                return _locked_page(app, carried, resend_to, plain_error(exc.message))
            return done(app, "/unlock", plain_error(exc.message), problem=True)
    if resend_to is None:
        return done(app, "/today")
    return page(
        app,
        "access/resend.html",
        current="",
        carried=carried,
        shown=[v for _, v in carried if v and not re.fullmatch(r"[0-9a-f]{64}", v)],
        resend_to=resend_to,
    )


@post("/lock", opt=LOCKED_OK)
async def lock(app: App) -> Redirect:
    await app.lock()
    return done(app, "/unlock", "Locked. Your passphrase opens it again.")


@post("/alive", opt=LOCKED_OK, sync_to_thread=False)
def alive(app: App) -> Response[bytes]:
    """The page script's keep-alive while someone types (client/app/static/app.js): the
    gate counted this request as activity, so the idle lock waits. The answer says
    whether the app is open (204) or locked (423): a page that missed the live
    stream's ``locked`` learns it here."""
    return Response(content=b"", status_code=204 if app.space is not None else 423)


@post("/exit", opt=LOCKED_OK)
async def quick_exit(app: App) -> Redirect:
    """Lock at once and show the neutral page. A new session cookie replaces the old
    one, so a browser keeps no page of the old session in its back/forward cache, and
    the browser is asked to drop what it cached of this site. Every other open page
    of the app leaves for the neutral page too (live stream event ``exit``)."""
    await app.lock(quick_exit=True)
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
        alive,
        quick_exit,
        bye,
        favicon,
        events,
    ]
)
