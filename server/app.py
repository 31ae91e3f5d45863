"""``create_app(settings)``: the relay as a Litestar application.

The lifespan opens the store, starts the writer and builds the hub, the metrics and the
limit counters; on shutdown it drains the writer (every queued push is committed and
acknowledged, or failed) before closing the store. Draining the sync connections
comes first and is the server's job (``Relay.drain``, called by cli.py on SIGTERM).
Tests build their own app with their own settings and clock.

Every HTTP request gets an id (the proxy's ``X-Request-Id`` if it is a plain token),
carried by its log lines and echoed in the ``X-Request-Id`` response header.

Every HTTP error is ``schemas.http.ErrorBody{code, detail}`` with the status of the
code in ``schemas.errors.ERRORS``; Litestar's own refusals (a body that does not
validate, an unknown route, a body that is too large) come out in the same shape,
never as a 500 or as Litestar's default body.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from schemas.errors import ERRORS, ErrorCode
from schemas.http import ErrorBody
from schemas.ids import SpaceId
from server import __version__
from server._http_common import relay_from_state, retry_after_header
from server._limits import ConnectionCounts, KeyedLimiter
from server._log import logger, request_id, request_id_from_header
from server._openapi import correct_bytes_fields, openapi_render_plugins
from server._runtime import Clock, Drainable, Relay
from server.errors import RelayError
from server.http_api import SpacesController
from server.http_health import healthz, readyz
from server.http_invites import InvitesController
from server.hub import Hub
from server.ingest import Quota
from server.metrics import RelayMetrics
from server.operator import refresh_book
from server.partners import SignIns
from server.quotas import CreationGate, QuotaBook
from server.settings import Settings
from server.store import Store
from server.stores import link_processes, store_for
from server.sync import sync_handler
from server.verification import SignatureVerifier
from server.writer import Writer


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


REQUEST_ID_HEADER = "x-request-id"


def _error_response(
    request: Request[Any, Any, Any],
    code: ErrorCode,
    detail: str,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ErrorBody]:
    relay = getattr(request.app.state, "relay", None)
    if isinstance(relay, Relay):
        relay.metrics.errors.inc(label=code.value)
    return Response(
        content=ErrorBody(code=code.value, detail=detail),
        status_code=status or ERRORS[code].http_status,
        headers=headers,
    )


def _on_relay_error(request: Request[Any, Any, Any], exc: RelayError) -> Response[ErrorBody]:
    headers = None if exc.retry_after_s is None else retry_after_header(exc.retry_after_s)
    return _error_response(request, exc.code, exc.detail, headers=headers)


def _on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    """Litestar's refusals: validation (400), unknown route (404), method (405), size."""
    status = exc.status_code
    if status >= 500:
        return _error_response(
            request, ErrorCode.INTERNAL_ERROR, ERRORS[ErrorCode.INTERNAL_ERROR].message
        )
    code = ErrorCode.FRAME_TOO_LARGE if status == 413 else ErrorCode.BAD_REQUEST
    detail = exc.detail or ERRORS[code].message
    if isinstance(exc.extra, list):
        # msgspec's messages name the field and the rule, never the value sent.
        reasons = [str(item.get("message")) for item in exc.extra if isinstance(item, dict)]
        if reasons:
            detail = f"{detail}: {'; '.join(reasons)}"
    # 405 carries Allow (RFC 9110 §15.5.6), which Litestar puts in exc.headers.
    return _error_response(request, code, detail, status, headers=dict(exc.headers or {}))


DECODER_RECURSION = "while deserializing"
"""msgspec's RecursionError message: raised only by its decoders, on deep nesting."""


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    if isinstance(exc, RecursionError) and DECODER_RECURSION in str(exc):
        # A body nested deeper than the JSON decoder goes (Litestar decodes it before any
        # handler runs): bad input, not a fault of the relay (docs/THREAT_MODEL.md §20).
        logger.info("refused a request body nested too deeply")
        return _error_response(
            request, ErrorCode.BAD_REQUEST, "the request body is nested too deeply"
        )
    # The outermost layer of an HTTP request: log (no bodies) and answer a typed 500.
    logger.error("unexpected error in an HTTP handler", exc_info=exc)
    return _error_response(
        request, ErrorCode.INTERNAL_ERROR, ERRORS[ErrorCode.INTERNAL_ERROR].message
    )


def request_ids(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: give each HTTP request an id for its log lines and response."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        header = MutableScopeHeaders(scope).get(REQUEST_ID_HEADER)
        rid = request_id_from_header(header)
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)

    return middleware


def create_app(
    settings: Settings | None = None,
    *,
    clock_ms: Clock = wall_clock_ms,
    store_factory: Callable[[Settings], Store] | None = None,
) -> Litestar:
    """Build the relay. ``store_factory`` lets a test or another backend supply the Store."""
    settings = (settings or Settings()).validate()

    make_store = store_factory or store_for

    @asynccontextmanager
    async def relay_lifespan(app: Litestar) -> AsyncIterator[None]:
        store = make_store(settings)
        await store.open()
        hub = Hub()
        relay_metrics = RelayMetrics(__version__)
        quota = Quota(settings.max_space_events, settings.max_space_bytes)
        book = QuotaBook(quota, settings.max_total_bytes, settings.max_spaces)
        app.state.quota_book = book
        app.state.creation_gate = CreationGate.from_settings(settings)
        writer = Writer(store, hub, clock_ms, quota=quota, metrics=relay_metrics, quota_book=book)
        writer.start()
        verifier = SignatureVerifier()
        link_processes(store, hub)
        connections: ConnectionCounts[Drainable, SpaceId] = ConnectionCounts(
            settings.max_connections_per_address,
            settings.max_connections_per_space,
            settings.max_unauthenticated_connections,
        )
        relay_metrics.bind_connections(
            lambda: len(connections), lambda: connections.signed_in_devices
        )
        app.state.relay = Relay(
            settings,
            store,
            writer,
            hub,
            clock_ms,
            relay_metrics,
            connections,
            invite_attempts=KeyedLimiter(
                settings.redeem_attempts_per_invite, settings.redeem_window_s
            ),
            address_attempts=KeyedLimiter(
                settings.redeem_attempts_per_address, settings.redeem_window_s
            ),
            sign_ins=SignIns(clock_ms()),
            verifier=verifier,
        )
        await refresh_book(app.state.relay, book)
        try:
            yield
        finally:
            await writer.stop()
            verifier.close()
            await store.close()

    app = Litestar(
        route_handlers=[
            SpacesController,
            InvitesController,
            healthz,
            readyz,
            sync_handler,
        ],
        dependencies={"relay": Provide(relay_from_state, sync_to_thread=False)},
        lifespan=[relay_lifespan],
        middleware=[request_ids],
        logging_config=None,  # server/_log.py configures logging, for text and JSON alike
        exception_handlers={
            RelayError: _on_relay_error,
            HTTPException: _on_http_error,
            Exception: _on_unexpected,
        },
        openapi_config=OpenAPIConfig(
            title="Trellis relay", version=__version__, render_plugins=openapi_render_plugins()
        ),
        request_max_body_size=settings.max_frame_bytes,
    )
    correct_bytes_fields(app)
    return app
