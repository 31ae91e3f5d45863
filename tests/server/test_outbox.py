"""The per-connection send queue (server/_outbox.py)."""

from __future__ import annotations

import asyncio

from server._outbox import CloseFrame, Outbox


async def drain(outbox: Outbox) -> list[bytes | CloseFrame]:
    items: list[bytes | CloseFrame] = []
    while True:
        try:
            items.append(await asyncio.wait_for(outbox.get(), 0.05))
        except TimeoutError:
            return items


async def test_live_frames_wait_until_released_so_welcome_goes_first() -> None:
    outbox = Outbox(max_bytes=100)
    assert outbox.put_live([b"live"])
    outbox.put(b"welcome")
    assert await drain(outbox) == [b"welcome"]
    outbox.release_live()
    assert outbox.put_live([b"later"])
    assert await drain(outbox) == [b"live", b"later"]


async def test_live_frames_beyond_the_byte_bound_are_refused_whole() -> None:
    outbox = Outbox(max_bytes=10)
    outbox.release_live()
    assert outbox.put_live([b"12345"])
    assert not outbox.put_live([b"123", b"456"])
    assert outbox.queued_bytes == 5
    assert await drain(outbox) == [b"12345"]
    assert outbox.put_live([b"123", b"456"]), "sent frames no longer count"


async def test_discard_then_close_sends_only_what_comes_after() -> None:
    outbox = Outbox(max_bytes=100)
    outbox.release_live()
    outbox.put(b"stale")
    outbox.discard()
    outbox.put(b"error")
    outbox.close(4029)
    outbox.put(b"too late")
    assert outbox.put_live([b"too late"])
    assert await drain(outbox) == [b"error", CloseFrame(4029)]
    assert outbox.closed
