"""Sending a connection's frames straight away or in order through its queue
(server/_sender.py), against a socket stand-in whose buffer can be full."""

from __future__ import annotations

import asyncio

from server._outbox import Outbox
from server._sender import Sender


class Socket:
    """Records frames in the order they were written; while ``full`` is clear a send
    waits for it, as uvicorn's send waits for a full buffer to drain."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed_with: int | None = None
        self.full = asyncio.Event()
        self.full.set()
        self.sends_started = 0

    async def send(self, frame: bytes) -> None:
        self.sends_started += 1
        await self.full.wait()
        self.written.append(frame)

    async def close(self, code: int) -> None:
        self.closed_with = code


def sender_for(socket: Socket, max_bytes: int = 1000) -> Sender:
    return Sender(Outbox(max_bytes), socket.send, socket.close)


async def test_a_frame_with_nothing_before_it_is_written_before_the_loop_turns() -> None:
    # No sender task runs at all here: an ack or a live event goes out where it is
    # produced, not a turn of the event loop later.
    socket = Socket()
    sender = sender_for(socket)
    sender.put(b"ack")
    sender.release_live()
    assert sender.put_live([b"live 1", b"live 2"])
    assert socket.written == [b"ack", b"live 1", b"live 2"]


async def test_a_send_that_must_wait_keeps_its_place_and_is_written_once() -> None:
    socket = Socket()
    sender = sender_for(socket)
    sender.release_live()
    socket.full.clear()
    sender.put(b"first")  # starts, then waits for the socket
    sender.put(b"second")
    assert sender.put_live([b"third"])
    assert socket.written == []
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(0.01)
    assert socket.written == []
    socket.full.set()
    sender.close(1000)
    await asyncio.wait_for(task, 1)
    assert socket.written == [b"first", b"second", b"third"]
    assert socket.sends_started == 3
    assert socket.closed_with == 1000


async def test_waiting_sends_count_against_the_bound_of_a_slow_reader() -> None:
    socket = Socket()
    sender = sender_for(socket, max_bytes=10)
    sender.release_live()
    socket.full.clear()
    assert sender.put_live([b"12345"])  # started, waiting: 5 bytes held
    assert not sender.put_live([b"123456"]), "past the bound: the reader is too slow"
    sender.discard()  # ends the waiting send unwritten
    socket.full.set()
    sender.close(4029)
    await asyncio.wait_for(sender.run(), 1)
    assert socket.written == []
    assert socket.closed_with == 4029


async def test_live_frames_still_wait_for_welcome() -> None:
    socket = Socket()
    sender = sender_for(socket)
    assert sender.put_live([b"live"])
    sender.put(b"welcome")
    assert socket.written == [b"welcome"]
    sender.release_live()
    sender.close(1000)
    await asyncio.wait_for(sender.run(), 1)
    assert socket.written == [b"welcome", b"live"]


async def test_a_failing_send_never_raises_into_whoever_produced_the_frame() -> None:
    # Frames are produced by the writer's answer after COMMIT and by the hub's fan-out:
    # a socket that is gone (or a send that fails outright) costs its connection only.
    failures = [OSError("gone"), RuntimeError("after websocket.close"), ValueError("bug")]

    async def failing(frame: bytes) -> None:
        raise failures.pop(0)

    async def close(code: int) -> None:
        return None

    sender = Sender(Outbox(100), failing, close)
    sender.release_live()
    sender.put(b"ack")
    assert sender.put_live([b"live"])
    sender.put(b"another ack")
    assert failures == []
