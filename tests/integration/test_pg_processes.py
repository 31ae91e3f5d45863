"""Two relay processes on one PostgreSQL database (docs/OPERATIONS.md, "More than one
machine"): concurrent writers through both keep every space's seqs dense and every
acknowledged event where its ack said; a device on one process receives live what is
pushed through the other (LISTEN/NOTIFY); a killed process loses nothing it acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from schemas.envelope import event_id_of
from schemas.errors import CLOSE_FORBIDDEN
from schemas.http import RevokeDeviceRequest, revoke_device_transcript
from schemas.protocol import Acked, Error, Hello, Live, Page, Stored
from tests.integration.relay_process import RelayProcess
from tests.server.helpers import Device, SyncClient, admit, create_space_body, new_space_id

PUSHES_PER_WRITER = 40
LIVE_TIMEOUT_S = 30.0
"""A bound for LISTEN/NOTIFY between two relay processes on a loaded test machine."""


@pytest.fixture
def two_relays(tmp_path: Path, pg_url: str) -> Iterator[tuple[RelayProcess, RelayProcess]]:
    one = RelayProcess(tmp_path / "one.db", database_url=pg_url)
    two = RelayProcess(tmp_path / "two.db", database_url=pg_url)
    try:
        one.start()
        two.start()
        yield one, two
    finally:
        one.stop()
        two.stop()


async def signed_in(relay: RelayProcess, device: Device, space_id: bytes) -> SyncClient:
    client = await SyncClient.open(relay.ws_url)
    await client.sign_in(device, space_id, host=f"127.0.0.1:{relay.port}")
    return client


async def pull_all(client: SyncClient) -> list[Stored]:
    events: list[Stored] = []
    after, req = 0, 50_000
    for _ in range(100):
        req += 1
        page = await client.pull(req, after=after, limit=500)
        assert isinstance(page, Page), page
        events.extend(page.events)
        if page.events:
            after = page.events[-1].seq
        if not page.more:
            return events
    raise AssertionError("page walk did not end")


async def new_pair(relay: RelayProcess) -> tuple[bytes, Device, Device]:
    alex, blake, space_id = Device(), Device(), new_space_id()
    async with httpx.AsyncClient(base_url=relay.http_url, timeout=10) as http:
        response = await http.post("/v1/spaces", json=create_space_body(alex, space_id))
        assert response.status_code == 201, response.text
        await admit(http, alex, space_id, blake)
    return space_id, alex, blake


async def push_many(
    relay: RelayProcess, device: Device, space_id: bytes, acked: dict[bytes, int]
) -> None:
    client = await signed_in(relay, device, space_id)
    try:
        for req in range(1, PUSHES_PER_WRITER + 1):
            reply = await client.push(req, [device.envelope(space_id)])
            assert isinstance(reply, Acked), reply
            for ack in reply.acks:
                acked[bytes(ack.event_id)] = ack.seq
    finally:
        await client.close()


@pytest.mark.slow
async def test_concurrent_writers_on_two_processes_keep_seqs_dense_and_fan_out_live(
    two_relays: tuple[RelayProcess, RelayProcess],
) -> None:
    one, two = two_relays
    space_id, alex, blake = await new_pair(one)
    watcher_device = Device()
    async with httpx.AsyncClient(base_url=one.http_url, timeout=10) as http:
        await admit(http, alex, space_id, watcher_device, kind="device")
    watcher = await signed_in(one, watcher_device, space_id)
    acked: dict[bytes, int] = {}
    # Alex writes through process 1, Blake through process 2, at the same time.
    await asyncio.gather(
        push_many(one, alex, space_id, acked), push_many(two, blake, space_id, acked)
    )
    total = 1 + 2 * PUSHES_PER_WRITER  # the genesis and both writers
    # The watcher on process 1 heard every event live, Blake's included (LISTEN/NOTIFY).
    live: dict[int, bytes] = {}
    async with asyncio.timeout(LIVE_TIMEOUT_S):
        while len(live) < 2 * PUSHES_PER_WRITER:
            message = await watcher.receive()
            assert isinstance(message, Live), message
            for stored in message.events:
                live[stored.seq] = stored.envelope
    await watcher.close()
    for relay in (one, two):
        reader = await signed_in(relay, alex, space_id)
        stored = await pull_all(reader)
        await reader.close()
        assert [s.seq for s in stored] == list(range(1, total + 1)), "seqs are dense"
        by_id = {event_id_of(s.envelope): s.seq for s in stored}
        for event_id, seq in acked.items():
            assert by_id[event_id] == seq, "every ack names where its event is stored"
        for seq, envelope in live.items():
            assert by_id[event_id_of(envelope)] == seq


@pytest.mark.slow
async def test_a_process_killed_during_pushes_loses_nothing_it_acknowledged(
    two_relays: tuple[RelayProcess, RelayProcess],
) -> None:
    one, two = two_relays
    space_id, _alex, blake = await new_pair(one)
    acked: dict[bytes, int] = {}
    sent: list[bytes] = []
    some_acked = asyncio.Event()

    async def push_until_cut(relay: RelayProcess, device: Device) -> None:
        client = await signed_in(relay, device, space_id)
        try:
            for req in range(1, 10_000):
                envelope = device.envelope(space_id)
                sent.append(envelope)
                reply = await client.push(req, [envelope])
                if not isinstance(reply, Acked):
                    return
                for ack in reply.acks:
                    acked[bytes(ack.event_id)] = ack.seq
                if len(acked) >= 10:
                    some_acked.set()
        except Exception:  # the connection was cut by the kill
            return
        finally:
            await client.close()

    cut = asyncio.create_task(push_until_cut(two, blake))
    # Killed once some pushes were acknowledged: a guessed second could pass before the
    # first ack on a loaded machine.
    await asyncio.wait_for(some_acked.wait(), LIVE_TIMEOUT_S)
    two.kill()
    await asyncio.wait_for(cut, LIVE_TIMEOUT_S)
    assert acked, "some pushes were acknowledged before the kill"
    # Blake reconnects to process 1 and pushes again what was never acknowledged: the
    # relay acknowledges each at its stored seq (a retry) or stores it anew, once.
    client = await signed_in(one, blake, space_id)
    try:
        for req, start in enumerate(range(0, len(sent), 100), start=1):
            reply = await client.push(req, sent[start : start + 100])
            assert isinstance(reply, Acked), reply
            for ack in reply.acks:
                if bytes(ack.event_id) in acked:
                    assert acked[bytes(ack.event_id)] == ack.seq
        stored = await pull_all(client)
    finally:
        await client.close()
    ids = [event_id_of(s.envelope) for s in stored]
    assert len(ids) == len(set(ids)), "nothing is stored twice"
    assert [s.seq for s in stored] == list(range(1, len(stored) + 1))
    by_id = dict(zip(ids, (s.seq for s in stored), strict=True))
    for event_id, seq in acked.items():
        assert by_id[event_id] == seq, "no acknowledged event was lost"
    assert {event_id_of(e) for e in sent} <= set(by_id)


@pytest.mark.slow
async def test_a_device_revoked_through_one_process_is_cut_off_on_the_other(
    two_relays: tuple[RelayProcess, RelayProcess],
) -> None:
    one, two = two_relays
    space_id, alex, blake = await new_pair(one)
    connected = await signed_in(one, blake, space_id)
    # Blake's device removes itself (its own member group) through process 2.
    signed_at = time.time_ns() // 1_000_000
    unsigned = RevokeDeviceRequest(
        device_id=blake.device_id.hex(), signed_at=signed_at, signature=b"\x00" * 64
    )
    signature = blake.sign(
        revoke_device_transcript(space_id, blake.device_id, blake.device_id, signed_at)
    )
    body = msgspec.to_builtins(msgspec.structs.replace(unsigned, signature=signature))
    async with httpx.AsyncClient(base_url=two.http_url, timeout=10) as http:
        response = await http.post(
            f"/v1/spaces/{space_id.hex()}/devices/{blake.device_id.hex()}/revoke", json=body
        )
    assert response.status_code == 200, response.text
    # Process 1 heard of it (NOTIFY trellis_revoke) and ended Blake's open connection.
    async with asyncio.timeout(LIVE_TIMEOUT_S):
        message = await connected.receive()
    assert isinstance(message, Error), message
    assert message.code == "device_revoked"
    assert await connected.close_code() == CLOSE_FORBIDDEN
    # And a push Blake decided before cannot land through process 1 either.
    again = await SyncClient.open(one.ws_url)
    try:
        await again.send(Hello(space_id=space_id, device_id=blake.device_id))
        refused = await again.receive()
        assert isinstance(refused, Error), refused
        assert refused.code == "device_revoked"
    finally:
        await again.close()
    reader = await signed_in(one, alex, space_id)
    try:
        assert [s.seq for s in await pull_all(reader)] == [1]
    finally:
        await reader.close()


@pytest.mark.slow
async def test_a_device_that_moves_between_processes_continues_its_chain(
    two_relays: tuple[RelayProcess, RelayProcess],
) -> None:
    """Process 1 holds a view of the space from an earlier push; the device then pushes
    through process 2 and comes back. Process 1's view lags behind, and what it would
    refuse (a chain gap) it first re-reads under the lock: the push is accepted."""
    one, two = two_relays
    space_id, alex, _blake = await new_pair(one)
    for relay, req in ((one, 1), (two, 2), (two, 3), (one, 4)):
        client = await signed_in(relay, alex, space_id)
        try:
            reply = await client.push(req, [alex.envelope(space_id)])
            assert isinstance(reply, Acked), reply
        finally:
            await client.close()
    reader = await signed_in(two, alex, space_id)
    try:
        assert [s.seq for s in await pull_all(reader)] == [1, 2, 3, 4, 5]
    finally:
        await reader.close()
