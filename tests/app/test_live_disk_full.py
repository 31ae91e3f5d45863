"""The app's live session on a disk that fills (docs/PROTOCOL.md §9.13): the partner's
entries arrive but cannot be stored; every page says so plainly, nothing is lost, and
once there is room again the next session fetches and stores them, in the same running
app (no lock, no restart). SQLite's own "database or disk is full"; a real relay."""

from __future__ import annotations

from pathlib import Path

from schemas.payloads import JournalEntry
from tests.app.screens_helpers import arrives, two_partners
from tests.integration.relay_process import RelayProcess
from tests.integration.test_write_failures import fill_the_disk, free_the_disk

ENTRIES = 12


async def test_entries_that_arrive_on_a_full_disk_are_stored_once_there_is_room(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        await fill_the_disk(alex.space)
        for n in range(ENTRIES):
            await blake.space.append(JournalEntry(text=f"Entry {n}: " + "a long walk. " * 40))
        await arrives(lambda: alex.state.sync_problem is not None, timeout_s=30.0)
        today = await alex.get("/today")
        assert "Could not save everything on this device: the disk is full." in today
        assert "Nothing was lost; it will be fetched again." in today
        assert len(alex.space.journal()) < ENTRIES

        await free_the_disk(alex.space)
        await arrives(lambda: len(alex.space.journal()) == ENTRIES, timeout_s=60.0)
        await arrives(lambda: alex.state.sync_problem is None, timeout_s=60.0)
        assert (await alex.space.audit()).clean
