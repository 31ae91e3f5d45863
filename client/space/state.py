"""The state one open space holds in memory, shared by its flows.

One dataclass rather than private attributes of the facade, so the flow modules
(opening, writing, syncing) work on it without reaching into
:class:`client.space.Space` (issue #12). Only those three modules and the facade use
it; the outer flows (devices, relocation, pairing) see a
:class:`client.space.ports.SpaceLike`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from client.core.integrity import SPLIT_VIEW_GRACE_MS
from client.core.verify import LogVerifier, VerifiedEvent
from client.keys import crypto, vault
from client.space.reports import PendingJoin
from client.store.integrity_store import RelayTracker
from client.store.localstore import LocalStore
from client.store.relay_http import RelayEndpoint
from client.store.transport import SyncConnection
from schemas.ids import EventId, SpaceId

META_SPACE = "space_id"
META_DEVICE = "device_id"
META_RELAY = "relay"
META_CURSOR = "cursor"
META_LAST_SYNC = "last_sync_at"
META_VAULT = "vault"
META_JOIN = "join_pending"


@dataclass
class SpaceState:
    """Everything one device holds for one space while it is open."""

    home: Path
    store: LocalStore
    secrets: vault.DeviceSecrets
    device: crypto.DeviceKeys
    space_id: SpaceId
    endpoint: RelayEndpoint
    verifier: LogVerifier
    tracker: RelayTracker
    events: dict[EventId, VerifiedEvent] = field(default_factory=dict)
    pending: dict[EventId, tuple[bytes, int | None]] = field(default_factory=dict)
    """Events held until what they depend on arrives: envelope and relay seq."""
    rejected: set[bytes] = field(default_factory=set)
    join: PendingJoin | None = None
    connection: SyncConnection | None = None
    """The open sync connection, if any: own new events are pushed on it at once."""
    outbox_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while an own new event is stored and queued (client/space/writing.py) and
    while a session reads the outbox and becomes :attr:`connection` (syncing.py), so
    each new event is in the session's starting outbox or queued on its connection.
    Without it an event stored between the two steps was in neither: the live session
    never pushed it, and the relay refused every later one as a gap in the chain."""
    split_view_grace_ms: int = SPLIT_VIEW_GRACE_MS
    """How long a partner may write without our events before it is a warning."""

    @classmethod
    def build(
        cls,
        home: Path,
        store: LocalStore,
        secrets: vault.DeviceSecrets,
        space_id: SpaceId,
        endpoint: RelayEndpoint,
    ) -> SpaceState:
        """The state of a space with nothing loaded yet."""
        device = crypto.DeviceKeys.from_seeds(secrets.signing_seed, secrets.box_secret)
        verifier = LogVerifier(
            space_id,
            secrets.space_keys,
            me=device.device_id,
            open_sealed=lambda sealed: crypto.open_sealed(device.box_private_key, sealed),
        )
        return cls(
            home=home,
            store=store,
            secrets=secrets,
            device=device,
            space_id=space_id,
            endpoint=endpoint,
            verifier=verifier,
            tracker=RelayTracker(store.db),
        )

    async def cursor(self) -> int:
        """The relay seq this device has read up to."""
        return int((await self.store.get(META_CURSOR) or b"0").decode())
