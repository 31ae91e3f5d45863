"""The group-commit writer against a real SQLite file, in process (server/writer.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from functools import partial
from pathlib import Path

import pytest

from schemas.errors import ErrorCode
from schemas.ids import DeviceId, InviteId, SpaceId
from schemas.protocol import Stored
from server.errors import RelayError
from server.hub import Hub
from server.ingest import Accepted, CheckedEnvelope, Rejection, check_batch
from server.sqlite_store import SqliteStore
from server.store import (
    EventPage,
    InviteRecord,
    Membership,
    NewEvent,
    Position,
    RedeemOutcome,
    SpaceSnapshot,
    Store,
    StoredPosition,
)
from server.writer import PushResult, Writer
from tests.server.helpers import Device, new_space_id

NOW_MS = 1_800_000_000_000


class RecordingStore:
    """A SqliteStore that counts transactions and can be told to fail the next one."""

    def __init__(self, path: Path) -> None:
        self.inner = SqliteStore(str(path))
        self.appends = 0
        self.fail_next_append = False

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def membership(self, space_id: SpaceId, device_id: DeviceId) -> Membership:
        return await self.inner.membership(space_id, device_id)

    async def head(self, space_id: SpaceId) -> int | None:
        return await self.inner.head(space_id)

    async def events_after(
        self, space_id: SpaceId, after: int, limit: int, max_bytes: int
    ) -> EventPage:
        return await self.inner.events_after(space_id, after, limit, max_bytes)

    async def get_invite(self, invite_id: InviteId) -> InviteRecord | None:
        return await self.inner.get_invite(invite_id)

    async def load_space(self, space_id: SpaceId) -> SpaceSnapshot | None:
        return await self.inner.load_space(space_id)

    async def find_positions(
        self, space_id: SpaceId, positions: Collection[Position]
    ) -> dict[Position, StoredPosition]:
        return await self.inner.find_positions(space_id, positions)

    async def append_events(self, rows: Sequence[NewEvent], heads: Mapping[SpaceId, int]) -> None:
        self.appends += 1
        if self.fail_next_append:
            self.fail_next_append = False
            raise OSError("disk I/O error (simulated)")
        await self.inner.append_events(rows, heads)

    async def create_space(self, genesis: NewEvent, created_at_ms: int) -> bool:
        return await self.inner.create_space(genesis, created_at_ms)

    async def create_invite(self, invite: InviteRecord) -> bool:
        return await self.inner.create_invite(invite)

    async def redeem_invite(
        self, invite_id: InviteId, device_id: DeviceId, now_ms: int
    ) -> tuple[RedeemOutcome, SpaceId | None]:
        return await self.inner.redeem_invite(invite_id, device_id, now_ms)


class FakeSubscriber:
    def __init__(self) -> None:
        self.received: list[Stored] = []

    def deliver(self, events: list[Stored]) -> None:
        self.received.extend(events)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[RecordingStore]:
    recording = RecordingStore(tmp_path / "relay.db")
    await recording.open()
    try:
        yield recording
    finally:
        await recording.close()


@pytest.fixture
async def hub() -> Hub:
    return Hub()


@pytest.fixture
async def writer(store: RecordingStore, hub: Hub) -> AsyncIterator[Writer]:
    running = Writer(store, hub, lambda: NOW_MS)
    running.start()
    try:
        yield running
    finally:
        await running.stop()


def checked(raws: list[bytes], space_id: SpaceId) -> list[CheckedEnvelope]:
    result = check_batch(raws, space_id, 1 << 20)
    assert isinstance(result, list), result
    return result


async def new_space(writer: Writer, *devices: Device) -> SpaceId:
    """A space whose genesis is by the first device; the others are admitted directly."""
    space_id = new_space_id()
    creator = devices[0]
    [genesis] = checked([creator.envelope(space_id)], space_id)
    row = NewEvent(space_id, 1, genesis.event_id, genesis.author, 1, genesis.canonical, NOW_MS)
    assert await writer.run_exclusive(space_id, lambda s: s.create_space(row, NOW_MS))
    for device in devices[1:]:
        await writer.run_exclusive(space_id, partial(add_member, space_id, device.device_id))
    return space_id


async def add_member(space_id: SpaceId, device_id: DeviceId, store: Store) -> None:
    """Make a device active without an invite (the invite flow has its own tests)."""
    assert isinstance(store, RecordingStore)
    await store.inner._writer_db.execute(
        "INSERT INTO devices (space, device_id, status, added_at) "
        "VALUES ((SELECT id FROM spaces WHERE space_id = ?), ?, 'active', ?)",
        (space_id, device_id, NOW_MS),
    )


def seqs(result: PushResult) -> list[int]:
    assert isinstance(result, Accepted), result
    return [ack.seq for ack in result.acks]


async def test_pushes_queued_together_share_one_transaction(
    writer: Writer, store: RecordingStore
) -> None:
    alex, blake = Device(), Device()
    space_id = await new_space(writer, alex, blake)
    before = store.appends
    futures = [
        writer.submit(space_id, checked([d.envelope(space_id)], space_id), None)
        for _ in range(5)
        for d in (alex, blake)
    ]
    results = await asyncio.gather(*futures)
    assert sorted(s for r in results for s in seqs(r)) == list(range(2, 12))
    assert store.appends - before == 1


async def test_a_push_may_chain_on_one_still_in_flight(writer: Writer) -> None:
    alex = Device()
    space_id = await new_space(writer, alex)
    first = writer.submit(space_id, checked([alex.envelope(space_id)] * 1, space_id), None)
    second = writer.submit(space_id, checked([alex.envelope(space_id)], space_id), None)
    assert seqs(await first) == [2]
    assert seqs(await second) == [3]


async def test_two_connections_of_one_device_cannot_both_append_the_same_seq(
    writer: Writer,
) -> None:
    alex = Device()
    space_id = await new_space(writer, alex)
    one = alex.envelope(space_id, advance=False)
    other = alex.envelope(space_id, advance=False)
    results = await asyncio.gather(
        writer.submit(space_id, checked([one], space_id), None),
        writer.submit(space_id, checked([other], space_id), None),
    )
    assert seqs(results[0]) == [2]
    assert isinstance(results[1], Rejection)
    assert results[1].code is ErrorCode.CHAIN_CONFLICT


async def test_a_failed_commit_fails_its_group_and_loses_no_seq(
    writer: Writer, store: RecordingStore
) -> None:
    alex = Device()
    space_id = await new_space(writer, alex)
    batch = checked([alex.envelope(space_id), alex.envelope(space_id)], space_id)
    store.fail_next_append = True
    with pytest.raises(RelayError) as failed:
        await writer.submit(space_id, batch, None)
    assert failed.value.code is ErrorCode.INTERNAL_ERROR
    page = await store.events_after(space_id, 0, 100, 1 << 20)
    assert [e.seq for e in page.events] == [1], "nothing half-written"
    assert seqs(await writer.submit(space_id, batch, None)) == [2, 3]


async def test_stopping_finishes_every_queued_push(store: RecordingStore, hub: Hub) -> None:
    writer = Writer(store, hub, lambda: NOW_MS)
    writer.start()
    alex = Device()
    space_id = await new_space(writer, alex)
    futures = [
        writer.submit(space_id, checked([alex.envelope(space_id)], space_id), None)
        for _ in range(20)
    ]
    await writer.stop()
    assert [seqs(f.result()) for f in futures] == [[n] for n in range(2, 22)]
    assert await store.head(space_id) == 21
    with pytest.raises(RelayError) as refused:
        writer.submit(space_id, checked([alex.envelope(space_id)], space_id), None)
    assert refused.value.code is ErrorCode.SHUTTING_DOWN


async def test_committed_events_reach_every_subscriber_but_their_pusher(
    writer: Writer, hub: Hub
) -> None:
    alex, blake = Device(), Device()
    space_id = await new_space(writer, alex, blake)
    alex_conn, blake_conn = FakeSubscriber(), FakeSubscriber()
    hub.subscribe(space_id, alex_conn)
    hub.subscribe(space_id, blake_conn)
    from_alex = [alex.envelope(space_id) for _ in range(2)]
    from_blake = [blake.envelope(space_id)]
    await asyncio.gather(
        writer.submit(space_id, checked(from_alex, space_id), alex_conn),
        writer.submit(space_id, checked(from_blake, space_id), blake_conn),
    )
    assert [(s.seq, s.envelope) for s in blake_conn.received] == [
        (2, from_alex[0]),
        (3, from_alex[1]),
    ]
    assert [(s.seq, s.envelope) for s in alex_conn.received] == [(4, from_blake[0])]


async def test_a_push_into_an_unknown_space_is_refused(writer: Writer) -> None:
    alex, space_id = Device(), new_space_id()
    with pytest.raises(RelayError) as refused:
        await writer.submit(space_id, checked([alex.envelope(space_id)], space_id), None)
    assert refused.value.code is ErrorCode.UNKNOWN_SPACE


async def test_a_new_writer_continues_chains_from_the_database(
    store: RecordingStore, hub: Hub
) -> None:
    alex = Device()
    first = Writer(store, hub, lambda: NOW_MS)
    first.start()
    space_id = await new_space(first, alex)
    assert seqs(await first.submit(space_id, checked([alex.envelope(space_id)], space_id), None))
    await first.stop()
    second = Writer(store, hub, lambda: NOW_MS)
    second.start()
    try:
        result = await second.submit(space_id, checked([alex.envelope(space_id)], space_id), None)
        assert seqs(result) == [3]
    finally:
        await second.stop()
