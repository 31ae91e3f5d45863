"""What the request handlers share for the life of the app (built in app.py's lifespan)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from schemas.ids import InviteId, SpaceId
from server._limits import ConnectionCounts, KeyedLimiter
from server.hub import Hub
from server.metrics import RelayMetrics
from server.partners import SignIns
from server.settings import Settings
from server.store import Store
from server.verification import SignatureVerifier
from server.writer import Writer

Clock = Callable[[], int]
"""Unix time in milliseconds; injectable so tests can move time."""

ACTIVITY_EXTENSION = "trellis.client_activity"
"""ASGI scope extension under which the server (server/_uvicorn.py) reports when the
client last sent a websocket ping, which the app cannot see otherwise."""

DRAIN_POLL_S = 0.01


@dataclass(slots=True)
class ClientActivity:
    """Loop time of the client's last websocket ping on one connection (0: none yet)."""

    last_ping_at: float = 0.0


class Drainable(Protocol):
    def __hash__(self) -> int: ...

    def drain(self) -> None:
        """Stop reading, finish what was received, then close with 1001."""


@dataclass(slots=True)
class Lifecycle:
    draining: bool = False
    ready_at: float = -math.inf
    """time.monotonic() of the last readiness probe that committed its write."""


@dataclass(frozen=True, slots=True)
class Relay:
    settings: Settings
    store: Store
    writer: Writer
    hub: Hub
    clock_ms: Clock
    metrics: RelayMetrics
    connections: ConnectionCounts[Drainable, SpaceId]
    invite_attempts: KeyedLimiter[InviteId]
    address_attempts: KeyedLimiter[str]
    sign_ins: SignIns
    verifier: SignatureVerifier
    """Verifies pushed envelopes' signatures off the loop (server/verification.py)."""
    """When each device last signed in (server/partners.py, the rejoin rule)."""
    lifecycle: Lifecycle = field(default_factory=Lifecycle)

    async def drain(self, timeout_s: float) -> bool:
        """SIGTERM: refuse new sync connections and have every open one finish its
        acknowledged work and close with 1001. True if all closed within ``timeout_s``.
        The writer keeps running meanwhile; the lifespan stops it afterwards."""
        self.lifecycle.draining = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(self.connections) and loop.time() < deadline:
            for connection in self.connections.connections():
                connection.drain()
            await asyncio.sleep(DRAIN_POLL_S)
        return not len(self.connections)
