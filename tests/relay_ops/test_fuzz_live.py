"""Property-based fuzzing of a live relay: every wire message and raw bytes, before and
after sign-in, and raw bytes into its HTTP port. No crash, no 5xx, no hang, no leaked
connection, and the relay still serves a well-behaved client afterwards (issue #6).

Each example ends deterministically: after the fuzzed frames, a signed-in connection
sends a Pull and must get its Page (it is still serving) unless the relay closed it
first; a connection that never signed in must be closed by the relay (its Pull is
not_authenticated). Every message the relay sends must decode, with a known code.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from schemas.envelope import decode_envelope, event_id_of
from schemas.errors import ERRORS, ErrorCode
from schemas.protocol import Error, Live, Page, Pull, RelayMessage, relay_message_decoder
from tests.integration.relay_process import RelayProcess
from tests.relay_ops.spaces import metric, new_space
from tests.server.conftest import SpaceUnderTest
from tests.server.frames import Frame, client_frames
from tests.server.helpers import SyncClient

EXAMPLES = 100
ANSWER_TIMEOUT_S = 5.0
"""No example may wait longer than this for the relay to answer or close: a hang fails."""
MARKER_REQ = 2**53 - 1
KNOWN_CODES = {code.value for code in ErrorCode}
KNOWN_CLOSES = {info.close_code for info in ERRORS.values() if info.close_code} | {1000, 1011}
UNEXPECTED_IN_LOG = ("Traceback", "Exception in ASGI application", "sync connection failed")
LIVE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    args = ["--max-frame-bytes", "65536", "--max-envelope-bytes", "16384", "--push-burst", "10000"]
    process = RelayProcess(tmp_path_factory.mktemp("fuzz") / "relay.db", args).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def space(relay: RelayProcess) -> SpaceUnderTest:
    return asyncio.run(new_space(relay))


async def exchange(relay: RelayProcess, space: SpaceUnderTest | None, frames: list[Frame]) -> None:
    """Send the frames (signed in first if ``space``), then prove the connection's fate."""
    async with asyncio.timeout(ANSWER_TIMEOUT_S * 2):
        client = await SyncClient.open(relay.ws_url)
        try:
            if space is not None:
                await client.sign_in(space.creator, space.space_id, host=space.host)
            for frame in frames:
                await client.send_raw(frame)
            await client.send(Pull(req=MARKER_REQ, limit=1))
            while True:
                message = await answer(client)
                if message is None:
                    assert client.ws.close_code in KNOWN_CLOSES, client.ws.close_code
                    return
                if isinstance(message, Page) and message.req == MARKER_REQ:
                    assert space is not None, "a connection that never signed in was served"
                    return
        except (ConnectionClosed, OSError):
            # The relay may close while we still send: that is an answer too.
            assert client.ws.close_code in KNOWN_CLOSES, client.ws.close_code
        finally:
            await client.ws.close()


async def answer(client: SyncClient) -> RelayMessage | None:
    """The next message from the relay (checked), or None once it closed."""
    try:
        data = await asyncio.wait_for(client.ws.recv(), ANSWER_TIMEOUT_S)
    except ConnectionClosed:
        return None
    assert isinstance(data, bytes)
    message = relay_message_decoder.decode(data)
    if isinstance(message, Error):
        assert message.code in KNOWN_CODES, message
    assert not isinstance(message, Live) or message.events
    return message


@LIVE
@given(st.lists(client_frames(), max_size=6))
def test_frames_from_strangers_never_break_the_relay(
    relay: RelayProcess, frames: list[Frame]
) -> None:
    asyncio.run(exchange(relay, None, frames))


@LIVE
@given(data=st.data())
def test_frames_from_a_signed_in_device_never_break_the_relay(
    relay: RelayProcess, space: SpaceUnderTest, data: st.DataObject
) -> None:
    frames = data.draw(st.lists(client_frames(space.space_id), max_size=6))
    asyncio.run(exchange(relay, space, frames))


@LIVE
@given(st.binary(min_size=1, max_size=2048))
def test_raw_bytes_into_the_http_port_never_break_the_relay(
    relay: RelayProcess, raw: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", relay.port), timeout=ANSWER_TIMEOUT_S) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                reply += chunk
    if reply:
        status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 0
        assert status < 500 or status == 0, reply[:200]


async def test_after_the_fuzzing_nothing_leaked_and_a_good_client_is_served(
    relay: RelayProcess, space: SpaceUnderTest
) -> None:
    # Runs after the property tests above (file order): the relay they hammered.
    async with (
        httpx.AsyncClient(base_url=relay.http_url) as http,
        httpx.AsyncClient(base_url=relay.operator_url) as operator,
    ):
        assert (await http.get("/healthz")).status_code == 200
        deadline = time.monotonic() + 5
        while metric((await operator.get("/metrics")).text, "trellis_relay_connections") > 0:
            assert time.monotonic() < deadline, "connections leaked"
            await asyncio.sleep(0.05)
        text = (await operator.get("/metrics")).text
    assert metric(text, "trellis_relay_authenticated_devices") == 0
    assert relay.proc is not None
    assert relay.proc.poll() is None, "the relay is still running"
    space.creator.seq, space.creator.head = await chain_head(space)
    await space.assert_still_served_and_nothing_lost()
    for unexpected in UNEXPECTED_IN_LOG:
        assert unexpected not in relay.log(), relay.log()[-3000:]


async def chain_head(space: SpaceUnderTest) -> tuple[int, bytes | None]:
    """Fuzzed pushes may have stored envelopes of the creator's (unchecked signatures of
    the signed-in device, THREAT_MODEL §6): continue its chain from what is stored."""
    client = await space.connect()
    try:
        stored = await space.pull_all(client)
    finally:
        await client.close()
    mine = [s for s in stored if decode_envelope(s.envelope).author == space.creator.device_id]
    last = max(mine, key=lambda s: decode_envelope(s.envelope).seq)
    return decode_envelope(last.envelope).seq, event_id_of(last.envelope)
