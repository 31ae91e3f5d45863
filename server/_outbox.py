"""The outgoing frames of one connection, in the order they must be sent.

Replies (Challenge, Welcome, Acked, Page, Error) are few by construction: one per
request, and a connection has at most ``max_inflight_pushes`` pushes open. Live frames
are what a slow reader lets pile up, so they are bounded in bytes: ``put_live`` refuses
once the queue would pass ``max_bytes``, and the shell then ``discard``s everything and
closes the connection. Until ``release_live`` (after Welcome is queued), live frames
are held back so that Welcome is always the first thing a signed-in device hears.

A frame whose send began at once but had to wait for the socket (server/_sender.py) is
queued as a ``StartedSend``: the sender task finishes it before anything queued after.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CloseFrame:
    code: int


@dataclass(frozen=True, slots=True)
class StartedSend:
    """A send of ``size`` bytes that ran until it had to wait on ``waiting``."""

    step: Coroutine[Any, Any, None]
    waiting: object
    size: int

    async def finish(self) -> None:
        """Drive the send to its end, as the task that started it would have: wait
        until what it waits on is done, then let it go on (it reads the outcome)."""
        waiting = self.waiting
        try:
            while True:
                if asyncio.isfuture(waiting):
                    await asyncio.wait([waiting])
                else:
                    await asyncio.sleep(0)
                try:
                    waiting = self.step.send(None)
                except StopIteration:
                    return
        finally:
            self.step.close()  # nothing once it has finished; ends it if we were cancelled


Item = bytes | CloseFrame | StartedSend


class Outbox:
    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._frames: deque[Item] = deque()
        self._queued_bytes = 0
        self._ready = asyncio.Event()
        self._held_live: list[bytes] | None = []
        self._closed = False

    @property
    def closed(self) -> bool:
        """A close is queued: nothing more will be sent after it."""
        return self._closed

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    @property
    def empty(self) -> bool:
        """Nothing waits to be sent (live frames held back before Welcome aside)."""
        return not self._frames

    @property
    def live_released(self) -> bool:
        return self._held_live is None

    def put_started(self, send: StartedSend) -> None:
        if self._closed:
            send.step.close()
            return
        self._frames.append(send)
        self._queued_bytes += send.size
        self._ready.set()

    def put(self, frame: bytes) -> None:
        if self._closed:
            return
        self._frames.append(frame)
        self._queued_bytes += len(frame)
        self._ready.set()

    def put_live(self, frames: list[bytes]) -> bool:
        """Queue live frames; False (queuing nothing) when that would pass the bound."""
        if self._closed:
            return True
        if self._queued_bytes + sum(map(len, frames)) > self._max_bytes:
            return False
        if self._held_live is not None:
            self._held_live.extend(frames)
            self._queued_bytes += sum(map(len, frames))
        else:
            for frame in frames:
                self.put(frame)
        return True

    def release_live(self) -> None:
        held, self._held_live = self._held_live, None
        for frame in held or ():
            self._frames.append(frame)
            self._ready.set()

    def discard(self) -> None:
        """Drop everything not yet sent (the peer is too slow to want it)."""
        for item in self._frames:
            if isinstance(item, StartedSend):
                item.step.close()
        self._frames.clear()
        if self._held_live is not None:
            self._held_live.clear()
        self._queued_bytes = 0

    def close(self, code: int) -> None:
        """Queue the close after everything already queued; ignore anything later."""
        if self._closed:
            return
        self._frames.append(CloseFrame(code))
        self._closed = True
        self._ready.set()

    async def get(self) -> Item:
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        item = self._frames.popleft()
        if isinstance(item, bytes):
            self._queued_bytes -= len(item)
        elif isinstance(item, StartedSend):
            self._queued_bytes -= item.size
        return item
