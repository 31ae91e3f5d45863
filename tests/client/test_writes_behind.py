"""A page's admission is written behind the caller (LocalStore.record_admissions_behind,
client/space/syncing.py): a new device admits the next page while the disk works on this
one. Whatever is written next on the connection waits for it, so the stored order is
the order admission asked for, and a failed write is raised to the next writer and never
followed by the writes that depend on it (docs/PROTOCOL.md §9.4)."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import pytest

from client.keys import signatures
from client.space import Space, SyncReport
from client.store.integrity_store import IntegrityStore, RelayTracker
from client.store.localstore import Admission, HeldRow, LocalStore, NewEvent, RejectedRow
from tests.integration.cli import PASSPHRASE
from tests.integration.offline_home import make_home
from tests.integration.test_pipelined_admission import _page


def _event(n: int) -> NewEvent:
    return NewEvent(
        event_id=n.to_bytes(32, "big"),
        author=b"\x01" * 32,
        author_seq=n,
        envelope=os.urandom(64),
        relay_seq=n,
    )


def _admission(*seqs: int) -> Admission:
    return Admission(held=[], rejected=[], events=[_event(n) for n in seqs])


async def _seqs(store: LocalStore) -> list[int]:
    return [int.from_bytes(e.event_id, "big") for e in await store.load_events()]


async def test_what_is_written_next_lands_after_the_write_behind(tmp_path: Path) -> None:
    store = await LocalStore.open(tmp_path / "home" / "trellis.db")
    kept: list[str] = []
    try:
        store.record_admissions_behind(
            [_admission(1, 2), _admission(3)], lambda: kept.append("1-3")
        )
        store.record_admissions_behind([_admission(4, 5)], lambda: kept.append("4-5"))
        # This device's own event, written at once: it depends on what was received.
        await store.add_events([_event(6)], outbox=True)
        assert kept == ["1-3", "4-5"], "each write behind is on disk before the next write"
        assert await _seqs(store) == [1, 2, 3, 4, 5, 6]
    finally:
        await store.close()


async def test_the_cursor_is_never_saved_before_the_events_it_covers(tmp_path: Path) -> None:
    store = await LocalStore.open(tmp_path / "home" / "trellis.db")
    try:
        record = IntegrityStore(store.db)
        view, _ = await record.load_view()
        store.record_admissions_behind([_admission(1, 2, 3)], lambda: None)
        await record.save(view, cursor=3, resolved=[])
        assert await _seqs(store) == [1, 2, 3]
        assert await store.get("cursor") == b"3"
    finally:
        await store.close()


async def test_a_failed_write_behind_is_raised_and_what_follows_it_is_not_written(
    tmp_path: Path,
) -> None:
    store = await LocalStore.open(tmp_path / "home" / "trellis.db")
    kept: list[int] = []
    try:
        # A real SQLite failure on the fourth event (a full disk would look the same).
        await store.db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.author_seq = 4 "
            "BEGIN SELECT RAISE(ABORT, 'the disk said no'); END"
        )
        store.record_admissions_behind([_admission(1, 2)], lambda: kept.append(1))
        store.record_admissions_behind([_admission(3, 4)], lambda: kept.append(3))
        store.record_admissions_behind([_admission(5)], lambda: kept.append(5))
        with pytest.raises(sqlite3.IntegrityError):
            await store.put({"cursor": b"5"})
        assert kept == [1], "only the write that landed is kept in memory"
        assert await _seqs(store) == [1, 2], "nothing after the failed write was written"
        assert await store.get("cursor") is None, "the cursor never passed the failure"
        # Raised once: the connection is usable again.
        await store.put({"cursor": b"2"})
        assert await store.get("cursor") == b"2"
    finally:
        await store.close()


async def test_closing_waits_for_the_write_behind(tmp_path: Path) -> None:
    path = tmp_path / "home" / "trellis.db"
    store = await LocalStore.open(path)
    store.record_admissions_behind([_admission(1, 2, 3)], lambda: None)
    await store.close()
    store = await LocalStore.open(path)
    try:
        assert await _seqs(store) == [1, 2, 3]
    finally:
        await store.close()


async def test_a_page_is_one_transaction_applied_in_order(tmp_path: Path) -> None:
    store = await LocalStore.open(tmp_path / "home" / "trellis.db")
    statements: list[str] = []
    try:
        waiting = _event(7)
        await store.db.set_trace_callback(statements.append)
        await store.record_admissions(
            [
                Admission(
                    held=[HeldRow(waiting.event_id, waiting.envelope, 7, "1 earlier event(s)")],
                    rejected=[RejectedRow(None, b"\x00", "bad_envelope", "not msgpack", 8)],
                    events=[_event(1)],
                ),
                # The next part releases the held event: it is stored, no longer pending.
                Admission(held=[], rejected=[], events=[_event(2), waiting]),
            ]
        )
        assert [s for s in list(statements) if s in ("BEGIN IMMEDIATE", "COMMIT")] == [
            "BEGIN IMMEDIATE",
            "COMMIT",
        ]
        assert await _seqs(store) == [1, 2, 7]
        assert await store.pending_count() == 0
        assert [code for _, code, _ in await store.rejected()] == ["bad_envelope"]
    finally:
        await store.close()


async def test_the_relay_record_and_cursor_are_written_behind_their_page(tmp_path: Path) -> None:
    store = await LocalStore.open(tmp_path / "home" / "trellis.db")
    try:
        tracker = RelayTracker(store.db)
        await tracker.load()
        tracker.begin_session([], read_from=0)
        for n in (1, 2, 3):
            event = _event(n)
            tracker.served(n, event.envelope, event.event_id, valid=True)
        store.record_admissions_behind([_admission(1, 2, 3)], lambda: None)
        tracker.save_behind(3)
        assert await store.get("cursor") is None, "not written yet: behind the caller"
        await store.settle()
        assert await store.get("cursor") == b"3"
        assert await _seqs(store) == [1, 2, 3]
        view, _ = await tracker.store.load_view()
        assert sorted(view.slots) == [1, 2, 3]
    finally:
        await store.close()


async def test_a_cursor_behind_a_failed_page_is_not_saved_and_its_record_is_kept(
    tmp_path: Path,
) -> None:
    store = await LocalStore.open(tmp_path / "home" / "trellis.db")
    try:
        await store.db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.author_seq = 2 "
            "BEGIN SELECT RAISE(ABORT, 'the disk said no'); END"
        )
        tracker = RelayTracker(store.db)
        await tracker.load()
        tracker.begin_session([], read_from=0)
        for n in (1, 2):
            event = _event(n)
            tracker.served(n, event.envelope, event.event_id, valid=True)
        store.record_admissions_behind([_admission(1, 2)], lambda: None)
        tracker.save_behind(2)
        with pytest.raises(sqlite3.IntegrityError):
            await store.settle()
        assert await store.get("cursor") is None
        assert sorted(tracker.view.dirty) == [1, 2], "the record is kept to be written"
    finally:
        await store.close()


async def test_a_large_page_is_admitted_with_a_quick_gil_handoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a page is admitted in parts, the signature checks beside it run with a short
    switch interval (signatures.quick_gil_handoff); before and after, the process's own."""
    served, blake = _page()
    home = tmp_path / "home"
    await make_home(home, blake)
    space = await Space.open(home, passphrase=PASSPHRASE)
    seen: list[float] = []
    check = signatures.valid_signatures

    def recording(envelopes: list[bytes]) -> set[bytes]:
        seen.append(sys.getswitchinterval())
        return check(envelopes)

    monkeypatch.setattr(signatures, "valid_signatures", recording)
    before = sys.getswitchinterval()
    try:
        await space._receive([(data, n) for n, data in enumerate(served, 1)], SyncReport())
    finally:
        await space.close()
    assert len(seen) == 3
    # The first part's check starts before the admission does; the others beside it.
    assert max(seen[1:]) == pytest.approx(signatures.HANDOFF_SWITCH_INTERVAL_S)
    assert sys.getswitchinterval() == before


def test_the_handoff_is_counted_and_never_raises_the_interval() -> None:
    before = sys.getswitchinterval()
    with signatures.quick_gil_handoff():
        with signatures.quick_gil_handoff():
            assert sys.getswitchinterval() == pytest.approx(signatures.HANDOFF_SWITCH_INTERVAL_S)
        assert sys.getswitchinterval() == pytest.approx(signatures.HANDOFF_SWITCH_INTERVAL_S)
    assert sys.getswitchinterval() == before
    sys.setswitchinterval(0.00005)
    try:
        with signatures.quick_gil_handoff():
            assert sys.getswitchinterval() == pytest.approx(0.00005, abs=2e-6)
    finally:
        sys.setswitchinterval(before)
