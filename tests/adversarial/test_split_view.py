"""A relay that shows the two partners different histories. The partner kept in the
dark cannot tell (its history is whole and numbered without gaps); the other partner
sees it in the frontier of the first's events, and the warning clears once the relay
stops."""

from __future__ import annotations

import asyncio
from pathlib import Path

from client.space import Space
from tests.adversarial.proxy import AdversarialProxy
from tests.adversarial.story import (
    codes,
    event_ids,
    finding,
    head_seq,
    journal,
    partners,
    sync,
    write,
)
from tests.adversarial.tampers import SplitView


async def test_a_relay_hiding_alexs_entries_from_blake_is_caught_by_alex(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    split = SplitView()
    proxy.tamper = split
    alex, blake = await partners(tmp_path, proxy.url, opened)
    shown_until = head_seq(alex)
    split.start(
        victim=blake.device_id,
        hide=lambda env: env.author == alex.device_id and env.seq > shown_until,
    )
    await write(alex, "I need us to talk about Friday.")
    await sync(alex)
    await write(blake, "Quiet evening.")
    await sync(blake, alex)  # Alex sees Blake's entry arrive at the relay after its own
    await asyncio.sleep(0.01)
    await write(blake, "Still quiet.")
    await sync(blake, alex)

    split_view = finding(alex, "split_view")
    assert split_view.severity.value == "warning"
    assert "Blake" in split_view.message
    hidden = [e for e in alex.events() if e.author == alex.device_id][-1]
    assert hidden.event_id.hex() in split_view.events
    assert codes(blake) == []  # Blake's history looks whole
    assert "I need us to talk about Friday." not in journal(blake)

    split.stop()
    await sync(blake)  # the relay's numbering changed under Blake: read again
    assert "I need us to talk about Friday." in journal(blake)
    assert codes(blake) == []
    await write(blake, "Yes, let's talk.")
    await sync(blake, alex)

    assert codes(alex) == []
    assert event_ids(alex) == event_ids(blake)
