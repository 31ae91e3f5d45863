"""The relay's HTTP endpoints, seen from the client (docs/PROTOCOL.md §7).

The standard library's urllib runs in a worker thread: these calls happen a few times
in a space's life (create, invite, join), so a dedicated HTTP client would add a
dependency for no gain.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import TypeVar

import msgspec
from websockets.headers import build_host

from client.errors import (
    ClientErrorCode,
    RelayCertificateError,
    RelayProtocolError,
    RelayRefused,
    RelayUnreachable,
    TrellisError,
)
from schemas.errors import ErrorCode, message_for
from schemas.http import (
    CreateInviteRequest,
    CreateInviteResponse,
    CreateSpaceRequest,
    CreateSpaceResponse,
    ErrorBody,
    InviteInfo,
    LeaveRequest,
    LeaveResponse,
    RedeemInviteRequest,
    RedeemInviteResponse,
    RevokeDeviceRequest,
    RevokeDeviceResponse,
)

HTTP_TIMEOUT_S = 15.0
_T = TypeVar("_T")

CA_FILE_ENV = "TRELLIS_CA_FILE"
"""A PEM file of extra certificate authorities to trust (``trellis --ca-file``), for a
relay whose certificate comes from a private CA; the system's CAs stay trusted."""
CREATION_TOKEN_ENV = "TRELLIS_CREATION_TOKEN"  # noqa: S105 - a variable name
"""The relay operator's creation token, for a relay that requires one to create a space."""


def tls_context() -> ssl.SSLContext:
    """Certificate checks as usual, plus the CA file in $TRELLIS_CA_FILE if set."""
    context = ssl.create_default_context()
    ca_file = os.environ.get(CA_FILE_ENV)
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError):
            raise TrellisError(
                f"The certificate authority file {ca_file} cannot be read as a PEM "
                "certificate. Check the path given with --ca-file or TRELLIS_CA_FILE.",
                code=ClientErrorCode.BAD_CA_FILE,
            ) from None
    return context


def certificate_error(url: str, exc: ssl.SSLCertVerificationError) -> RelayCertificateError:
    reason = exc.verify_message or exc.reason or "it did not verify"
    return RelayCertificateError(
        f"The relay at {url} answered, but its certificate could not be verified "
        f"({reason}). If the relay uses its own certificate authority, give that "
        "authority's certificate with --ca-file FILE (or TRELLIS_CA_FILE); otherwise do "
        "not go on: someone may be in between. Nothing was sent."
    )


@dataclass(frozen=True, slots=True)
class RelayEndpoint:
    """Where a relay lives: its HTTP base, its sync websocket, and the Host we send."""

    url: str
    http_base: str
    sync_url: str
    host: str

    @classmethod
    def parse(cls, text: str) -> RelayEndpoint:
        raw = text.strip()
        if "://" not in raw:
            raw = "http://" + raw
        parts = urllib.parse.urlsplit(raw)
        scheme = {"http": "http", "ws": "http", "https": "https", "wss": "https"}.get(
            parts.scheme.lower()
        )
        if scheme is None or not parts.hostname:
            raise TrellisError(
                "The relay address is not valid. Use a form like http://127.0.0.1:8765.",
                code=ClientErrorCode.INVALID_RELAY_URL,
            )
        secure = scheme == "https"
        try:
            port = parts.port or (443 if secure else 80)
        except ValueError:
            raise TrellisError(
                "The relay address has an invalid port.", code=ClientErrorCode.INVALID_RELAY_URL
            ) from None
        host = build_host(parts.hostname, port, secure)
        path = parts.path.rstrip("/")
        http_base = f"{scheme}://{host}{path}"
        ws_scheme = "wss" if secure else "ws"
        return cls(
            url=http_base,
            http_base=http_base,
            sync_url=f"{ws_scheme}://{host}{path}/v1/sync",
            host=host,
        )


class RelayHttp:
    def __init__(self, endpoint: RelayEndpoint) -> None:
        self.endpoint = endpoint

    async def create_space(self, req: CreateSpaceRequest) -> CreateSpaceResponse:
        token = os.environ.get(CREATION_TOKEN_ENV, "").strip()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self._call("POST", "/v1/spaces", req, CreateSpaceResponse, headers)

    async def create_invite(
        self, space_id_hex: str, req: CreateInviteRequest
    ) -> CreateInviteResponse:
        return await self._call(
            "POST", f"/v1/spaces/{space_id_hex}/invites", req, CreateInviteResponse
        )

    async def fetch_invite(self, invite_id_hex: str) -> InviteInfo:
        return await self._call("GET", f"/v1/invites/{invite_id_hex}", None, InviteInfo)

    async def redeem_invite(
        self, invite_id_hex: str, req: RedeemInviteRequest
    ) -> RedeemInviteResponse:
        return await self._call(
            "POST", f"/v1/invites/{invite_id_hex}/redeem", req, RedeemInviteResponse
        )

    async def revoke_device(
        self, space_id_hex: str, device_id_hex: str, req: RevokeDeviceRequest
    ) -> RevokeDeviceResponse:
        return await self._call(
            "POST",
            f"/v1/spaces/{space_id_hex}/devices/{device_id_hex}/revoke",
            req,
            RevokeDeviceResponse,
        )

    async def leave(self, space_id_hex: str, req: LeaveRequest) -> LeaveResponse:
        return await self._call("POST", f"/v1/spaces/{space_id_hex}/leave", req, LeaveResponse)

    async def _call(
        self,
        method: str,
        path: str,
        body: msgspec.Struct | None,
        result: type[_T],
        headers: dict[str, str] | None = None,
    ) -> _T:
        data = None if body is None else msgspec.json.encode(body)
        status, payload = await asyncio.to_thread(self._send, method, path, data, headers or {})
        if 200 <= status < 300:
            try:
                return msgspec.json.decode(payload, type=result)
            except (msgspec.MsgspecError, UnicodeDecodeError):
                raise RelayProtocolError(
                    "The relay sent an answer this app cannot read; nothing was changed. "
                    "Try again later; if it keeps happening, the relay may need an update.",
                    code=ClientErrorCode.BAD_RELAY_RESPONSE,
                ) from None
        raise _refusal(status, payload)

    def _send(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        url = self.endpoint.http_base + path
        request = urllib.request.Request(  # noqa: S310 - scheme checked in RelayEndpoint
            url, data=data, method=method, headers={"Content-Type": "application/json", **headers}
        )
        context = tls_context() if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=HTTP_TIMEOUT_S, context=context
            ) as resp:
                return int(resp.status), bytes(resp.read())
        except urllib.error.HTTPError as exc:
            with exc:  # it holds the connection: close it, or the socket leaks
                return int(exc.code), bytes(exc.read())
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ssl.SSLCertVerificationError):
                raise certificate_error(self.endpoint.url, exc.reason) from None
            raise RelayUnreachable(
                f"Could not reach the relay at {self.endpoint.url}. Check the address and "
                "your connection; nothing was lost."
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise certificate_error(self.endpoint.url, exc) from None
        except (OSError, TimeoutError):
            raise RelayUnreachable(
                f"Could not reach the relay at {self.endpoint.url}. Check the address and "
                "your connection; nothing was lost."
            ) from None


def _refusal(status: int, payload: bytes) -> RelayRefused:
    try:
        body = msgspec.json.decode(payload, type=ErrorBody)
    except (msgspec.MsgspecError, UnicodeDecodeError):
        return RelayRefused(
            f"The relay answered with an error (HTTP {status}).", code=ClientErrorCode.RELAY_ERROR
        )
    try:
        text = message_for(ErrorCode(body.code))
    except ValueError:
        text = body.detail or f"The relay refused the request ({body.code})."
    return RelayRefused(text, code=body.code)
