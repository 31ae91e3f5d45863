"""The server under the relay: uvicorn, taught two things (docs/OPERATIONS.md §5).

* **Draining on SIGTERM / SIGINT.** uvicorn on its own closes websockets with 1012 and,
  once shut down, re-raises the signal, so the process ends "killed by SIGTERM" (-15).
  ``RelayServer`` handles the signals itself: it stops listening, lets the app drain
  (``Relay.drain``: in-flight pushes are committed and acknowledged, then each sync
  connection gets ``shutting_down`` and close 1001), then lets uvicorn finish its own
  shutdown (the lifespan stops the writer and closes the database), and returns, so
  the process exits 0. A second signal while draining stops at once.
* **Stalled handshakes.** uvicorn waits for a request's head forever. With
  ``handshake_limited_http`` a connection whose request head (an HTTP request or the
  websocket upgrade) has not arrived within ``auth_timeout_s`` is closed, and while
  ``max_unauthenticated_connections`` connections are waiting for theirs, a new one is
  closed at once (docs/THREAT_MODEL.md §20). What a stalled connection holds is then
  bounded in count and time: file descriptors and memory cannot run out.
* **Client pings.** The app never sees websocket ping frames, yet "silent" means no
  message *and* no ping (``idle_timeout_s``). ``ActivityWebSocketProtocol`` notes the
  time of each ping in a ``ClientActivity`` that it hands the app in the ASGI scope.

Both lean on uvicorn internals (the sans-I/O websocket protocol class, the server's
signal hook and listening sockets); requirements.lock pins uvicorn, and
tests/relay_ops test both behaviours against the real process.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server._log import logger
from server._runtime import ACTIVITY_EXTENSION, ClientActivity, Relay

DRAIN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class ActivityWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, reporting the client's pings to the app."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client_activity = ClientActivity()

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # None when the handshake was refused
            extensions = scope.setdefault("extensions", {})
            if extensions is not None:
                extensions[ACTIVITY_EXTENSION] = self.client_activity

    def handle_ping(self) -> None:
        self.client_activity.last_ping_at = self.loop.time()
        super().handle_ping()


def handshake_limited_http(timeout_s: float, max_waiting: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing connections whose request head is late (above)."""
    waiting: set[H11Protocol] = set()

    class HandshakeLimitedH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if max_waiting and len(waiting) >= max_waiting:
                transport.close()
                return
            waiting.add(self)
            self._head_timer = self.loop.call_later(timeout_s, self._head_expired)

        def _head_arrived(self) -> None:
            waiting.discard(self)
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None:
                self._head_arrived()

        def handle_websocket_upgrade(self, event: Any) -> None:
            self._head_arrived()
            super().handle_websocket_upgrade(event)

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_arrived()
            super().connection_lost(exc)

        def _head_expired(self) -> None:
            self._head_timer = None
            waiting.discard(self)
            if self.cycle is None:
                self.transport.close()

    return HandshakeLimitedH11Protocol


class RelayServer(uvicorn.Server):
    def __init__(
        self,
        config: uvicorn.Config,
        relay: Callable[[], Relay | None],
        drain_timeout_s: float,
        on_listening: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self._on_listening = on_listening
        self._relay = relay
        self._drain_timeout_s = drain_timeout_s
        self._drain_task: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's start-up (the lifespan opens the database, then the sockets
        listen); then, and only if all of that worked, say "listening"."""
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit and self._on_listening is not None:
            self._on_listening()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Replaces uvicorn's, which re-raises the signal after shutting down.
        loop = asyncio.get_running_loop()
        for sig in DRAIN_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            yield
        finally:
            for sig in DRAIN_SIGNALS:
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        if self._drain_task is not None:
            logger.warning("%s again: stopping without waiting", sig.name)
            self.force_exit = True
            self.should_exit = True
            return
        logger.info("%s received: draining connections, then stopping", sig.name)
        self._drain_task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            # Stop accepting first; connections already open drain below.
            for listener in getattr(self, "servers", []):
                listener.close()
            relay = self._relay()
            if relay is not None:
                drained = await relay.drain(self._drain_timeout_s)
                if not drained:
                    logger.warning(
                        "some connections did not finish within %.0f s; closing them",
                        self._drain_timeout_s,
                    )
        finally:
            self.should_exit = True
