"""What the relay's HTTP endpoints share (split from http_api.py): the Relay as a
dependency, the id path parameters, and the OpenAPI error responses of a route."""

from __future__ import annotations

import math
from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter

from schemas.errors import ERRORS, ErrorCode
from schemas.http import ErrorBody
from server._limits import address_key
from server._runtime import Relay

RelayDep = NamedDependency[Relay]
"""Handlers receive the Relay as the named dependency ``relay``."""

# Path ids: hex of either case (docs/PROTOCOL.md §2.2), declared so the OpenAPI document
# says so; one that does not match is 400 bad_request like any malformed request.
SpaceIdPath = Annotated[
    str,
    PathParameter(pattern="^[0-9a-fA-F]{32}$", description="space id, 32 hex digits"),
]
DeviceIdPath = Annotated[
    str,
    PathParameter(pattern="^[0-9a-fA-F]{64}$", description="device id, 64 hex digits"),
]
InviteIdPath = Annotated[
    str,
    PathParameter(pattern="^[0-9a-fA-F]{32}$", description="invite id, 32 hex digits"),
]


def error_responses(*codes: ErrorCode) -> dict[int, ResponseSpec]:
    """OpenAPI responses for the error codes a route may answer, grouped by status.

    Every route may also answer 400 bad_request (a body or path that does not parse)."""
    by_status: dict[int, list[str]] = {}
    for code in (ErrorCode.BAD_REQUEST, *codes):
        by_status.setdefault(ERRORS[code].http_status, []).append(code.value)
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            generate_examples=False,
            description="ErrorBody with code " + " or ".join(f"`{c}`" for c in names),
        )
        for status, names in sorted(by_status.items())
    }


WRITE_ERRORS = (ErrorCode.FRAME_TOO_LARGE, ErrorCode.SHUTTING_DOWN)
"""Any request with a body may be too large; any write may meet a relay shutting down."""
INVITE_LIMIT = (ErrorCode.RATE_LIMITED,)


def relay_from_state(state: State) -> Relay:
    """Dependency provider: the Relay built by the lifespan in app.py."""
    relay: Relay = state.relay
    return relay


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"retry-after": str(max(1, math.ceil(seconds)))}


def client_address(request: Request[Any, Any, Any]) -> str:
    return address_key(request.client.host if request.client else None)
