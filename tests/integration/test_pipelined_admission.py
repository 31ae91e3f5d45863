"""A large page is admitted in parts while the next part's signatures are checked
(client/space/admitting.py, ``PIPELINE_PART``): catch-up keeps both cores busy, and what
is admitted, held and rejected is exactly what admitting the page whole gives."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from client.keys import signatures
from client.space import Space, SyncReport, admitting
from tests.client.builders import Built, Writer, entry, paired
from tests.integration.cli import PASSPHRASE
from tests.integration.offline_home import make_home


def _page() -> tuple[list[bytes], Writer]:
    """Alex's history, 250 entries served out of order, with one forged envelope."""
    pair = paired()
    entries = [entry(pair.alex, f"Entry {n}.") for n in range(250)]
    history: list[Built] = [*pair.membership, *entries]
    served = history[:3] + random.Random(7).sample(history[3:], len(history) - 3)
    data = [built.data for built in served]
    forged_at = served.index(entries[120])
    forged = bytearray(data[forged_at])
    forged[-1] ^= 1  # in the signature
    data[forged_at] = bytes(forged)
    return data, pair.blake


async def _admit(
    home: Path, served: list[bytes], blake: Writer, part: int
) -> tuple[int, int, list[str]]:
    await make_home(home, blake)
    space = await Space.open(home, passphrase=PASSPHRASE)
    report = SyncReport()
    try:
        admitting.PIPELINE_PART = part
        await space._receive([(data, n) for n, data in enumerate(served, 1)], report)
        texts = sorted(item.text for item in space.journal())
    finally:
        await space.close()
    return report.received, report.rejected, texts


async def test_admitting_a_page_in_parts_gives_what_admitting_it_whole_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served, blake = _page()
    checked: list[int] = []
    check = signatures.valid_signatures

    def counting(envelopes: list[bytes]) -> set[bytes]:
        checked.append(len(envelopes))
        return check(envelopes)

    monkeypatch.setattr(signatures, "valid_signatures", counting)
    monkeypatch.setattr(admitting, "PIPELINE_PART", admitting.PIPELINE_PART)
    whole = await _admit(tmp_path / "whole", served, blake, part=10_000)
    assert checked == [len(served)]
    checked.clear()
    in_parts = await _admit(tmp_path / "parts", served, blake, part=100)
    assert checked == [100, 100, 53], "each part's signatures are checked on their own"
    assert in_parts == whole
    received, rejected, texts = in_parts
    # Everything but the forged entry and the entries after it in Alex's chain waits
    # or passes exactly as before: the chain stops at the forged one.
    assert rejected == 1
    assert received == 3 + 120
    assert texts == sorted(f"Entry {n}." for n in range(120))


async def test_a_page_admitted_in_parts_is_written_in_one_commit(tmp_path: Path) -> None:
    """Every commit waits for the disk (synchronous=FULL): a page's parts, the envelopes
    it holds back and the one it refuses are written together (LocalStore.record_admissions)."""
    served, blake = _page()
    home = tmp_path / "home"
    await make_home(home, blake)
    space = await Space.open(home, passphrase=PASSPHRASE)
    statements: list[str] = []
    try:
        await space._state.store.db.set_trace_callback(statements.append)
        report = SyncReport()
        await space._receive([(data, n) for n, data in enumerate(served, 1)], report)
        commits = [s for s in list(statements) if s == "COMMIT"]
        assert report.rejected == 1
        assert report.received == 3 + 120
        assert len(commits) == 1
        assert await space._state.store.event_count() == len(space.events())
    finally:
        await space.close()
