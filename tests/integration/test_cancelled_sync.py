"""A sync stopped half-way through a page (the app locking, a pairing screen taking
the connection over, Ctrl-C) leaves nothing behind: the next session of the same
running app stores every event the stopped one had admitted only in memory, and an own
write in between continues what the disk holds (docs/PROTOCOL.md §9.13)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from client.space import Space, admitting, syncing
from schemas.payloads import JournalEntry
from tests.integration.pairing import PASSPHRASE, pair
from tests.integration.relay_process import RelayProcess

ENTRIES = 100
STOP_AT_PART = 7
"""Pages of 40 in parts of 10: the 7th part is in the second page, after one whole page
and two parts of the next were admitted."""


async def test_a_sync_cancelled_mid_page_loses_nothing_and_the_next_one_stores_it_all(
    tmp_path: Path, relay: RelayProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(syncing, "PULL_LIMIT", 40)
    monkeypatch.setattr(syncing, "WORKER_PAGE", 10_000)  # threads: the part to stop at
    monkeypatch.setattr(admitting, "PIPELINE_PART", 10)
    check_part = admitting.check_part
    calls = 0
    stuck = asyncio.Event()

    def stopping(items: list[tuple[bytes, int | None]]) -> asyncio.Future[set[bytes]]:
        nonlocal calls
        calls += 1
        if calls == STOP_AT_PART:
            stuck.set()
            return asyncio.get_running_loop().create_future()  # never answered
        return check_part(items)

    monkeypatch.setattr(admitting, "check_part", stopping)
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        for n in range(ENTRIES):
            await alex.append(JournalEntry(text=f"Entry {n}."))
        await alex.sync()
        stopped = asyncio.create_task(blake.sync())
        await asyncio.wait_for(stuck.wait(), 30)
        stopped.cancel()
        await asyncio.wait([stopped])
        monkeypatch.setattr(admitting, "check_part", check_part)

        await blake.append(JournalEntry(text="Written between the two syncs."))
        await blake.sync()
        await alex.sync()

        expected = {f"Entry {n}." for n in range(ENTRIES)} | {"Written between the two syncs."}
        assert expected <= {item.text for item in blake.journal()}
        assert expected <= {item.text for item in alex.journal()}
        assert (await blake.audit()).clean
        assert (await alex.audit()).clean
    # What Blake's device holds opens again, whole.
    reopened = await Space.open(tmp_path / "blake", passphrase=PASSPHRASE)
    async with reopened:
        assert expected <= {item.text for item in reopened.journal()}
