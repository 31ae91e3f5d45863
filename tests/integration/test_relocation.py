"""Moving to another relay, library-level (client/space/relocation.py, PROTOCOL.md §9.7).

The decision of which devices to vouch for is unit-tested in tests/client/
test_decisions.py; here the real flow runs against two real relays: a removed device is
not vouched for and its events are refused there without stopping the others, and a
move repeated (after a dropped connection, say) is harmless.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client.space import Space, devices
from schemas.payloads import JournalEntry
from tests.integration.pairing import pair
from tests.integration.relay_process import RelayProcess
from tests.integration.test_devices import add_laptop


@pytest.fixture
def new_relay(tmp_path: Path) -> Iterator[RelayProcess]:
    process = RelayProcess(tmp_path / "new-relay.db").start()
    try:
        yield process
    finally:
        process.stop()


def texts(space: Space) -> list[str]:
    return sorted(i.text for i in space.journal())


async def test_a_removed_device_is_not_vouched_for_and_its_refusal_stops_nothing_else(
    tmp_path: Path, relay: RelayProcess, new_relay: RelayProcess
) -> None:
    phone, blake = await pair(tmp_path, relay.url)
    laptop = await add_laptop(tmp_path, phone, blake)
    async with phone, blake, laptop:
        await laptop.append(JournalEntry(text="from the laptop, before it was lost"))
        await laptop.sync()
        await phone.append(JournalEntry(text="from the phone"))
        await devices.revoke(phone, laptop.device_id.hex(), reason="lost")
        await blake.sync()

        moved = await phone.move_relay(new_relay.url)

        assert moved.registered == [blake.device_id]
        assert moved.reseed is not None
        # The laptop's events (its join and its entry) are refused once, as one author;
        # the next round pushes everything else.
        [refused] = moved.reseed.refusals
        assert (refused.author, refused.first_seq, refused.code) == (
            laptop.device_id,
            1,
            "unknown_author",
        )
        assert moved.reseed.stored == moved.reseed.pushed - laptop.chain_seq(laptop.device_id)
        # Everything else reached the new relay: Blake, moving next, converges there.
        again = await blake.move_relay(new_relay.url)
        assert again.reseed is not None
        await phone.sync()
        await blake.sync()
        assert texts(phone) == texts(blake)
        assert "from the phone" in texts(blake)
        assert "from the laptop, before it was lost" in texts(blake)


async def test_moving_twice_to_the_same_relay_is_harmless(
    tmp_path: Path, relay: RelayProcess, new_relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        await alex.append(JournalEntry(text="before the move"))
        await alex.sync()
        first = await alex.move_relay(new_relay.url)
        second = await alex.move_relay(new_relay.url)

        assert first.registered == second.registered == [blake.device_id]
        assert second.reseed is not None
        assert not second.reseed.refusals
        assert second.reseed.stored == second.reseed.pushed
        await blake.move_relay(new_relay.url)
        await alex.append(JournalEntry(text="after the move"))
        await alex.sync()
        await blake.sync()
        assert texts(blake) == ["after the move", "before the move"]
