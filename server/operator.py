"""The operator listener: metrics and the admin endpoints, never on the public port.

``/metrics`` used to be a route of the public app, and proxies that block it with an
exact-match rule let ``/metrics/`` and ``/metrics%2F`` through. Now the public app has
no operator route at all, so no spelling of a path reaches one there; operator routes
live on a second listener (``operator_host:operator_port``, loopback by default), which
the public proxy never forwards to (docs/OPERATIONS.md §9, §12).

``dispatch`` is the one ASGI app uvicorn serves on both sockets: a connection that
arrived on the operator socket goes to ``OperatorApp``, any other to the public app.
Routes match the raw path exactly, so an encoded or trailing slash is 404 here too.

Routes:

* ``GET /metrics``: Prometheus text (counts only; no token, as Prometheus scrapes it).
* ``GET /admin/spaces``, ``POST /admin/spaces/{id}/quota``, ``POST
  /admin/spaces/{id}/delete``: need ``Authorization: Bearer`` and the token the relay
  writes at start to ``<db>.operator-token`` (mode 0600), so only the relay's own user
  (``sudo -u trellis trellis-relay …``) can use them, not every account on the machine.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from litestar import Litestar

from schemas.errors import ErrorCode
from schemas.ids import SpaceId
from server import admin
from server._log import logger
from server._runtime import Relay
from server.errors import RelayError
from server.ingest import Quota
from server.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from server.quotas import QuotaBook

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_SUFFIX = ".operator-token"  # noqa: S105 - a file name, not a secret
MAX_BODY_BYTES = 4096


def token_path(db: str) -> Path:
    return Path(db + TOKEN_SUFFIX)


def write_token(db: str) -> str:
    """A new random token in ``<db>.operator-token``, readable by the relay's user only."""
    token = secrets.token_urlsafe(32)
    path = token_path(db)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    os.replace(partial, path)
    return token


def quota_book(app: Litestar) -> QuotaBook | None:
    book = getattr(app.state, "quota_book", None)
    return book if isinstance(book, QuotaBook) else None


async def refresh_book(relay: Relay, book: QuotaBook | None) -> None:
    """Re-read the stored totals and per-space quotas (after a space was deleted)."""
    run = getattr(relay.store, "run_on_writer", None)
    if book is None or run is None:
        return
    total, count, quotas = await relay.writer.run_exclusive(None, lambda _store: run(admin.totals))
    book.load(total, count, quotas)


class OperatorApp:
    """The operator listener's routes, over the public app's running relay."""

    def __init__(self, public: Litestar, token: str) -> None:
        self._public = public
        self._token = token

    def _relay(self) -> Relay:
        relay = getattr(self._public.state, "relay", None)
        if not isinstance(relay, Relay):
            raise RelayError(ErrorCode.NOT_READY)
        return relay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        if scope["type"] != "http":  # websockets: not here
            await send({"type": "websocket.close", "code": 4004})
            return
        try:
            status, media, body = await self._route(scope, receive)
        except RelayError as exc:
            status, media = exc.http_status, "application/json"
            body = json.dumps({"code": exc.code.value, "detail": exc.detail}).encode()
        except Exception:
            logger.exception("unexpected error on the operator listener")
            status, media = 500, "application/json"
            body = json.dumps({"code": "internal_error", "detail": "see the relay's log"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", media.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _route(self, scope: Scope, receive: Receive) -> tuple[int, str, bytes]:
        method = scope["method"]
        raw = scope.get("raw_path") or scope["path"].encode()
        path = raw.decode("latin-1").split("?", 1)[0]
        if path == "/metrics" and method == "GET":
            return 200, METRICS_CONTENT_TYPE, self._relay().metrics.render().encode()
        parts = path.split("/")
        # "", "admin", "spaces"[, id, action]
        if parts[:3] != ["", "admin", "spaces"] or len(parts) not in (3, 5):
            raise RelayError(ErrorCode.BAD_REQUEST, "no such operator route")
        self._authorize(scope)
        relay = self._relay()
        run = getattr(relay.store, "run_on_writer", None)
        if run is None:
            raise RelayError(ErrorCode.BAD_REQUEST, "this store has no admin tools")
        if len(parts) == 3 and method == "GET":
            spaces = await run(admin.list_spaces)
            return _json(200, [_as_dict(summary) for summary in spaces])
        if len(parts) != 5 or method != "POST":
            raise RelayError(ErrorCode.BAD_REQUEST, "no such operator route")
        space = _space_id(parts[3])
        book = quota_book(self._public)
        if parts[4] == "delete":
            deleted = await relay.writer.run_exclusive(
                space, lambda _store: run(lambda db: admin.delete_space(db, space))
            )
            if deleted is None:
                raise RelayError(ErrorCode.UNKNOWN_SPACE)
            relay.hub.revoke(space, set(deleted.devices))  # their connections end now
            await refresh_book(relay, book)
            return _json(
                200, {"space_id": space.hex(), "deleted": True, "bytes": deleted.freed_bytes}
            )
        if parts[4] == "quota":
            quota = _quota_body(await _read_body(receive))
            found = await relay.writer.run_exclusive(
                space, lambda _store: run(lambda db: admin.set_quota(db, space, quota))
            )
            if not found:
                raise RelayError(ErrorCode.UNKNOWN_SPACE)
            await refresh_book(relay, book)
            return _json(200, {"space_id": space.hex(), "quota": _quota_json(quota)})
        raise RelayError(ErrorCode.BAD_REQUEST, "no such operator route")

    def _authorize(self, scope: Scope) -> None:
        given = b""
        for name, value in scope.get("headers", []):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                given = value[7:].strip()
        if not given or not hmac.compare_digest(given, self._token.encode()):
            raise RelayError(
                ErrorCode.AUTH_FAILED, "the admin endpoints need the relay's operator token"
            )


def _as_dict(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _json(status: int, data: Any) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(data).encode()


def _space_id(text: str) -> SpaceId:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 16:
        raise RelayError(ErrorCode.BAD_REQUEST, "a space id is 32 hex digits")
    return SpaceId(raw)


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if len(body) > MAX_BODY_BYTES:
            raise RelayError(ErrorCode.FRAME_TOO_LARGE)
        if not message.get("more_body"):
            return body


def _quota_body(body: bytes) -> Quota | None:
    """``{"max_events": N, "max_bytes": N}`` (0: no limit), or ``{"default": true}``."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise RelayError(ErrorCode.BAD_REQUEST, "the body must be a JSON object")
    if data.get("default") is True:
        return None
    values = [data.get("max_events"), data.get("max_bytes")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise RelayError(
            ErrorCode.BAD_REQUEST, "max_events and max_bytes must be whole numbers, 0 or more"
        )
    return Quota(int(values[0]), int(values[1]))  # type: ignore[arg-type]


def _quota_json(quota: Quota | None) -> dict[str, int] | None:
    return None if quota is None else {"max_events": quota.max_events, "max_bytes": quota.max_bytes}


def dispatch(public: Any, operator: ASGI, operator_port: int) -> ASGI:
    """One ASGI app for both sockets: the operator socket's connections go to
    ``operator``; lifespan and every other connection to ``public``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if (
            operator_port
            and scope["type"] in ("http", "websocket")
            and server is not None
            and server[1] == operator_port
        ):
            await operator(scope, receive, send)
        else:
            await public(scope, receive, send)

    return app
