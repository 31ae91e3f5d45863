"""The websocket shell (client/store/transport.py) against a peer that closes at once.

The peer is a few lines of asyncio on loopback: it answers the websocket upgrade and
closes in the same write, as a relay refusing a connection or shutting down can. The
first frame the client sends then meets a closed connection; that must end the
session as a relay out of reach (retried), never escape as a websockets exception:
the app's live session task died of it and never started again."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re

import pytest

from client.core.session import SessionEvent, SyncSession
from client.errors import RelayUnreachable
from client.keys import crypto
from client.store.relay_http import RelayEndpoint
from client.store.transport import SyncConnection

WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CLOSE_NORMAL = b"\x88\x02\x03\xe8"
"""A close frame, code 1000, unmasked as a server sends it."""


async def _accept_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    found = re.search(rb"(?im)^sec-websocket-key: *(\S+)", head)
    assert found is not None
    accept = base64.b64encode(hashlib.sha1(found.group(1) + WEBSOCKET_GUID).digest())
    writer.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + CLOSE_NORMAL
    )
    await writer.drain()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(reader.read(4096), 5)  # the client's answer to the close
    writer.close()


async def test_a_relay_that_closes_before_the_first_frame_is_out_of_reach() -> None:
    server = await asyncio.start_server(_accept_then_close, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    device = crypto.DeviceKeys.generate()
    session = SyncSession(
        space_id=bytes(16),
        device_id=device.device_id,
        host=f"127.0.0.1:{port}",
        sign=device.sign,
        cursor=0,
        outbox=[],
    )

    async def handle(_: SessionEvent) -> None:
        return None

    try:
        connection = SyncConnection(RelayEndpoint.parse(f"http://127.0.0.1:{port}"), session)
        with pytest.raises(RelayUnreachable):
            await connection.run(handle, until_up_to_date=True)
    finally:
        server.close()
        await server.wait_closed()
