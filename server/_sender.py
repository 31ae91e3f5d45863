"""Sending one connection's frames: straight onto the socket when nothing is ahead of
them, else in order through its Outbox and the connection's sender task.

Why not always through the sender task: every frame then waited for a later turn of
the event loop (a wake-up of the task, then the send), and a busy loop's turn is long.
An ack or a live event came out one turn after the commit that allowed it, and that
turn cost CPU for every frame. The websocket's send does not wait at all unless the
socket's buffer is full (uvicorn waits for "writable" then), so a frame with nothing
queued or being sent before it is sent right where it is produced: the writer's
answer after COMMIT (acks, live fan-out), or the reader's reply.

Order is kept: a frame goes straight out only when the queue is empty and the sender
task is not in the middle of a send. A send that does have to wait is handed, as it
stands, to the sender task (``StartedSend``), which finishes it before anything queued
after it. Bounds, the held-back live frames before Welcome and the close frame behave
as before (server/_outbox.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from litestar.exceptions import WebSocketDisconnect

from server._log import logger
from server._outbox import CloseFrame, Outbox, StartedSend

SendFrame = Callable[[bytes], Coroutine[Any, Any, None]]
"""Starts the socket's send of one binary frame."""
CloseSocket = Callable[[int], Awaitable[None]]

_SOCKET_GONE = (WebSocketDisconnect, OSError, RuntimeError)
"""What a send raises once the socket cannot take frames: the peer left (uvicorn's
ClientDisconnected is an OSError), or the server closed it itself (uvicorn raises
RuntimeError for a send after its own close, e.g. when the client stopped answering
pings)."""


class Sender:
    def __init__(self, outbox: Outbox, send: SendFrame, close: CloseSocket) -> None:
        self._outbox = outbox
        self._send = send
        self._close = close
        self._sending = False
        """The sender task is inside a send (one that had to wait)."""

    @property
    def closed(self) -> bool:
        return self._outbox.closed

    def put(self, frame: bytes) -> None:
        """Send a reply (Challenge, Welcome, Acked, Page, Error) in order."""
        if not self._write_through(frame):
            self._outbox.put(frame)

    def put_live(self, frames: list[bytes]) -> bool:
        """Send live frames in order; False (sending nothing more) when the queue would
        pass its bound: the reader is too slow (Outbox.put_live)."""
        if self._outbox.closed:
            return True
        if not self._outbox.live_released:
            return self._outbox.put_live(frames)
        for index, frame in enumerate(frames):
            if not self._write_through(frame):
                return self._outbox.put_live(frames[index:])
        return True

    def release_live(self) -> None:
        self._outbox.release_live()

    def discard(self) -> None:
        self._outbox.discard()

    def close(self, code: int) -> None:
        self._outbox.close(code)

    def _write_through(self, frame: bytes) -> bool:
        """Start sending ``frame`` now if nothing is queued or being sent before it;
        False when it must be queued instead."""
        outbox = self._outbox
        if self._sending or outbox.closed or not outbox.empty:
            return False
        step = self._send(frame)
        try:
            waiting = step.send(None)
        except StopIteration:
            return True  # sent
        except _SOCKET_GONE:
            return True  # the socket is gone or closing; the reader sees it and ends
        except Exception:
            # Never raise into whoever produced the frame (the writer's answer, the
            # hub's fan-out, the reader): a failed send costs this connection only.
            logger.exception("sending a frame failed")
            return True
        outbox.put_started(StartedSend(step, waiting, len(frame)))
        return True

    async def run(self) -> None:
        """The sender task: send what was queued, in order, ending with the close."""
        while True:
            item = await self._outbox.get()
            self._sending = True
            try:
                if isinstance(item, CloseFrame):
                    await self._close(item.code)
                    return
                if isinstance(item, StartedSend):
                    await item.finish()
                else:
                    await self._send(item)
            except _SOCKET_GONE:
                # The peer is gone (uvicorn raises ClientDisconnected, an OSError);
                # the reader sees the disconnect and ends the connection.
                return
            finally:
                self._sending = False
