"""SIGTERM drains: stop accepting, finish in-flight commits and acks, close sockets with
1001, exit 0 (issue #6, durability)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from schemas.envelope import event_id_of
from schemas.errors import CLOSE_GOING_AWAY, ErrorCode
from schemas.protocol import Acked, Error, Push, relay_message_decoder
from server.app import create_app
from server.settings import Settings
from tests.relay_ops.conftest import RelayFactory
from tests.relay_ops.spaces import new_space
from tests.server.helpers import SyncClient

PUSHES = 12
BATCH = 100


async def test_sigterm_acknowledges_what_it_received_then_closes_with_1001_and_exits_0(
    start_relay: RelayFactory,
) -> None:
    relay = start_relay()
    space = await new_space(relay)
    idle = await space.connect()
    pusher = await space.connect()
    sent: dict[int, list[bytes]] = {}
    for req in range(1, PUSHES + 1):
        sent[req] = [space.creator.envelope(space.space_id) for _ in range(BATCH)]
        await pusher.send(Push(req=req, envelopes=sent[req]))
    first = await pusher.receive_reply()
    assert isinstance(first, Acked), first
    assert relay.proc is not None
    relay.proc.send_signal(signal.SIGTERM)

    # Everything the relay answers is acks, in push order, then shutting_down, then 1001.
    answered = [first]
    while True:
        reply = await pusher.receive_reply()
        if isinstance(reply, Error):
            assert reply.code == ErrorCode.SHUTTING_DOWN.value
            break
        assert isinstance(reply, Acked), reply
        answered.append(reply)
    assert [a.req for a in answered] == list(range(1, len(answered) + 1))
    assert await pusher.close_code() == CLOSE_GOING_AWAY
    message = await idle.receive_reply()
    assert isinstance(message, Error)
    assert message.code == ErrorCode.SHUTTING_DOWN.value
    assert await idle.close_code() == CLOSE_GOING_AWAY

    assert relay.proc.wait(timeout=20) == 0, relay.log()
    assert "Traceback" not in relay.log()
    with pytest.raises((OSError, InvalidHandshake, ConnectionClosed)):
        await SyncClient.open(relay.ws_url)  # nobody listens any more
    relay.proc = None

    # Every acknowledged push is stored; the rest is taken on the next start as new.
    for reply in answered:
        for ack in reply.acks:
            space.acked[ack.event_id] = ack.seq  # type: ignore[index]
    relay.start()
    client = await space.connect()
    stored = {event_id_of(s.envelope): s.seq for s in await space.pull_all(client)}
    for event_id, seq in space.acked.items():
        assert stored.get(event_id) == seq
    unanswered = [e for req in range(len(answered) + 1, PUSHES + 1) for e in sent[req]]
    if unanswered:
        await space.push_ok(client, 1000, unanswered)
    await client.close()
    await space.assert_still_served_and_nothing_lost()


def test_ctrl_c_drains_the_same_way_and_exits_0(start_relay: RelayFactory) -> None:
    relay = start_relay()
    assert relay.proc is not None
    relay.proc.send_signal(signal.SIGINT)
    assert relay.proc.wait(timeout=20) == 0
    assert "Finished server process" in relay.log()
    relay.proc = None


def test_a_connection_that_arrives_while_draining_is_told_to_come_back(tmp_path: Path) -> None:
    app = create_app(Settings(db=str(tmp_path / "relay.db")))
    with TestClient(app=app) as client:
        app.state.relay.lifecycle.draining = True
        with client.websocket_connect("/v1/sync") as ws:
            error = relay_message_decoder.decode(ws.receive_bytes())
            assert isinstance(error, Error)
            assert error.code == ErrorCode.SHUTTING_DOWN.value
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_bytes()
            assert closed.value.code == CLOSE_GOING_AWAY
        assert client.get("/readyz").json()["code"] == ErrorCode.SHUTTING_DOWN.value
