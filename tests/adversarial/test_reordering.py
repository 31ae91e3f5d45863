"""Reordering, delay and duplication alone are no sign of a lying relay: no finding."""

from __future__ import annotations

import asyncio
from pathlib import Path

from client.core.verify import VerifiedEvent
from client.space import Space
from tests.adversarial.proxy import AdversarialProxy
from tests.adversarial.story import codes, event_ids, journal, partners, sync, write
from tests.adversarial.tampers import Shuffle

WAIT_S = 10.0


async def test_shuffled_delayed_and_repeated_delivery_produces_no_finding(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    proxy.tamper = Shuffle(proxy)
    await write(alex, "a1", "a2", "a3")
    await write(blake, "b1", "b2")
    await sync(alex, blake)
    # Alex stays connected while Blake writes: live events arrive late and out of order.
    caught_up = asyncio.Event()

    def on_event(_: VerifiedEvent) -> None:
        if event_ids(blake) <= event_ids(alex):
            caught_up.set()

    watching = asyncio.create_task(alex.sync(watch=True, on_event=on_event))
    try:
        for n in range(3, 7):
            await write(blake, f"b{n}")
            await sync(blake)
        async with asyncio.timeout(WAIT_S):
            await caught_up.wait()
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    await write(alex, "a4")
    await sync(alex, blake, alex)

    assert codes(alex) == []
    assert codes(blake) == []
    assert journal(alex) == journal(blake)
    assert len(journal(alex)) == 10
