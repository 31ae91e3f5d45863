"""Liveness and readiness (split from http_api.py; docs/OPERATIONS.md §9)."""

from __future__ import annotations

import asyncio
import time

from litestar import get

from schemas.errors import ErrorCode
from schemas.http import HealthResponse
from server import __version__
from server._http_common import RelayDep, error_responses
from server._log import logger
from server.errors import RelayError

READY_TIMEOUT_S = 5.0
"""A readiness probe whose write has not committed by then answers not_ready."""
READY_CACHE_S = 1.0
"""Probes within this long of a good one reuse it: /readyz is no way to load the disk."""


@get("/healthz", tags=["health"])
async def healthz() -> HealthResponse:
    """Liveness: the process answers. Does not touch the database."""
    return HealthResponse(status="ok", version=__version__)


@get(
    "/readyz",
    tags=["health"],
    responses=error_responses(ErrorCode.NOT_READY, ErrorCode.SHUTTING_DOWN),
)
async def readyz(relay: RelayDep) -> HealthResponse:
    """Readiness: the database takes a durable write now (503 not_ready if not), and
    the relay is not shutting down (503 shutting_down)."""
    if relay.lifecycle.draining:
        raise RelayError(ErrorCode.SHUTTING_DOWN)
    lifecycle = relay.lifecycle
    if time.monotonic() - lifecycle.ready_at > READY_CACHE_S:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await relay.writer.run_exclusive(
                    None, lambda store: store.check_writable(relay.clock_ms())
                )
        except RelayError:
            raise
        except Exception as exc:
            # A full disk, a read-only file system, a stuck writer: say so, not 500.
            logger.warning("readiness probe failed: %s", type(exc).__name__)
            raise RelayError(
                ErrorCode.NOT_READY, "the relay cannot write to its database right now"
            ) from None
        lifecycle.ready_at = time.monotonic()
    return HealthResponse(status="ready", version=__version__)
