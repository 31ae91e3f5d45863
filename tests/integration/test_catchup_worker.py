"""A long catch-up through a real relay checks its signatures in a child process
(client/keys/signature_worker.py) from its second long page on, admits exactly what the
threads would, and the child ends with the sync."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from client.keys.signature_worker import SignatureWorker
from client.space import admitting, syncing
from schemas.payloads import JournalEntry
from tests.integration.pairing import pair
from tests.integration.relay_process import RelayProcess

ENTRIES = 150
PAGE = 40


async def test_a_long_catch_up_checks_signatures_in_a_child_that_ends_with_the_sync(
    tmp_path: Path, relay: RelayProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(syncing, "PULL_LIMIT", PAGE)
    monkeypatch.setattr(syncing, "WORKER_PAGE", PAGE)
    monkeypatch.setattr(admitting, "PIPELINE_PART", 10)
    workers: list[SignatureWorker] = []
    checked: list[int] = []
    start, check = SignatureWorker.start, SignatureWorker.check

    async def recorded_start() -> SignatureWorker | None:
        worker = await start()
        assert worker is not None
        workers.append(worker)
        return worker

    def counted_check(self: SignatureWorker, envelopes: list[bytes]) -> asyncio.Future[set[bytes]]:
        checked.append(len(envelopes))
        return check(self, envelopes)

    monkeypatch.setattr(SignatureWorker, "start", staticmethod(recorded_start))
    monkeypatch.setattr(SignatureWorker, "check", counted_check)

    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        for n in range(ENTRIES):
            await alex.append(JournalEntry(text=f"Entry {n}."))
        await alex.sync()
        assert not workers, "Alex's sync pushed; it read no long page"
        report = await blake.sync()
        assert report.received == ENTRIES
        assert report.rejected == 0
        texts = {item.text for item in blake.journal()}
        assert {f"Entry {n}." for n in range(ENTRIES)} <= texts
        audit = await blake.audit()
        assert audit.clean, audit

    [worker] = workers  # started by the first long page, once
    # The first page (40) was checked on threads while the child started; the rest (the
    # other 110 entries, and anything else served after them) went to it in parts of 10.
    assert sum(checked) >= ENTRIES - PAGE
    assert max(checked) == 10
    assert worker._process.returncode == 0, "the child ends when the sync ends"
