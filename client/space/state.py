"""The state one open space holds in memory, shared by its flows.

One dataclass rather than private attributes of the facade, so the flow modules
(opening, writing, syncing) work on it without reaching into
:class:`client.space.Space` (issue #12). Only those three modules and the facade use
it; the outer flows (devices, relocation, pairing) see a
:class:`client.space.ports.SpaceLike`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from client.core.integrity import SPLIT_VIEW_GRACE_MS
from client.core.verify import LogVerifier, Verdict, VerifiedEvent
from client.errors import LocalDataError
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
    disk_generation: int = 0
    """How many times what is in memory went back to what is on disk: a session that
    started before such a rollback ends (its cursor is ahead of the disk)."""
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


async def load_from_disk(state: SpaceState) -> None:
    """Fill a state built with nothing loaded from what its store holds."""
    store = state.store
    for stored in await store.load_events():
        outcome = state.verifier.admit(stored.envelope, trusted=True)
        if outcome.verdict is not Verdict.ACCEPTED or outcome.event is None:
            raise LocalDataError(
                "This device's saved history does not check out "
                f"({outcome.code or outcome.verdict})."
            )
        state.events[outcome.event.event_id] = outcome.event
    for held in await store.load_pending():
        state.pending[EventId(held.event_id)] = (held.envelope, held.relay_seq)
    state.rejected = {e for e, _, _ in await store.rejected() if e is not None}
    join = await store.get(META_JOIN)
    if join is not None:
        state.join = msgspec.msgpack.decode(join, type=PendingJoin)
    await state.tracker.load()


async def back_to_disk(state: SpaceState) -> None:
    """Take what is in memory (the verifier, the accepted, held and refused events) back
    to what is on disk, after a write that failed (docs/PROTOCOL.md §9.13).

    Why: admission runs ahead of the disk (a page is written behind the next one's
    admission, §9.11), so when a write fails the verifier has already admitted events
    that never reached the disk. Left so, the next sync of this process would take them
    for duplicates and never store them. Rebuilt from the disk, it fetches and stores
    them again. Built aside and swapped in at once, under the outbox lock, so a write
    of this device's own sees either the old state or the new one (writing.py checks
    which). The relay record (``state.tracker``) is kept: it already keeps what it
    could not write, to write it next time (integrity_store.py)."""
    async with state.outbox_lock:
        await reload_from_disk(state)


async def reload_from_disk(state: SpaceState) -> None:
    """:func:`back_to_disk` for a caller that holds the outbox lock already (an own
    write that failed: it must not let the next own write in before memory is back)."""
    # Whatever is still running behind ends first; its failure is the one we handle.
    with contextlib.suppress(sqlite3.Error):
        await state.store.settle()
    fresh = SpaceState.build(state.home, state.store, state.secrets, state.space_id, state.endpoint)
    await load_from_disk(fresh)
    state.verifier, state.events = fresh.verifier, fresh.events
    state.pending, state.rejected = fresh.pending, fresh.rejected
    state.store.failed_admission = None
    state.disk_generation += 1
