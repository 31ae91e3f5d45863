"""A large page's signatures are checked off the event loop (client/space/signature_checks.py):
an app embedding the library keeps serving its other tasks while a new device catches
up on a long history (issue #12)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from client.keys import signatures
from client.space import signature_checks
from tests.client.builders import entry, paired

PAGE = 1500


async def test_the_event_loop_keeps_serving_timers_while_a_large_page_is_checked() -> None:
    pair = paired()
    page = [entry(pair.alex, f"Entry {n}.").data for n in range(PAGE)]
    forged = bytearray(page[7])
    forged[-1] ^= 1  # the last byte is in the signature: it no longer verifies
    page[7] = bytes(forged)
    loop = asyncio.get_running_loop()
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(loop.time())
            await asyncio.sleep(0.002)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    started = loop.time()
    valid = await signature_checks.check_signatures(page)
    took = loop.time() - started
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

    assert valid == signatures.valid_signatures(page)
    assert page[7] not in valid
    assert len(valid) == PAGE - 1
    during = [t for t in ticks if t >= started]
    gaps = [b - a for a, b in itertools.pairwise([started, *during])]
    assert len(during) >= 3, f"the loop stalled for {took:.3f} s"
    assert max(gaps) < took / 2


async def test_a_small_page_is_checked_in_place() -> None:
    pair = paired()
    page = [
        entry(pair.alex, f"Entry {n}.").data for n in range(signature_checks.OFF_LOOP_SIGNATURES)
    ]
    assert await signature_checks.check_signatures(page) == set(page)
