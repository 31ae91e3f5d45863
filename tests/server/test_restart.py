"""Durability: what the relay acknowledged survives SIGKILL (DESIGN.md, "Local-first")."""

from __future__ import annotations

import httpx

from schemas.envelope import event_id_of
from schemas.protocol import Acked, Push
from tests.integration.relay_process import RelayProcess
from tests.server.conftest import SpaceUnderTest
from tests.server.helpers import Device, create_space_body, new_space_id


async def test_everything_acknowledged_survives_a_sigkill_and_chains_continue(
    fresh_relay: RelayProcess,
) -> None:
    fresh_relay.start()
    creator, space_id = Device(), new_space_id()
    async with httpx.AsyncClient(base_url=fresh_relay.http_url) as http:
        response = await http.post("/v1/spaces", json=create_space_body(creator, space_id))
        assert response.status_code == 201
    space = SpaceUnderTest(fresh_relay, space_id, creator)
    assert creator.head is not None
    space.acked[creator.head] = 1

    client = await space.connect()
    for req in range(1, 6):
        await space.push_ok(client, req, [creator.envelope(space_id) for _ in range(20)])
    # A few more in flight at once; only what was acknowledged before the kill counts.
    in_flight: list[bytes] = []
    for req in range(6, 10):
        envelopes = [creator.envelope(space_id) for _ in range(5)]
        in_flight.extend(envelopes)
        await client.send(Push(req=req, envelopes=envelopes))
    reply = await client.receive_reply()
    assert isinstance(reply, Acked)
    for ack in reply.acks:
        space.acked[ack.event_id] = ack.seq  # type: ignore[index]

    fresh_relay.kill()
    fresh_relay.start()

    client = await space.connect()
    stored = await space.pull_all(client)
    by_id = {event_id_of(s.envelope): s.seq for s in stored}
    for event_id, seq in space.acked.items():
        assert by_id.get(event_id) == seq, "an acknowledged event was lost"
    # Like a client's outbox, resend everything not acknowledged: what the relay stored
    # without acking is acknowledged now at its original seq, the rest is appended, and
    # the writer's view of the chain, rebuilt from disk, lets the chain go on.
    acks = await space.push_ok(client, 100, in_flight)
    assert [a.seq for a in acks] == list(range(acks[0].seq, acks[0].seq + len(in_flight)))
    for raw, ack in zip(in_flight, acks, strict=True):
        if event_id_of(raw) in by_id:
            assert by_id[event_id_of(raw)] == ack.seq
    await client.close()
    await space.assert_still_served_and_nothing_lost()
