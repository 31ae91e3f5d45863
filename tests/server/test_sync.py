"""The sync endpoint of a real relay process, over real websockets on loopback."""

from __future__ import annotations

import asyncio
import os
import sqlite3

import httpx
import msgspec
import pytest
from websockets.exceptions import ConnectionClosed

from schemas import PROTOCOL_VERSION
from schemas.envelope import decode_envelope, encode_envelope, event_id_of
from schemas.errors import (
    CLOSE_AUTH,
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_PROTOCOL,
    CLOSE_TOO_BIG,
    ErrorCode,
)
from schemas.protocol import (
    Acked,
    Authenticate,
    Challenge,
    Error,
    Hello,
    Live,
    Page,
    Pull,
    Push,
    RelayMessage,
    auth_transcript,
    encode_message,
)
from tests.integration.relay_process import RelayProcess
from tests.server.conftest import AUTH_TIMEOUT_S, SpaceUnderTest
from tests.server.helpers import Device, SyncClient, admit, new_space_id

MAX_FRAME_BYTES = 1024 * 1024


def assert_error(message: RelayMessage, code: ErrorCode) -> Error:
    assert isinstance(message, Error), message
    assert message.code == code.value, message
    assert message.detail
    return message


async def expect_error_then_close(client: SyncClient, code: ErrorCode, close_code: int) -> None:
    assert_error(await client.receive(), code)
    assert await client.close_code() == close_code


async def challenged(
    space: SpaceUnderTest, device: Device | None = None
) -> tuple[SyncClient, bytes]:
    device = device or space.creator
    client = await SyncClient.open(space.relay.ws_url)
    await client.send(Hello(space_id=space.space_id, device_id=device.device_id))
    challenge = await client.receive()
    assert isinstance(challenge, Challenge), challenge
    return client, challenge.nonce


# --- signing in ------------------------------------------------------------------


async def test_a_device_signs_in_and_learns_the_head(space: SpaceUnderTest) -> None:
    client = await space.connect()
    await client.close()
    client = await SyncClient.open(space.relay.ws_url)
    welcome = await client.sign_in(space.creator, space.space_id, host=space.host)
    assert welcome.head == 1
    await client.close()


async def test_push_before_authentication_is_refused(space: SpaceUnderTest) -> None:
    client = await SyncClient.open(space.relay.ws_url)
    await client.send(Push(req=1, envelopes=[]))
    await expect_error_then_close(client, ErrorCode.NOT_AUTHENTICATED, CLOSE_AUTH)
    # A push with an envelope is larger than any sign-in frame: refused for its size
    # before it is even decoded (docs/PROTOCOL.md §6.7).
    client = await SyncClient.open(space.relay.ws_url)
    await client.send(
        Push(req=1, envelopes=[space.creator.envelope(space.space_id, advance=False)])
    )
    await expect_error_then_close(client, ErrorCode.FRAME_TOO_LARGE, CLOSE_TOO_BIG)
    await space.assert_still_served_and_nothing_lost()


async def test_push_after_hello_but_before_the_answer_is_refused(space: SpaceUnderTest) -> None:
    client, _ = await challenged(space)
    await client.send(Pull(req=1))
    await expect_error_then_close(client, ErrorCode.NOT_AUTHENTICATED, CLOSE_AUTH)


async def test_a_replayed_challenge_answer_fails_on_a_new_connection(
    space: SpaceUnderTest,
) -> None:
    first, nonce = await challenged(space)
    transcript = auth_transcript(space.host, space.space_id, space.creator.device_id, nonce)
    answer = Authenticate(signature=space.creator.sign(transcript))
    await first.send(answer)
    await first.receive()  # Welcome
    await first.close()
    second, new_nonce = await challenged(space)
    assert new_nonce != nonce
    await second.send(answer)
    await expect_error_then_close(second, ErrorCode.AUTH_FAILED, CLOSE_AUTH)
    await space.assert_still_served_and_nothing_lost()


@pytest.mark.parametrize("bound_to", ["host", "space", "device"])
async def test_an_answer_bound_to_something_else_fails(
    space: SpaceUnderTest, bound_to: str
) -> None:
    client, nonce = await challenged(space)
    host, space_id, device_id = space.host, space.space_id, space.creator.device_id
    if bound_to == "host":
        host = "other-relay.example:443"
    elif bound_to == "space":
        space_id = new_space_id()
    else:
        device_id = Device().device_id
    signature = space.creator.sign(auth_transcript(host, space_id, device_id, nonce))
    await client.send(Authenticate(signature=signature))
    await expect_error_then_close(client, ErrorCode.AUTH_FAILED, CLOSE_AUTH)
    await space.assert_still_served_and_nothing_lost()


async def test_an_unknown_space_is_refused(space: SpaceUnderTest) -> None:
    client = await SyncClient.open(space.relay.ws_url)
    await client.send(Hello(space_id=new_space_id(), device_id=space.creator.device_id))
    await expect_error_then_close(client, ErrorCode.UNKNOWN_SPACE, CLOSE_NOT_FOUND)
    await space.assert_still_served_and_nothing_lost()


async def test_an_unknown_device_is_refused(space: SpaceUnderTest) -> None:
    client = await SyncClient.open(space.relay.ws_url)
    await client.send(Hello(space_id=space.space_id, device_id=Device().device_id))
    await expect_error_then_close(client, ErrorCode.UNKNOWN_DEVICE, CLOSE_FORBIDDEN)
    await space.assert_still_served_and_nothing_lost()


async def test_a_revoked_device_is_refused(space: SpaceUnderTest, http: httpx.AsyncClient) -> None:
    removed = Device()
    await admit(http, space.creator, space.space_id, removed)
    # No revocation endpoint exists yet; mark it in the database as one would.
    with sqlite3.connect(space.relay.db, timeout=5) as db:
        db.execute(
            "UPDATE devices SET status = 'revoked' "
            "WHERE space = (SELECT id FROM spaces WHERE space_id = ?) AND device_id = ?",
            (space.space_id, removed.device_id),
        )
    db.close()
    client = await SyncClient.open(space.relay.ws_url)
    await client.send(Hello(space_id=space.space_id, device_id=removed.device_id))
    await expect_error_then_close(client, ErrorCode.DEVICE_REVOKED, CLOSE_FORBIDDEN)
    await space.assert_still_served_and_nothing_lost()


async def test_another_protocol_version_is_refused(space: SpaceUnderTest) -> None:
    client = await SyncClient.open(space.relay.ws_url)
    hello = Hello(
        space_id=space.space_id, device_id=space.creator.device_id, version=PROTOCOL_VERSION + 1
    )
    await client.send(hello)
    await expect_error_then_close(client, ErrorCode.UNSUPPORTED_VERSION, CLOSE_PROTOCOL)


async def test_a_silent_connection_times_out(space: SpaceUnderTest) -> None:
    client = await SyncClient.open(space.relay.ws_url)
    started = asyncio.get_running_loop().time()
    await expect_error_then_close(client, ErrorCode.AUTH_TIMEOUT, CLOSE_AUTH)
    elapsed = asyncio.get_running_loop().time() - started
    assert AUTH_TIMEOUT_S * 0.8 < elapsed < AUTH_TIMEOUT_S + 5


async def test_a_second_hello_after_sign_in_is_refused(space: SpaceUnderTest) -> None:
    client = await space.connect()
    await client.send(Hello(space_id=space.space_id, device_id=space.creator.device_id))
    await expect_error_then_close(client, ErrorCode.ALREADY_AUTHENTICATED, CLOSE_PROTOCOL)


# --- bad frames ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\xc1\xc1\xc1", ErrorCode.MALFORMED_FRAME),
        (encode_message(Pull(req=1))[:-3], ErrorCode.MALFORMED_FRAME),
        ("a text frame", ErrorCode.MALFORMED_FRAME),
        (msgspec.msgpack.encode({"type": "gossip", "req": 1}), ErrorCode.UNKNOWN_MESSAGE),
    ],
    ids=["garbage", "truncated", "text", "unknown-type"],
)
async def test_a_bad_frame_is_refused_and_the_relay_keeps_serving(
    space: SpaceUnderTest, frame: bytes | str, code: ErrorCode
) -> None:
    for signed_in in (False, True):
        client = await space.connect() if signed_in else await SyncClient.open(space.relay.ws_url)
        await client.send_raw(frame)
        await expect_error_then_close(client, code, CLOSE_PROTOCOL)
    await space.assert_still_served_and_nothing_lost()


async def test_an_oversized_frame_gets_frame_too_large_then_1009(space: SpaceUnderTest) -> None:
    client = await space.connect()
    await client.send_raw(b"\x00" * (MAX_FRAME_BYTES + 1))
    await expect_error_then_close(client, ErrorCode.FRAME_TOO_LARGE, CLOSE_TOO_BIG)
    await space.assert_still_served_and_nothing_lost()


async def test_a_frame_beyond_twice_the_limit_is_cut_off_with_1009(space: SpaceUnderTest) -> None:
    client = await space.connect()
    close_code: int | None
    try:
        await client.send_raw(b"\x00" * (2 * MAX_FRAME_BYTES + 1))
    except ConnectionClosed as closed:  # the relay may cut in while we still send
        close_code = closed.rcvd.code if closed.rcvd is not None else None
    else:
        close_code = await client.close_code()
    assert close_code == CLOSE_TOO_BIG
    await space.assert_still_served_and_nothing_lost()


async def test_an_oversized_batch_is_refused_and_the_connection_stays_open(
    space: SpaceUnderTest,
) -> None:
    client = await space.connect()
    error = assert_error(await client.push(3, [b"x"] * 501), ErrorCode.BATCH_TOO_LARGE)
    assert error.req == 3
    await space.push_ok(client, 4, [space.creator.envelope(space.space_id)])
    await client.close()
    await space.assert_still_served_and_nothing_lost()


# --- pushes that break the rules -------------------------------------------------


async def rejected_push(space: SpaceUnderTest, envelopes: list[bytes], code: ErrorCode) -> Error:
    """Push, expect the refusal, then check the same connection still works."""
    client = await space.connect()
    error = assert_error(await client.push(77, envelopes), code)
    assert error.req == 77
    await space.push_ok(client, 78, [])
    await client.close()
    await space.assert_still_served_and_nothing_lost()
    return error


async def test_a_partners_envelope_with_a_wrong_signature_rejects_the_whole_batch(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    # Envelopes written by another device than the one signed in (a re-seed) are verified.
    partner = Device()
    await admit(http, space.creator, space.space_id, partner)
    good = partner.envelope(space.space_id, advance=False)
    following = partner.envelope(space.space_id, seq=2, prev=event_id_of(good), advance=False)
    env = decode_envelope(following)
    forged = encode_envelope(msgspec.structs.replace(env, signature=os.urandom(64)))
    error = await rejected_push(space, [good, forged], ErrorCode.BAD_SIGNATURE)
    assert error.index == 1


async def test_the_signed_in_devices_own_envelope_with_a_bad_signature_is_refused(
    space: SpaceUnderTest,
) -> None:
    # The relay stores only what verifies, whoever pushes it (docs/THREAT_MODEL.md §6):
    # a bad signature on one's own event is refused and nothing of the push is stored,
    # so the device's chain stays open for the correctly signed event.
    creator = space.creator
    env = decode_envelope(creator.envelope(space.space_id, advance=False))
    own = encode_envelope(msgspec.structs.replace(env, signature=os.urandom(64)))
    # (rejected_push then pushes the device's next, well-signed event at that seq.)
    error = await rejected_push(space, [own], ErrorCode.BAD_SIGNATURE)
    assert error.index == 0
    assert creator.seq == env.seq


async def test_a_chain_gap_rejects_the_batch(space: SpaceUnderTest) -> None:
    skipped = space.creator.envelope(space.space_id, seq=5, prev=os.urandom(32), advance=False)
    error = await rejected_push(space, [skipped], ErrorCode.CHAIN_GAP)
    assert error.index == 0


async def test_a_wrong_prev_rejects_the_batch(space: SpaceUnderTest) -> None:
    good = space.creator.envelope(space.space_id, advance=False)
    wrong = space.creator.envelope(space.space_id, seq=3, prev=os.urandom(32), advance=False)
    error = await rejected_push(space, [good, wrong], ErrorCode.CHAIN_BAD_PREV)
    assert error.index == 1


async def test_a_repeated_seq_with_other_content_is_a_conflict(space: SpaceUnderTest) -> None:
    client = await space.connect()
    await space.push_ok(client, 1, [space.creator.envelope(space.space_id)])
    await client.close()
    # Same position (seq 2, after the genesis), other content.
    genesis_id = next(eid for eid, seq in space.acked.items() if seq == 1)
    rewrite = space.creator.envelope(space.space_id, seq=2, prev=genesis_id, advance=False)
    await rejected_push(space, [rewrite], ErrorCode.CHAIN_CONFLICT)


async def test_an_envelope_of_another_space_is_refused(space: SpaceUnderTest) -> None:
    other = space.creator.envelope(new_space_id(), seq=1, advance=False)
    await rejected_push(space, [other], ErrorCode.WRONG_SPACE)


async def test_an_author_who_is_not_a_member_is_refused(space: SpaceUnderTest) -> None:
    stranger = Device()
    await rejected_push(space, [stranger.envelope(space.space_id)], ErrorCode.UNKNOWN_AUTHOR)


async def test_a_retried_push_is_acknowledged_with_the_original_seq_and_stored_once(
    space: SpaceUnderTest,
) -> None:
    client = await space.connect()
    batch = [space.creator.envelope(space.space_id) for _ in range(3)]
    first = await space.push_ok(client, 1, batch)
    await client.close()
    client = await space.connect()
    again = await space.push_ok(client, 2, [*batch, space.creator.envelope(space.space_id)])
    assert again[:3] == first
    assert again[3].seq == first[-1].seq + 1
    stored = await space.pull_all(client)
    ids = [event_id_of(s.envelope) for s in stored]
    assert len(ids) == len(set(ids)) == 5
    await client.close()


# --- the happy paths -------------------------------------------------------------


async def test_pushes_are_pulled_back_in_pages(space: SpaceUnderTest) -> None:
    client = await space.connect()
    for req in range(1, 4):
        await space.push_ok(client, req, [space.creator.envelope(space.space_id) for _ in range(4)])
    page = await client.pull(20, after=0, limit=5)
    assert isinstance(page, Page)
    assert ([s.seq for s in page.events], page.more, page.head) == ([1, 2, 3, 4, 5], True, 13)
    page = await client.pull(21, after=5, limit=100)
    assert isinstance(page, Page)
    assert ([s.seq for s in page.events], page.more) == (list(range(6, 14)), False)
    page = await client.pull(22, after=99, limit=10)
    assert isinstance(page, Page)
    assert (page.events, page.more, page.head) == ([], False, 13)
    walked = await space.pull_all(client, limit=3)
    assert [s.seq for s in walked] == list(range(1, 14))
    await client.close()


async def test_a_partners_device_receives_pushes_live_and_the_pusher_does_not(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    partner = Device()
    await admit(http, space.creator, space.space_id, partner)
    listener = await space.connect(partner)
    second_own = await space.connect()  # the pusher's other connection gets it too
    pusher = await space.connect()
    envelopes = [space.creator.envelope(space.space_id) for _ in range(3)]
    acks = await space.push_ok(pusher, 1, envelopes)
    for receiver in (listener, second_own):
        message = await receiver.receive()
        assert isinstance(message, Live), message
        assert [(s.seq, s.envelope) for s in message.events] == [
            (ack.seq, env) for ack, env in zip(acks, envelopes, strict=True)
        ]
    # The partner pushes back; the first device hears it, the partner does not.
    reply = partner.envelope(space.space_id)
    await space.push_ok(listener, 2, [reply])
    message = await pusher.receive()
    assert isinstance(message, Live)
    assert [s.envelope for s in message.events] == [reply]
    page = await listener.pull(3, after=acks[-1].seq)
    assert isinstance(page, Page)
    assert [s.envelope for s in page.events] == [reply]
    assert listener.live == []
    for client in (listener, second_own, pusher):
        await client.close()


async def test_concurrent_pushes_from_many_connections_get_dense_unique_seqs(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    devices = [space.creator] + [Device() for _ in range(4)]
    for device in devices[1:]:
        await admit(http, space.creator, space.space_id, device, kind="device")
    clients = [await space.connect(d) for d in devices]
    batches_per_device, batch_size = 6, 10

    async def push_all(client: SyncClient, device: Device) -> list[int]:
        # Several pushes in flight on one connection before reading any ack.
        reqs = list(range(1, batches_per_device + 1))
        for req in reqs:
            envelopes = [device.envelope(space.space_id) for _ in range(batch_size)]
            await client.send(Push(req=req, envelopes=envelopes))
        seqs: list[int] = []
        pending = set(reqs)
        while pending:
            reply = await client.receive_reply()
            assert isinstance(reply, Acked), reply
            pending.remove(reply.req)
            seqs.extend(ack.seq for ack in reply.acks)
        return seqs

    results = await asyncio.gather(*(push_all(c, d) for c, d in zip(clients, devices, strict=True)))
    all_seqs = sorted(seq for seqs in results for seq in seqs)
    total = len(devices) * batches_per_device * batch_size
    assert all_seqs == list(range(2, 2 + total)), "unique and dense after the genesis"
    for seqs in results:
        assert seqs == sorted(seqs), "one device's chain keeps its order"
    stored = await space.pull_all(clients[0])
    assert len(stored) == total + 1
    for client in clients:
        await client.close()


async def test_a_relay_serves_other_spaces_while_one_misbehaves(
    space: SpaceUnderTest, relay: RelayProcess
) -> None:
    noisy = [await SyncClient.open(relay.ws_url) for _ in range(5)]
    for client in noisy:
        await client.send_raw(os.urandom(64))
    good = await space.connect()
    await space.push_ok(good, 1, [space.creator.envelope(space.space_id)])
    for client in noisy:
        assert await client.close_code() == CLOSE_PROTOCOL
    await good.close()
    await space.assert_still_served_and_nothing_lost()


async def test_one_event_pushes_and_larger_pushes_in_flight_together_keep_their_order(
    space: SpaceUnderTest,
) -> None:
    # One-event pushes are verified on the loop and go to the writer at once; larger
    # ones are verified by worker threads first (server/verification.py). Sent back to
    # back without waiting for acks, each push chains on the one before, so any push
    # overtaking another would be refused with chain_gap.
    client = await space.connect(max_queue=64)
    sizes = [80, 1, 1, 70, 1, 3, 1, 1, 90, 1]
    sent: list[list[bytes]] = []
    for req, size in enumerate(sizes, start=1):
        envelopes = [space.creator.envelope(space.space_id) for _ in range(size)]
        sent.append(envelopes)
        await client.send(Push(req=req, envelopes=envelopes))
    seqs: dict[int, list[int]] = {}
    while len(seqs) < len(sizes):
        reply = await client.receive_reply()
        assert isinstance(reply, Acked), reply
        seqs[reply.req] = [ack.seq for ack in reply.acks]
    in_order = [seq for req in range(1, len(sizes) + 1) for seq in seqs[req]]
    assert in_order == list(range(2, 2 + sum(sizes)))
    stored = await space.pull_all(client)
    assert [s.envelope for s in stored[1:]] == [raw for push in sent for raw in push]
    await client.close()
