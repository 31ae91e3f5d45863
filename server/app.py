"""``create_app(settings)``: the relay as a Litestar application.

The lifespan opens the store, starts the writer and builds the hub; on shutdown it
drains the writer (every queued push is committed and acknowledged, or failed) before
closing the store. Tests build their own app with their own settings and clock.

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
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig

from schemas.errors import ERRORS, ErrorCode
from schemas.http import ErrorBody
from server import __version__
from server._log import logger
from server._runtime import Clock, Relay
from server.errors import RelayError
from server.http_api import InvitesController, SpacesController, healthz, relay_from_state
from server.hub import Hub
from server.settings import Settings
from server.sqlite_store import SqliteStore
from server.store import Store
from server.sync import sync_handler
from server.writer import Writer


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def _error_response(code: ErrorCode, detail: str, status: int | None = None) -> Response[ErrorBody]:
    return Response(
        content=ErrorBody(code=code.value, detail=detail),
        status_code=status or ERRORS[code].http_status,
    )


def _on_relay_error(_: Request[Any, Any, Any], exc: RelayError) -> Response[ErrorBody]:
    return _error_response(exc.code, exc.detail)


def _on_http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    """Litestar's refusals: validation (400), unknown route (404), method (405), size."""
    status = exc.status_code
    if status >= 500:
        return _error_response(ErrorCode.INTERNAL_ERROR, ERRORS[ErrorCode.INTERNAL_ERROR].message)
    code = ErrorCode.FRAME_TOO_LARGE if status == 413 else ErrorCode.BAD_REQUEST
    detail = exc.detail or ERRORS[code].message
    if isinstance(exc.extra, list):
        # msgspec's messages name the field and the rule, never the value sent.
        reasons = [str(item.get("message")) for item in exc.extra if isinstance(item, dict)]
        if reasons:
            detail = f"{detail}: {'; '.join(reasons)}"
    return _error_response(code, detail, status)


def _on_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    # The outermost layer of an HTTP request: log (no bodies) and answer a typed 500.
    logger.error("unexpected error in an HTTP handler", exc_info=exc)
    return _error_response(ErrorCode.INTERNAL_ERROR, ERRORS[ErrorCode.INTERNAL_ERROR].message)


def create_app(
    settings: Settings | None = None,
    *,
    clock_ms: Clock = wall_clock_ms,
    store_factory: Callable[[Settings], Store] | None = None,
) -> Litestar:
    """Build the relay. ``store_factory`` lets a test or another backend supply the Store."""
    settings = (settings or Settings()).validate()

    def default_store(s: Settings) -> Store:
        return SqliteStore(s.db, s.read_connections)

    make_store = store_factory or default_store

    @asynccontextmanager
    async def relay_lifespan(app: Litestar) -> AsyncIterator[None]:
        store = make_store(settings)
        await store.open()
        hub = Hub()
        writer = Writer(store, hub, clock_ms)
        writer.start()
        app.state.relay = Relay(settings, store, writer, hub, clock_ms)
        try:
            yield
        finally:
            await writer.stop()
            await store.close()

    return Litestar(
        route_handlers=[SpacesController, InvitesController, healthz, sync_handler],
        dependencies={"relay": Provide(relay_from_state, sync_to_thread=False)},
        lifespan=[relay_lifespan],
        exception_handlers={
            RelayError: _on_relay_error,
            HTTPException: _on_http_error,
            Exception: _on_unexpected,
        },
        openapi_config=OpenAPIConfig(title="Trellis relay", version=__version__),
        request_max_body_size=settings.max_frame_bytes,
    )
