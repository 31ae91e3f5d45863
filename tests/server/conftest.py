"""Fixtures for the relay's tests: one shared real relay process, spaces on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from schemas.envelope import event_id_of
from schemas.ids import EventId, SpaceId
from schemas.protocol import Ack, Acked, Page, Stored
from tests.integration.relay_process import RelayProcess
from tests.server.helpers import Device, SyncClient, create_space_body, new_space_id

AUTH_TIMEOUT_S = 1.5
"""Short, so the auth-timeout test is quick; sign-in on loopback takes milliseconds."""


@pytest.fixture(scope="session")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    """One relay for the whole session; tests keep apart by using their own spaces."""
    db = tmp_path_factory.mktemp("shared-relay") / "relay.db"
    process = RelayProcess(db, ["--auth-timeout-s", str(AUTH_TIMEOUT_S)]).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def fresh_relay(tmp_path: Path) -> Iterator[RelayProcess]:
    """A relay of this test's own, for tests that kill it or need other settings."""
    process = RelayProcess(tmp_path / "relay.db")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def http(relay: RelayProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=relay.http_url, timeout=10) as client:
        yield client


class SpaceUnderTest:
    """A space on a real relay, remembering every ack so tests can check nothing is lost."""

    def __init__(self, relay: RelayProcess, space_id: SpaceId, creator: Device) -> None:
        self.relay = relay
        self.space_id = space_id
        self.creator = creator
        self.acked: dict[EventId, int] = {}

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.relay.port}"

    async def connect(self, device: Device | None = None, max_queue: int = 16) -> SyncClient:
        client = await SyncClient.open(self.relay.ws_url, max_queue=max_queue)
        await client.sign_in(device or self.creator, self.space_id, host=self.host)
        return client

    async def push_ok(self, client: SyncClient, req: int, envelopes: list[bytes]) -> list[Ack]:
        reply = await client.push(req, envelopes)
        assert isinstance(reply, Acked), reply
        assert reply.req == req
        for ack in reply.acks:
            self.acked[EventId(ack.event_id)] = ack.seq
        return reply.acks

    async def pull_all(self, client: SyncClient, limit: int = 500) -> list[Stored]:
        events: list[Stored] = []
        after, req = 0, 10_000
        for _ in range(1000):  # bounded walk
            req += 1
            page = await client.pull(req, after=after, limit=limit)
            assert isinstance(page, Page), page
            events.extend(page.events)
            if page.events:
                after = page.events[-1].seq
            if not page.more:
                return events
        raise AssertionError("page walk did not end")

    async def assert_still_served_and_nothing_lost(self) -> None:
        """A fresh, well-behaved connection can push and pull, and every event the
        relay ever acknowledged in this space is there at its seq."""
        client = await self.connect()
        try:
            await self.push_ok(client, 1, [self.creator.envelope(self.space_id)])
            stored = await self.pull_all(client)
        finally:
            await client.close()
        by_id = {event_id_of(s.envelope): s.seq for s in stored}
        assert [s.seq for s in stored] == list(range(1, len(stored) + 1)), "seqs are dense"
        for event_id, seq in self.acked.items():
            assert by_id.get(event_id) == seq


@pytest.fixture
async def space(relay: RelayProcess, http: httpx.AsyncClient) -> SpaceUnderTest:
    """A new space on the shared relay, created by its first device."""
    creator = Device()
    space_id = new_space_id()
    response = await http.post("/v1/spaces", json=create_space_body(creator, space_id))
    assert response.status_code == 201, response.text
    under_test = SpaceUnderTest(relay, space_id, creator)
    assert creator.head is not None
    under_test.acked[creator.head] = 1
    return under_test
