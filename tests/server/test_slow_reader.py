"""A device that stops reading cannot hold up anyone else (server/hub.py, sync.py)."""

from __future__ import annotations

import os

import httpx

from schemas.errors import CLOSE_RATE, ErrorCode
from schemas.protocol import Error, Live
from tests.integration.relay_process import RelayProcess
from tests.server.conftest import SpaceUnderTest
from tests.server.helpers import Device, admit, create_space_body, new_space_id

ENVELOPE_CIPHERTEXT_BYTES = 200 * 1024
PUSHES = 100
"""~20 MB: enough to fill the listener's and the kernel's buffers on loopback."""


async def test_a_reader_too_slow_for_live_events_is_closed_and_catches_up_by_pulling(
    fresh_relay: RelayProcess,
) -> None:
    fresh_relay.extra_args = ["--send-queue-bytes", str(1024 * 1024)]
    fresh_relay.start()
    creator, partner, space_id = Device(), Device(), new_space_id()
    async with httpx.AsyncClient(base_url=fresh_relay.http_url) as http:
        response = await http.post("/v1/spaces", json=create_space_body(creator, space_id))
        assert response.status_code == 201
        await admit(http, creator, space_id, partner)
    space = SpaceUnderTest(fresh_relay, space_id, creator)

    # The partner signs in and then never reads (its client buffers a single frame).
    stalled = await space.connect(partner, max_queue=1)
    pusher = await space.connect()
    for req in range(1, PUSHES + 1):
        envelope = creator.envelope(space_id, ciphertext=os.urandom(ENVELOPE_CIPHERTEXT_BYTES))
        await space.push_ok(pusher, req, [envelope])  # never slowed down by the stalled one

    # Reading at last: whatever was already in flight, then the typed error, then 4029.
    received_live = 0
    while True:
        message = await stalled.receive()
        if isinstance(message, Live):
            received_live += len(message.events)
            continue
        assert isinstance(message, Error), message
        assert message.code == ErrorCode.RATE_LIMITED.value
        break
    assert received_live < PUSHES
    assert await stalled.close_code() == CLOSE_RATE

    # Nothing is lost for it: a new connection pulls everything.
    again = await space.connect(partner)
    stored = await space.pull_all(again)
    assert len(stored) == PUSHES + 1
    await again.close()
    await pusher.close()
