"""Moving a space to another relay: the new relay learns the space and its devices from
the partners, both partners re-seed it, and they converge there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.space import Space
from tests.adversarial.story import codes, event_ids, journal, partners, sync, write
from tests.integration.cli import pair_homes, run
from tests.integration.relay_process import RelayProcess


@pytest.fixture
def new_relay(tmp_path: Path) -> Iterator[RelayProcess]:
    process = RelayProcess(tmp_path / "new-relay.db").start()
    try:
        yield process
    finally:
        process.stop()


async def test_both_partners_move_to_a_new_relay_and_converge_there_with_nothing_lost(
    tmp_path: Path, relay: RelayProcess, new_relay: RelayProcess, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, relay.url, opened)
    await write(alex, "From the old relay.")
    await sync(alex, blake)
    await write(blake, "Blake wrote this before moving, and synced it.")
    await sync(blake)
    await write(blake, "Blake wrote this offline.")
    everything = event_ids(blake)

    # Blake moves first: the new relay knows only the space's creator, Alex's device.
    first = await blake.move_relay(new_relay.url)
    assert first.waiting
    assert blake.endpoint.url == new_relay.url

    moved = await alex.move_relay(new_relay.url)
    assert not moved.waiting
    assert moved.registered == [blake.device_id]
    assert moved.reseed is not None
    assert not moved.reseed.refusals
    relay.stop()  # the old relay is gone for good

    again = await blake.move_relay(new_relay.url)  # now registered: it re-seeds its copy
    assert again.reseed is not None
    assert not again.reseed.refusals
    await write(alex, "Hello from the new relay.")
    await sync(alex, blake)

    assert event_ids(alex) == event_ids(blake) >= everything
    assert journal(alex) == journal(blake)
    assert "Blake wrote this offline." in journal(alex)
    assert codes(alex) == codes(blake) == []


def test_trellis_relay_set_moves_a_space_and_the_partner_who_moved_first_finishes_on_sync(
    tmp_path: Path, relay: RelayProcess, new_relay: RelayProcess
) -> None:
    alex, blake = pair_homes(tmp_path, relay.url)
    run(blake, "journal", "add", "Only Blake's device has this yet.")
    run(blake, "sync")

    waiting = run(blake, "relay", "set", new_relay.url).stdout
    assert "does not know this device yet" in waiting
    moved = run(alex, "relay", "set", new_relay.url).stdout
    assert "Registered 1 other device(s)" in moved
    relay.stop()
    run(blake, "sync")  # finishes Blake's move: its copy goes to the new relay
    run(alex, "sync")

    listed = json.loads(run(alex, "journal", "list", "--json").stdout)
    assert [item["text"] for item in listed] == ["Only Blake's device has this yet."]
    for home in (alex, blake):
        status = json.loads(run(home, "status", "--json").stdout)
        assert status["relay"] == new_relay.url
        assert status["integrity"] == "ok"
