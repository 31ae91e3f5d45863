"""A relay that shows the two partners different histories. The partner kept in the
dark cannot tell (its history is whole and numbered without gaps); the other partner
sees it in the frontier of the first's events, and the warning clears once the relay
stops."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from client.space import Space
from tests.adversarial.proxy import AdversarialProxy, Tamper
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
from tests.adversarial.tampers import SplitView, Substitute, by
from tests.integration.pairing import PASSPHRASE


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


async def test_a_relay_showing_blake_a_copied_devices_version_of_alexs_history_is_proof_on_both(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    opened.remove(alex)
    await alex.close()  # someone copies Alex's device, keys and all
    shutil.copytree(tmp_path / "alex", tmp_path / "alex-copy")
    alex = await Space.open(tmp_path / "alex", passphrase=PASSPHRASE)
    opened.append(alex)
    copy = await Space.open(tmp_path / "alex-copy", passphrase=PASSPHRASE)
    opened.append(copy)
    seq = head_seq(alex) + 1
    await write(alex, "What Alex wrote.")
    await write(copy, "What the copy wrote instead.")
    fork = copy.events()[-1]
    # The relay shows Blake the copy's version in the place of Alex's real entry.
    proxy.tamper = Substitute(
        by(alex.device_id, seqs={seq}), fork.canonical, victim=blake.device_id
    )
    await sync(alex, blake)
    assert "What the copy wrote instead." in journal(blake)
    await write(blake, "Replying to what I was shown.", "And more.")
    reply_seq = head_seq(blake)
    # ... and shows Alex the copy's version too, in the place of Blake's second entry.
    proxy.tamper = Substitute(
        by(blake.device_id, seqs={reply_seq}), fork.canonical, victim=alex.device_id
    )
    await sync(blake, alex)

    assert ("split_view", "proof") in codes(alex)
    assert ("equivocation", "proof") in codes(alex)
    split = next(f for f in alex.integrity() if f.code.value == "split_view")
    assert fork.event_id.hex() in split.events
    assert "What the copy wrote instead." not in journal(alex)
    assert "Replying to what I was shown." not in journal(alex)  # built on the fork

    proxy.tamper = Tamper()
    await write(alex, "Alex again.")
    await sync(alex, blake)
    assert ("equivocation", "proof") in codes(blake)  # Blake now sees Alex's real chain
