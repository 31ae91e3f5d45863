"""The fold pauses Python's cycle collector while it builds (client/views/fold.py,
``no_cycle_collection``): folding a long history made a collection every few hundred
allocations, each walking everything tracked, for objects that never form cycles."""

from __future__ import annotations

import gc
from typing import Any

from client.views.fold import causal_order, fold_journal, no_cycle_collection
from tests.client.builders import admit_until_settled, entry, new_verifier, paired


def test_folding_a_long_journal_runs_no_collection_and_gives_the_entries() -> None:
    pair = paired()
    entries = [entry(pair.alex, f"Entry {n}.") for n in range(1200)]
    verifier = new_verifier()
    accepted = admit_until_settled(verifier, [e.data for e in [*pair.membership, *entries]])
    events = [o.event for o in accepted if o.event is not None]
    collections: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(count)
    try:
        items = fold_journal(causal_order(events), verifier.membership)
    finally:
        gc.callbacks.remove(count)
    assert [item.text for item in items] == [f"Entry {n}." for n in range(1200)]
    # Thousands of allocations (a collection every 700 before): at most the one young
    # collection each of the sort and the fold owes once the collector is back on.
    assert len(collections) <= 2
    assert set(collections) <= {0}
    assert gc.isenabled()


def test_the_collector_is_turned_back_on_only_if_it_was_on() -> None:
    assert gc.isenabled()
    with no_cycle_collection():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with no_cycle_collection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
