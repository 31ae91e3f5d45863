"""Every limit against a real relay run with small ones: the typed error, and that only
the offender is affected (issue #6, limits; docs/OPERATIONS.md §2).

Client addresses are simulated with X-Forwarded-For, which the relay's server trusts
from a proxy on 127.0.0.1, as it would from nginx on the same machine.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import nacl.signing
import pytest

from schemas.errors import CLOSE_AUTH, CLOSE_RATE, CLOSE_TIMEOUT, CLOSE_TOO_BIG, ErrorCode
from schemas.protocol import (
    Acked,
    Authenticate,
    Challenge,
    Error,
    Hello,
    Push,
    Welcome,
    auth_transcript,
)
from tests.integration.relay_process import RelayProcess
from tests.relay_ops.spaces import new_space
from tests.server.conftest import SpaceUnderTest
from tests.server.helpers import Device, SyncClient, invite_body, new_space_id
from tests.server.helpers import redeem_body as signed_redeem_body

MAX_FRAME = 16 * 1024
MAX_ENVELOPE = 4096
MAX_BATCH = 5
PUSHES_PER_S = 5
PER_SPACE = 3
PER_ADDRESS = 8
SPACE_EVENTS = 20
SPACE_BYTES = 40_000
AUTH_TIMEOUT_S = 1.0
IDLE_TIMEOUT_S = 1.5
PER_INVITE = 3
PER_ADDRESS_INVITES = 6

LIMITS = [
    "--max-frame-bytes", str(MAX_FRAME),
    "--max-envelope-bytes", str(MAX_ENVELOPE),
    "--max-batch-envelopes", str(MAX_BATCH),
    "--max-pushes-per-s", str(PUSHES_PER_S),
    "--push-burst", str(PUSHES_PER_S),
    "--max-connections-per-space", str(PER_SPACE),
    "--max-connections-per-address", str(PER_ADDRESS),
    "--max-space-events", str(SPACE_EVENTS),
    "--max-space-bytes", str(SPACE_BYTES),
    "--auth-timeout-s", str(AUTH_TIMEOUT_S),
    "--idle-timeout-s", str(IDLE_TIMEOUT_S),
    "--redeem-attempts-per-invite", str(PER_INVITE),
    "--redeem-attempts-per-address", str(PER_ADDRESS_INVITES),
]  # fmt: skip


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    process = RelayProcess(tmp_path_factory.mktemp("limits") / "relay.db", LIMITS)
    # It answers only to the name the tests dial (127.0.0.1:port), not to "localhost".
    process.extra_args += ["--public-hosts", f"127.0.0.1:{process.port}"]
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def space(relay: RelayProcess) -> SpaceUnderTest:
    return await new_space(relay)


@pytest.fixture
async def http(relay: RelayProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=relay.http_url, timeout=10) as client:
        yield client


async def limit_hits(relay: RelayProcess, limit: str) -> float:
    async with httpx.AsyncClient(base_url=relay.operator_url) as http:
        text = (await http.get("/metrics")).text
    prefix = f'trellis_relay_limit_hits_total{{limit="{limit}"}} '
    return next(
        (float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix)), 0
    )


def error(message: object, code: ErrorCode) -> Error:
    assert isinstance(message, Error), message
    assert message.code == code.value, message
    return message


def redeem_body() -> dict[str, str]:
    """Well formed, so it passes validation and counts as an attempt."""
    return {
        "device_id": "00" * 32,
        "box_key": base64.b64encode(bytes(32)).decode(),
        "proof": base64.b64encode(bytes(64)).decode(),
    }


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


# --- one message --------------------------------------------------------------------


async def test_a_frame_over_max_frame_bytes_is_frame_too_large_then_1009(
    space: SpaceUnderTest, relay: RelayProcess
) -> None:
    client = await space.connect()
    await client.send_raw(b"\x00" * (MAX_FRAME + 1))
    error(await client.receive(), ErrorCode.FRAME_TOO_LARGE)
    assert await client.close_code() == CLOSE_TOO_BIG
    assert await limit_hits(relay, "max_frame_bytes") >= 1
    await space.assert_still_served_and_nothing_lost()


async def test_a_push_over_max_batch_envelopes_is_batch_too_large_and_the_next_is_fine(
    space: SpaceUnderTest,
) -> None:
    client = await space.connect()
    envelopes = [
        space.creator.envelope(space.space_id, advance=False) for _ in range(MAX_BATCH + 1)
    ]
    refused = error(await client.push(1, envelopes), ErrorCode.BATCH_TOO_LARGE)
    assert refused.req == 1
    await space.push_ok(
        client, 2, [space.creator.envelope(space.space_id) for _ in range(MAX_BATCH)]
    )
    await client.close()


async def test_an_envelope_over_max_envelope_bytes_is_refused_with_its_index(
    space: SpaceUnderTest,
) -> None:
    client = await space.connect()
    big = space.creator.envelope(space.space_id, ciphertext=os.urandom(MAX_ENVELOPE), advance=False)
    refused = error(await client.push(1, [big]), ErrorCode.ENVELOPE_TOO_LARGE)
    assert (refused.req, refused.index) == (1, 0)
    await space.push_ok(client, 2, [space.creator.envelope(space.space_id)])
    await client.close()


# --- one connection -------------------------------------------------------------------


async def test_pushes_beyond_the_rate_are_rate_limited_only_on_that_connection(
    relay: RelayProcess,
) -> None:
    noisy, calm = await new_space(relay), await new_space(relay)
    flooding = await noisy.connect()
    for req in range(1, 2 * PUSHES_PER_S + 1):
        await flooding.send(Push(req=req, envelopes=[]))
    replies = [await flooding.receive_reply() for _ in range(2 * PUSHES_PER_S)]
    limited = [r for r in replies if isinstance(r, Error)]
    assert limited, "a burst twice the allowance is refused in part"
    assert all(r.code == ErrorCode.RATE_LIMITED.value and r.req for r in limited)
    other = await calm.connect()
    await calm.push_ok(other, 1, [calm.creator.envelope(calm.space_id)])  # unaffected
    await asyncio.sleep(1.0 / PUSHES_PER_S * 2)
    await noisy.push_ok(flooding, 100, [noisy.creator.envelope(noisy.space_id)])  # still open
    assert await limit_hits(relay, "max_pushes_per_s") >= len(limited)
    for client in (flooding, other):
        await client.close()


async def test_a_silent_connection_is_closed_but_one_that_pings_is_not(
    space: SpaceUnderTest, relay: RelayProcess
) -> None:
    silent = await SyncClient.open(relay.ws_url, ping_interval_s=None)
    await silent.sign_in(space.creator, space.space_id, host=space.host)
    pinging = await SyncClient.open(relay.ws_url, ping_interval_s=0.3)
    await pinging.sign_in(space.creator, space.space_id, host=space.host)
    started = time.monotonic()
    error(await silent.receive(), ErrorCode.IDLE_TIMEOUT)
    assert await silent.close_code() == CLOSE_TIMEOUT
    assert IDLE_TIMEOUT_S * 0.9 <= time.monotonic() - started < IDLE_TIMEOUT_S + 2
    await asyncio.sleep(IDLE_TIMEOUT_S * 0.7)  # the pinging one has now been silent longer
    await space.push_ok(pinging, 1, [space.creator.envelope(space.space_id)])
    await pinging.close()
    assert await limit_hits(relay, "idle_timeout_s") >= 1


async def test_a_connection_that_does_not_sign_in_in_time_is_auth_timeout(
    relay: RelayProcess,
) -> None:
    client = await SyncClient.open(relay.ws_url)
    error(await client.receive(), ErrorCode.AUTH_TIMEOUT)
    assert await client.close_code() == CLOSE_AUTH


# --- many connections -------------------------------------------------------------------


async def test_a_space_holds_at_most_its_connections_and_other_spaces_are_unaffected(
    relay: RelayProcess,
) -> None:
    partner = Device()
    crowded, other = await new_space(relay, partner), await new_space(relay)
    # Each partner holds at most half of the space's connections (rounded up).
    share = (PER_SPACE + 1) // 2
    clients = [await crowded.connect() for _ in range(share)]
    clients += [await crowded.connect(partner) for _ in range(PER_SPACE - share)]
    extra = await SyncClient.open(relay.ws_url)
    await extra.send(Hello(space_id=crowded.space_id, device_id=crowded.creator.device_id))
    challenge = await extra.receive()
    assert isinstance(challenge, Challenge)
    transcript = auth_transcript(
        crowded.host, crowded.space_id, crowded.creator.device_id, challenge.nonce
    )
    await extra.send(Authenticate(signature=crowded.creator.sign(transcript)))
    error(await extra.receive(), ErrorCode.RATE_LIMITED)
    assert await extra.close_code() == CLOSE_RATE
    elsewhere = await other.connect()  # another space is served
    await other.push_ok(elsewhere, 1, [other.creator.envelope(other.space_id)])
    await clients.pop().close()
    await asyncio.sleep(0.2)
    clients.append(await crowded.connect(partner))  # room again once one left
    for client in [*clients, elsewhere]:
        await client.close()
    assert await limit_hits(relay, "max_connections_per_space") >= 1


async def test_an_address_holds_at_most_its_connections_and_other_addresses_are_served(
    relay: RelayProcess,
) -> None:
    greedy = from_address("203.0.113.7")
    held = [await SyncClient.open(relay.ws_url, headers=greedy) for _ in range(PER_ADDRESS)]
    refused = await SyncClient.open(relay.ws_url, headers=greedy)
    error(await refused.receive(), ErrorCode.RATE_LIMITED)
    assert await refused.close_code() == CLOSE_RATE
    polite = await SyncClient.open(relay.ws_url, headers=from_address("198.51.100.9"))
    await polite.send(Hello(space_id=new_space_id(), device_id=Device().device_id))
    error(await polite.receive(), ErrorCode.UNKNOWN_SPACE)  # served: it got an answer
    for client in held:
        await client.close()
    await asyncio.sleep(0.2)
    again = await SyncClient.open(relay.ws_url, headers=greedy)
    await again.send(Hello(space_id=new_space_id(), device_id=Device().device_id))
    error(await again.receive(), ErrorCode.UNKNOWN_SPACE)
    await again.close()
    assert await limit_hits(relay, "max_connections_per_address") >= 1


# --- quotas ------------------------------------------------------------------------------


async def test_a_space_stores_at_most_max_space_events(relay: RelayProcess) -> None:
    full, other = await new_space(relay), await new_space(relay)
    client = await full.connect()
    for req, size in enumerate([MAX_BATCH, MAX_BATCH, MAX_BATCH, SPACE_EVENTS - 1 - 3 * MAX_BATCH]):
        await full.push_ok(
            client, req + 1, [full.creator.envelope(full.space_id) for _ in range(size)]
        )
    refused = error(
        await client.push(9, [full.creator.envelope(full.space_id)]), ErrorCode.QUOTA_EXCEEDED
    )
    assert (refused.req, refused.index) == (9, 0)
    assert len(await full.pull_all(client)) == SPACE_EVENTS, "the connection stays open"
    elsewhere = await other.connect()
    await other.push_ok(elsewhere, 1, [other.creator.envelope(other.space_id)])  # unaffected
    for c in (client, elsewhere):
        await c.close()
    assert await limit_hits(relay, "space_quota") >= 1


async def test_a_space_stores_at_most_max_space_bytes(relay: RelayProcess) -> None:
    full = await new_space(relay)
    client = await full.connect()
    stored = 0
    per_push = 3  # three of these fit one frame
    for req in range(1, PUSHES_PER_S):
        envelopes = [
            full.creator.envelope(full.space_id, ciphertext=os.urandom(MAX_ENVELOPE - 512))
            for _ in range(per_push)
        ]
        reply = await client.push(req, envelopes)
        if isinstance(reply, Error):
            refused = error(reply, ErrorCode.QUOTA_EXCEEDED)
            assert refused.req == req
            assert "bytes" in refused.detail
            assert refused.index is not None
            stored += sum(len(e) for e in envelopes[: refused.index])
            break
        assert isinstance(reply, Acked), reply
        stored += sum(len(e) for e in envelopes)
    else:
        raise AssertionError("the byte quota never applied")
    # What was refused would have passed the quota; what was stored did not.
    assert SPACE_BYTES - MAX_ENVELOPE < stored <= SPACE_BYTES
    await client.close()


# --- invites -----------------------------------------------------------------------------


async def test_an_invite_can_be_tried_only_so_often_and_other_invites_are_unaffected(
    http: httpx.AsyncClient, relay: RelayProcess
) -> None:
    invite_id = os.urandom(16).hex()
    for n in range(PER_INVITE):
        # Each failed attempt from another address: the per-invite count is what applies.
        response = await http.post(
            f"/v1/invites/{invite_id}/redeem",
            json=redeem_body(),
            headers=from_address(f"192.0.2.{n}"),
        )
        assert response.json()["code"] == ErrorCode.INVITE_NOT_FOUND.value
    response = await http.post(
        f"/v1/invites/{invite_id}/redeem",
        json=redeem_body(),
        headers=from_address("192.0.2.99"),
    )
    assert response.status_code == 429, response.text
    assert response.json()["code"] == ErrorCode.RATE_LIMITED.value
    assert int(response.headers["retry-after"]) >= 1
    other = await http.get(
        f"/v1/invites/{os.urandom(16).hex()}", headers=from_address("192.0.2.98")
    )
    assert other.json()["code"] == ErrorCode.INVITE_NOT_FOUND.value
    assert await limit_hits(relay, "redeem_attempts_per_invite") >= 1


async def test_failed_attempts_by_someone_who_knows_the_invite_id_never_block_its_holder(
    http: httpx.AsyncClient, relay: RelayProcess
) -> None:
    # docs/THREAT_MODEL.md §19: an attacker who learned an invite id keeps failing with
    # it, from many addresses, for as long as they like; the person holding the code
    # still reads the invite and redeems it at once.
    space = await new_space(relay)
    invite_key = nacl.signing.SigningKey.generate()
    invite_id = os.urandom(16)
    body = invite_body(space.creator, space.space_id, invite_key, invite_id=invite_id)
    created = await http.post(f"/v1/spaces/{space.space_id.hex()}/invites", json=body)
    assert created.status_code == 201, created.text
    for n in range(PER_INVITE * 3):
        attacker = from_address(f"198.51.100.{n}")
        await http.get(f"/v1/invites/{invite_id.hex()}", headers=attacker)
        await http.post(
            f"/v1/invites/{invite_id.hex()}/redeem", json=redeem_body(), headers=attacker
        )
    holder = from_address("203.0.113.7")
    shown = await http.get(f"/v1/invites/{invite_id.hex()}", headers=holder)
    assert shown.status_code == 200, shown.text
    redeemed = await http.post(
        f"/v1/invites/{invite_id.hex()}/redeem",
        json=signed_redeem_body(invite_key, space.space_id, invite_id, Device()),
        headers=holder,
    )
    assert redeemed.status_code == 200, redeemed.text


async def test_an_address_can_try_invites_only_so_often_and_other_addresses_are_served(
    http: httpx.AsyncClient, relay: RelayProcess
) -> None:
    guesser = from_address("203.0.113.50")
    for _ in range(PER_ADDRESS_INVITES):
        response = await http.get(f"/v1/invites/{os.urandom(16).hex()}", headers=guesser)
        assert response.status_code == 404
    response = await http.get(f"/v1/invites/{os.urandom(16).hex()}", headers=guesser)
    assert response.status_code == 429
    assert response.json()["code"] == ErrorCode.RATE_LIMITED.value
    response = await http.post(
        f"/v1/invites/{os.urandom(16).hex()}/redeem", json=redeem_body(), headers=guesser
    )
    assert response.status_code == 429, "redeeming counts like looking up"
    honest = await http.get(
        f"/v1/invites/{os.urandom(16).hex()}", headers=from_address("198.51.100.50")
    )
    assert honest.status_code == 404
    assert await limit_hits(relay, "redeem_attempts_per_address") >= 2


# --- Host binding -----------------------------------------------------------------------


async def test_with_public_hosts_a_sign_in_under_another_name_is_wrong_host(
    space: SpaceUnderTest, relay: RelayProcess
) -> None:
    other_name = await SyncClient.open(f"ws://localhost:{relay.port}/v1/sync")
    await other_name.send(Hello(space_id=space.space_id, device_id=space.creator.device_id))
    refused = error(await other_name.receive(), ErrorCode.WRONG_HOST)
    assert f"127.0.0.1:{relay.port}" in refused.detail
    assert await other_name.close_code() == CLOSE_AUTH
    await space.assert_still_served_and_nothing_lost()  # under its own name it serves


async def test_one_partner_cannot_take_every_connection_of_the_space(
    relay: RelayProcess,
) -> None:
    # Alex's devices open as many connections as the relay lets them (docs/THREAT_MODEL.md
    # §19): they get their share and no more, and Blake can still connect and push.
    blake = Device()
    space = await new_space(relay, blake)
    alex_clients = []
    for _ in range(PER_SPACE):
        client = await SyncClient.open(relay.ws_url)
        device = space.creator
        await client.send(Hello(space_id=space.space_id, device_id=device.device_id))
        challenge = await client.receive()
        assert isinstance(challenge, Challenge)
        transcript = auth_transcript(space.host, space.space_id, device.device_id, challenge.nonce)
        await client.send(Authenticate(signature=device.sign(transcript)))
        reply = await client.receive()
        if isinstance(reply, Welcome):
            alex_clients.append(client)
        else:
            error(reply, ErrorCode.RATE_LIMITED)
            assert await client.close_code() == CLOSE_RATE
    assert len(alex_clients) == (PER_SPACE + 1) // 2
    blakes = await space.connect(blake)
    await space.push_ok(blakes, 1, [blake.envelope(space.space_id)])
    for client in [*alex_clients, blakes]:
        await client.close()
