"""Websocket shell around :class:`client.core.session.SyncSession` (docs/PROTOCOL.md §6).

It moves bytes between the socket and the session and hands session events to the
caller; every protocol rule lives in the session. Compression is off: ciphertext does
not compress, and permessage-deflate cut throughput tenfold when measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable

import websockets
from websockets.asyncio.client import ClientConnection, connect

from client.core.session import SessionEvent, SessionFailed, SyncSession
from client.errors import ClientErrorCode, RelayProtocolError, RelayRefused, RelayUnreachable
from client.store.relay_http import RelayEndpoint, certificate_error, tls_context
from schemas.errors import ErrorCode, message_for

MAX_FRAME_BYTES = 16 * 1024 * 1024
OPEN_TIMEOUT_S = 10.0

EventHandler = Callable[[SessionEvent], Awaitable[None]]


class SyncConnection:
    """One connection to the relay for one device; ``run`` returns when it is over."""

    def __init__(self, endpoint: RelayEndpoint, session: SyncSession) -> None:
        self.endpoint = endpoint
        self.session = session
        self._ws: ClientConnection | None = None
        self._send_lock = asyncio.Lock()

    async def flush(self) -> None:
        """Send whatever the session has queued (also called after local appends)."""
        ws = self._ws
        if ws is None:
            return
        async with self._send_lock:
            for frame in self.session.data_to_send():
                await ws.send(frame)

    async def send_queued(self) -> None:
        """Send what is queued (a local append's push). A connection that closed
        meanwhile is no error of the sender: what was queued stays in the outbox,
        ``run``'s reading ends on the close, and the next session pushes it (an app form
        saved at that moment used to fail with the close)."""
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.flush()

    async def run(self, handle: EventHandler, *, until_up_to_date: bool) -> None:
        try:
            async with connect(
                self.endpoint.sync_url,
                compression=None,
                proxy=None,
                max_size=MAX_FRAME_BYTES,
                open_timeout=OPEN_TIMEOUT_S,
                user_agent_header="trellis",
                ssl=tls_context() if self.endpoint.sync_url.startswith("wss:") else None,
            ) as ws:
                self._ws = ws
                try:
                    await self._loop(ws, handle, until_up_to_date)
                finally:
                    self._ws = None
        except ssl.SSLCertVerificationError as exc:  # an OSError: it must come first
            raise certificate_error(self.endpoint.url, exc) from exc
        except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as exc:
            raise RelayUnreachable(
                f"Could not reach the relay at {self.endpoint.url}. Check the address and "
                "your connection; nothing was lost."
            ) from exc

    async def _loop(
        self, ws: ClientConnection, handle: EventHandler, until_up_to_date: bool
    ) -> None:
        # A relay that refuses at once (or is shutting down) may have closed before this
        # first send: the frames it sent before closing are still read below (its error
        # says why), and the session ends as a closed connection, never as a crash.
        await self.send_queued()
        try:
            async for frame in ws:
                if isinstance(frame, str):
                    events: list[SessionEvent] = [
                        SessionFailed(
                            ClientErrorCode.BAD_RELAY_FRAME, "the relay sent a text frame"
                        )
                    ]
                else:
                    events = self.session.receive(frame)
                # Send what the frame prompted (the next Pull) before handling its
                # events: the relay reads the next page while we verify this one.
                await self.flush()
                for event in events:
                    await handle(event)
                    if isinstance(event, SessionFailed):
                        raise _refusal(event.code)
                await self.flush()
                # The handler may have queued more (finishing a join): check afterwards.
                if until_up_to_date and self.session.up_to_date:
                    await ws.close()
                    return
        except websockets.ConnectionClosed:
            pass
        raise RelayUnreachable(
            "The connection to the relay closed before sync finished; nothing was lost. Try again."
        )


# Codes SyncSession itself ends a session with (client/core/session.py): not the relay's word.
_SESSION_PROTOCOL_ERRORS = frozenset(
    {ClientErrorCode.BAD_RELAY_FRAME, ClientErrorCode.UNEXPECTED_RELAY_MESSAGE}
)


def _refusal(code: str) -> RelayRefused | RelayProtocolError:
    """The error for a session that ended: the relay's refusal, or this client finding
    that the relay broke the protocol (a ClientErrorCode), which is no refusal."""
    if code in _SESSION_PROTOCOL_ERRORS:
        return RelayProtocolError(
            "The relay sent something this app cannot follow, so the connection was "
            "closed; nothing was lost. Try again later; if it keeps happening, the relay "
            "may need an update.",
            code=code,
        )
    try:
        text = message_for(ErrorCode(code))
    except ValueError:
        text = "The relay ended the connection with an error this app does not know."
    return RelayRefused(text, code=code)
