"""A lean sync client for load generation: sign in, push pre-built frames, read replies.

The real client (client/store/transport.py) does much more per frame than a load generator
should: here every frame is encoded before timing starts, so the generator spends its
share of the machine's two cores on the socket, not on building messages.
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import ClientConnection, connect

from bench._spaces import PairSpec
from client.keys.crypto import DeviceKeys
from schemas.protocol import (
    Acked,
    Authenticate,
    Challenge,
    Error,
    Hello,
    Push,
    RelayMessage,
    Welcome,
    auth_transcript,
    encode_message,
    relay_message_decoder,
)

MAX_FRAME_BYTES = 16 * 1024 * 1024
OPEN_TIMEOUT_S = 60.0
REPLY_TIMEOUT_S = 60.0


class BenchError(RuntimeError):
    """The relay answered something a benchmark run cannot continue from."""


def host_of(port: int) -> str:
    """The Host header websockets sends for ws://127.0.0.1:port, which sign-in signs."""
    return f"127.0.0.1:{port}"


def sync_url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/v1/sync"


async def receive(ws: ClientConnection) -> RelayMessage:
    data = await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT_S)
    if not isinstance(data, bytes):
        raise BenchError("the relay sent a text frame")
    return relay_message_decoder.decode(data)


async def sign_in(
    port: int, keys: DeviceKeys, space_id: bytes, *, ping_interval: float | None = 20.0
) -> tuple[ClientConnection, int]:
    """Open a connection and answer the challenge; returns it with the space's head."""
    ws = await connect(
        sync_url(port),
        compression=None,
        max_size=MAX_FRAME_BYTES,
        open_timeout=OPEN_TIMEOUT_S,
        ping_interval=ping_interval,
        proxy=None,
        user_agent_header="trellis-bench",
    )
    await ws.send(encode_message(Hello(space_id=space_id, device_id=keys.device_id)))
    challenge = await receive(ws)
    if not isinstance(challenge, Challenge):
        raise BenchError(f"expected a challenge, got {challenge!r}")
    transcript = auth_transcript(host_of(port), space_id, keys.device_id, challenge.nonce)
    await ws.send(encode_message(Authenticate(signature=keys.sign(transcript))))
    welcome = await receive(ws)
    if not isinstance(welcome, Welcome):
        raise BenchError(f"expected welcome, got {welcome!r}")
    return ws, welcome.head


def push_frames(envelopes: list[bytes], batch: int, first_req: int = 1) -> list[bytes]:
    """Encode ``envelopes`` as Push frames of ``batch`` envelopes each."""
    return [
        encode_message(Push(req=first_req + n, envelopes=envelopes[i : i + batch]))
        for n, i in enumerate(range(0, len(envelopes), batch))
    ]


async def push_all(ws: ClientConnection, frames: list[bytes], in_flight: int) -> int:
    """Send every frame with up to ``in_flight`` unacknowledged; returns envelopes acked.

    Live frames (the partner's events) are read and dropped."""
    window = asyncio.Semaphore(in_flight)
    acked = 0

    async def read_acks() -> None:
        nonlocal acked
        replies = 0
        try:
            while replies < len(frames):
                message = await receive(ws)
                if isinstance(message, Acked):
                    replies += 1
                    acked += len(message.acks)
                    window.release()
                elif isinstance(message, Error):
                    raise BenchError(f"push refused: {message.code}: {message.detail}")
        except BaseException:
            window.release()  # wake the sender, which then sees this task is done
            raise

    reader = asyncio.create_task(read_acks())
    try:
        for frame in frames:
            await asyncio.wait_for(window.acquire(), REPLY_TIMEOUT_S)
            if reader.done():
                break
            await ws.send(frame)
        await reader
    finally:
        reader.cancel()
    return acked


async def push_set_up(port: int, pairs: list[PairSpec]) -> None:
    """Push each pair's set-up events in the order they were written (A's invite, then
    B's join), as real devices must: B only learns of the invite from the relay."""
    for pair in pairs:
        for chain, envelopes in ((pair.a, pair.to_push_a), (pair.b, pair.to_push_b)):
            keys = DeviceKeys.from_seeds(chain.signing_seed, chain.box_secret)
            ws, _ = await sign_in(port, keys, chain.space_id)
            await push_all(ws, push_frames(envelopes, len(envelopes)), 1)
            await ws.close()
