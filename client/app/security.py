"""The local app's gate: every request passes it before any screen sees it.

The app listens on 127.0.0.1, but that alone protects little: every web page open in
any browser on this computer can send requests to a loopback port, and a hostile
domain can be made to resolve to 127.0.0.1 (DNS rebinding). So, in this order
(docs/THREAT_MODEL.md "The local app"):

1. **Host.** A request whose ``Host`` is not exactly ``127.0.0.1:<port>`` is refused:
   a rebound domain sends its own name there.
2. **Session.** The first visit carries a one-time token from the URL ``trellis app``
   printed. It is exchanged for a random session cookie (HttpOnly, SameSite=Strict,
   named after the port so two apps on one computer do not overwrite each other's) and
   the browser is redirected to the same address without the token. Every other
   request needs that cookie. The token works once.
3. **Forgery.** A request that may change something (any method but GET and HEAD) needs
   an ``Origin`` of exactly ``http://127.0.0.1:<port>``, a form body (not JSON: no
   other page can make a browser send one without CORS, and we answer no CORS), and the
   session's anti-forgery token in the form field ``csrf``. The body is read here,
   bounded in size, checked, then handed on unchanged.
4. **Headers.** Every answer carries a strict Content-Security-Policy (scripts, styles,
   images and connections from this origin only; no inline script or style; no
   framing), ``Cache-Control: no-store``, ``Referrer-Policy: same-origin``,
   ``X-Content-Type-Options: nosniff`` and a cross-origin opener and resource policy.

Secrets are compared in constant time and never written to a log or an error.
This is a plain ASGI layer around the Litestar app, so no screen can forget a rule.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
"""Any ASGI app (Litestar's own signature is narrower than these plain mappings)."""

TOKEN_PARAM = "token"  # noqa: S105 - the query parameter's name, not a secret
CSRF_FIELD = "csrf"
ONCE_FIELD = "once"
"""A form field with a fresh random value in every form the app renders: the gate takes
each value once, so a double click, a tired second press or a form sent again from
the history does not write twice (the repeat is sent back to the page it came from)."""
MAX_ONCE_KEPT = 10_000
"""Used ``once`` values remembered per session (the oldest are forgotten first)."""
MAX_FORM_BYTES = 256 * 1024
"""A form larger than this is refused before it is read in full (the longest journal
entry, client/cli/common.py MAX_TEXT_CHARS, fits many times over)."""
SAFE_METHODS = frozenset({"GET", "HEAD"})
QUICK_EXIT_PATH = "/exit"
NEUTRAL_PATH = "/bye"
PUBLIC_PATHS = frozenset({"/bye", "/favicon.ico", "/static/app.css", "/static/app.js"})
"""Paths served without a session: the neutral page and the first-party files. None
of them holds anything of the space."""
NOT_ACTIVITY_HEADER = b"x-trellis-live"
"""Sent by app.js when it refreshes a page for a live update: that is not the person
using the app, so it does not keep the idle lock away."""

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)


def _token() -> str:
    return secrets.token_urlsafe(32)


def once_token() -> str:
    """A fresh value for a form's ``once`` field (not a secret: it only tells a repeat)."""
    return secrets.token_urlsafe(16)


@dataclass
class Access:
    """Who may use this app: the one-time URL token, then one session.

    One person uses the app on their own computer, so there is one session at a time;
    :meth:`rotate` (quick exit) replaces it and its anti-forgery token."""

    port: int
    url_token: str | None = field(default_factory=_token)
    session: str | None = None
    csrf: str = field(default_factory=_token)
    used_once: dict[str, None] = field(default_factory=dict)
    """The ``once`` values already taken this session, oldest first."""

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def cookie_name(self) -> str:
        # Cookies are shared by every port of a host: one name per port.
        return f"trellis_{self.port}"

    def start_url(self) -> str:
        """The address to print: the only place the one-time token appears."""
        assert self.url_token is not None, "printed once, before anyone redeemed it"
        return f"{self.origin}/?{urlencode({TOKEN_PARAM: self.url_token})}"

    def redeem(self, offered: str) -> str | None:
        """The new session id if ``offered`` is the unused URL token, else None."""
        expected = self.url_token
        if expected is None or not hmac.compare_digest(offered.encode(), expected.encode()):
            return None
        self.url_token = None  # one time only
        self.session = _token()
        self.csrf = _token()
        self.used_once.clear()
        return self.session

    def rotate(self) -> str:
        """A new session and anti-forgery token in place of the current ones."""
        self.session = _token()
        self.csrf = _token()
        self.used_once.clear()
        return self.session

    def first_use(self, once: str) -> bool:
        """True the first time a form's ``once`` value is offered; False for a repeat."""
        if once in self.used_once:
            return False
        self.used_once[once] = None
        if len(self.used_once) > MAX_ONCE_KEPT:
            del self.used_once[next(iter(self.used_once))]
        return True

    def session_ok(self, offered: str | None) -> bool:
        expected = self.session
        if offered is None or expected is None:
            return False
        return hmac.compare_digest(offered.encode(), expected.encode())

    def csrf_ok(self, offered: str | None) -> bool:
        if offered is None:
            return False
        return hmac.compare_digest(offered.encode(), self.csrf.encode())

    def set_cookie_header(self, session: str) -> bytes:
        return f"{self.cookie_name}={session}; Path=/; HttpOnly; SameSite=Strict".encode()


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """Request headers, lower-cased; a repeated header keeps its first value."""
    out: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", []):
        out.setdefault(bytes(name).lower(), bytes(value))
    return out


def _cookie(headers: dict[bytes, bytes], name: str) -> str | None:
    raw = headers.get(b"cookie")
    if raw is None:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except Exception:  # a malformed Cookie header is simply no session
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


async def send_plain(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]]) -> None:
    """A short answer in plain words, with the security headers."""
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>Trellis</title><link rel=stylesheet href=/static/app.css>"
        f"<main class=narrow><p>{text}</p></main></html>"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


WRONG_HOST = "This page cannot be opened from that address."
NO_SESSION = (
    "To open Trellis, use the address that <code>trellis app</code> printed when it "
    "started. That address works once; if it was already used, stop the app and start "
    "it again for a new one."
)
FORBIDDEN = (
    "That was not sent from this app's own page, so nothing was changed. Go back to the "
    "app and try again."
)
TOO_LARGE = "That is more than this app takes at once; nothing was saved."


class Gate:
    """The ASGI layer that applies the rules above, then calls ``app``.

    ``on_activity`` is called for every request a person made (not live refreshes,
    the live stream or static files): the idle lock counts from the last one.
    """

    def __init__(self, app: ASGIApp, access: Access, on_activity: Callable[[], None]) -> None:
        self.app = app
        self.access = access
        self.on_activity = on_activity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # the app serves no websockets
            await send({"type": "websocket.close", "code": 1008})
            return
        access = self.access
        headers = _headers(scope)
        if headers.get(b"host") != access.host.encode():
            await send_plain(send, 421, WRONG_HOST, [])
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path in PUBLIC_PATHS and method in SAFE_METHODS:
            await self.app(scope, receive, _with_headers(send))
            return
        # A quick exit that fails a check below still leaves for the neutral page: a
        # double press, a stale page or a restarted app must not answer the person
        # hiding it with a page that names Trellis. It then locks nothing.
        refusal = _send_neutral(send) if (path, method) == (QUICK_EXIT_PATH, "POST") else send
        if not access.session_ok(_cookie(headers, access.cookie_name)):
            await self._without_session(scope, refusal, method)
            return
        if method not in SAFE_METHODS:
            replay = await self._checked_form(scope, headers, receive, refusal)
            if replay is None:
                return
            receive = replay
        if path != "/events" and headers.get(NOT_ACTIVITY_HEADER) is None:
            self.on_activity()
        await self.app(scope, receive, _with_headers(send))

    async def _without_session(self, scope: Scope, send: Send, method: str) -> None:
        """Redeem the URL token (GET only), or refuse in plain words."""
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        offered = query.get(TOKEN_PARAM)
        session = None if offered is None or method != "GET" else self.access.redeem(offered)
        if session is None:
            await send_plain(send, 403, NO_SESSION, [])
            return
        # The token leaves the address bar (and history) at once.
        rest = urlencode([(k, v) for k, v in query.items() if k != TOKEN_PARAM])
        location = scope["path"] + (f"?{rest}" if rest else "")
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode()),
                    (b"set-cookie", self.access.set_cookie_header(session)),
                    (b"content-length", b"0"),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _checked_form(
        self, scope: Scope, headers: dict[bytes, bytes], receive: Receive, send: Send
    ) -> Receive | None:
        """The request body if Origin, content type and anti-forgery token hold; else
        the refusal is sent and None returned."""
        if headers.get(b"origin") != self.access.origin.encode():
            await send_plain(send, 403, FORBIDDEN, [])
            return None
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind != b"application/x-www-form-urlencoded":
            await send_plain(send, 403, FORBIDDEN, [])
            return None
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body.extend(message.get("body", b""))
            if len(body) > MAX_FORM_BYTES:
                await send_plain(send, 413, TOO_LARGE, [])
                return None
            if not message.get("more_body", False):
                break
        fields = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        offered = next((v for k, v in fields if k == CSRF_FIELD), None)
        if not self.access.csrf_ok(offered):
            await send_plain(send, 403, FORBIDDEN, [])
            return None
        once = next((v for k, v in fields if k == ONCE_FIELD), None)
        if once is not None and not self.access.first_use(once):
            # The same form again (a double click): what the first one did stands; the
            # browser goes back to the page it came from, where that is said.
            await _see_page(send, _same_origin_path(headers, self.access.origin))
            return None
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()  # the disconnect, when it comes
            sent = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return replay


def _same_origin_path(headers: dict[bytes, bytes], origin: str) -> str:
    """The path of the page a form was sent from (its Referer, when it is this app's
    own), else the start page."""
    referer = headers.get(b"referer", b"").decode("latin-1")
    if referer.startswith(origin + "/"):
        path = referer[len(origin) :].split("#", 1)[0]
        if path.startswith("/") and not path.startswith("//"):
            return path
    return "/"


async def _see_page(send: Send, location: str, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1", errors="replace")),
                (b"content-length", b"0"),
                *SECURITY_HEADERS,
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def _send_neutral(send: Send) -> Send:
    """A ``send`` for a quick exit the gate refuses: the refusal (403, 413, a repeat's
    303) goes out as the neutral page's 303 with ``Clear-Site-Data``, as a quick exit
    answers; nothing was locked or changed (THREAT_MODEL §29.1)."""

    async def neutral(message: Message) -> None:
        if message["type"] == "http.response.start":  # its body is dropped
            await _see_page(send, NEUTRAL_PATH, ((b"clear-site-data", b'"cache"'),))

    return neutral


def _with_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            # Ours replace any the app set (a static file's own cache-control).
            ours = {n for n, _ in SECURITY_HEADERS}
            kept = [(n, v) for n, v in message.get("headers", []) if bytes(n).lower() not in ours]
            message = {**message, "headers": [*kept, *SECURITY_HEADERS]}
        await send(message)

    return wrapped
