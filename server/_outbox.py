"""The outgoing frames of one connection, in the order they must be sent.

Replies (Challenge, Welcome, Acked, Page, Error) are few by construction: one per
request, and a connection has at most ``max_inflight_pushes`` pushes open. Live frames
are what a slow reader lets pile up, so they are bounded: ``put_live`` refuses once
``max_frames`` are queued, and the shell then ``discard``s everything and closes the
connection. Until ``release_live`` (after Welcome is queued), live frames are held back
so that Welcome is always the first thing a signed-in device hears.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CloseFrame:
    code: int


class Outbox:
    def __init__(self, max_frames: int) -> None:
        self._max_frames = max_frames
        self._frames: deque[bytes | CloseFrame] = deque()
        self._ready = asyncio.Event()
        self._held_live: list[bytes] | None = []
        self._closed = False

    @property
    def closed(self) -> bool:
        """A close is queued: nothing more will be sent after it."""
        return self._closed

    def put(self, frame: bytes) -> None:
        if self._closed:
            return
        self._frames.append(frame)
        self._ready.set()

    def put_live(self, frames: list[bytes]) -> bool:
        """Queue live frames; False when that would exceed the bound."""
        if self._closed:
            return True
        queued = len(self._frames) + (0 if self._held_live is None else len(self._held_live))
        if queued + len(frames) > self._max_frames:
            return False
        if self._held_live is not None:
            self._held_live.extend(frames)
        else:
            self._frames.extend(frames)
            self._ready.set()
        return True

    def release_live(self) -> None:
        held, self._held_live = self._held_live, None
        if held:
            for frame in held:
                self.put(frame)

    def discard(self) -> None:
        """Drop everything not yet sent (the peer is too slow to want it)."""
        self._frames.clear()
        if self._held_live is not None:
            self._held_live.clear()

    def close(self, code: int) -> None:
        """Queue the close after everything already queued; ignore anything later."""
        if self._closed:
            return
        self._frames.append(CloseFrame(code))
        self._closed = True
        self._ready.set()

    async def get(self) -> bytes | CloseFrame:
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        return self._frames.popleft()
