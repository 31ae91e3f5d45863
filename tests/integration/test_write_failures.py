"""A write that fails on this device's disk (docs/PROTOCOL.md §9.13): what is in memory
goes back to what is on disk, the person reads why in plain words, and the next sync of
the same process fetches and stores what could not be stored. Real relay, real SQLite
files; the failures are SQLite's own (a database that may not grow, as on a full disk,
and a trigger that refuses a row, as an I/O error would)."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from client.errors import ClientErrorCode, LocalWriteError
from client.space import Space, SyncReport
from client.store.writes import write_lock
from schemas.payloads import JournalEntry
from tests.integration.pairing import PASSPHRASE, pair
from tests.integration.relay_process import RelayProcess

ENTRIES = 40


def _db(space: Space) -> aiosqlite.Connection:
    return space._state.store.db  # the store edge: the failure is injected in SQLite itself


async def fill_the_disk(space: Space) -> None:
    """SQLite's own "database or disk is full": the file may not grow past its size.
    Between the store's own transactions (its write lock), as a disk fills between two
    writes: an app's live session may be writing at that moment."""
    db = _db(space)
    async with write_lock(db):
        await db.execute("VACUUM")  # no free pages left to reuse
        await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # Its size after VACUUM (which may shrink it): no room left to grow into.
        async with db.execute("PRAGMA page_count") as cur:
            row = await cur.fetchone()
        assert row is not None
        await db.execute(f"PRAGMA max_page_count = {int(row[0])}")


async def free_the_disk(space: Space) -> None:
    db = _db(space)
    async with write_lock(db, settle=False):
        await db.execute("PRAGMA max_page_count = 1073741823")


async def _stored(space: Space) -> int:
    return await space._state.store.event_count()


async def _write_entries(alex: Space, n: int) -> None:
    for i in range(n):
        await alex.append(JournalEntry(text=f"Entry {i}: " + "a calm day, mostly. " * 12))
    await alex.sync()


async def _until_full(space: Space) -> None:
    for _ in range(ENTRIES):  # the free room of the file's last page runs out
        await space.append(JournalEntry(text="Still here. " * 40))


async def test_a_sync_that_cannot_store_is_fetched_again_by_the_next_sync(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    try:
        await _write_entries(alex, ENTRIES)
        before = await _stored(blake)
        await fill_the_disk(blake)
        with pytest.raises(LocalWriteError) as failed:
            await blake.sync()
        assert failed.value.code == ClientErrorCode.LOCAL_WRITE_FAILED
        assert failed.value.message == (
            "Could not save everything on this device: the disk is full. Nothing was lost; "
            "it will be fetched again."
        )
        assert await _stored(blake) == before, "the page did not reach the disk"
        assert blake.event_count == before, "memory went back to what is on disk"

        await free_the_disk(blake)
        report = await blake.sync()  # the same process, the same open space
        assert report.received == ENTRIES
        assert await _stored(blake) == await _stored(alex)
        assert len(blake.journal()) == ENTRIES
        assert (await blake.audit()).clean
    finally:
        await alex.close()
        await blake.close()


async def test_a_refused_row_in_a_page_written_behind_is_fetched_again(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    try:
        await _write_entries(alex, ENTRIES)
        seq = alex.chain_seq(alex.device_id) - 5
        await _db(blake).execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.author_seq = "
            f"{seq} BEGIN SELECT RAISE(ABORT, 'the disk said no'); END"
        )
        with pytest.raises(LocalWriteError, match=r"^Could not save everything on this device"):
            await blake.sync()
        await _db(blake).execute("DROP TRIGGER refuse")
        await blake.sync()
        assert await _stored(blake) == await _stored(alex)
        assert len(blake.journal()) == ENTRIES
        assert (await blake.audit()).clean
    finally:
        await alex.close()
        await blake.close()


async def test_an_own_write_on_a_full_disk_is_not_saved_and_the_chain_goes_on(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    try:
        await fill_the_disk(blake)
        with pytest.raises(LocalWriteError) as failed:
            await _until_full(blake)
        assert failed.value.message == (
            "Could not save this on this device: the disk is full. Nothing was saved; "
            "try again once there is room."
        )
        await free_the_disk(blake)
        await blake.append(JournalEntry(text="After the disk was freed."))
        report = await blake.sync()
        assert report.refused == [], "the chain the relay holds goes on without a gap"
        assert await blake.outbox_size() == 0
        await alex.sync()
        assert len(alex.journal()) == len(blake.journal())
        assert (await alex.audit()).clean
        assert (await blake.audit()).clean
    finally:
        await alex.close()
        await blake.close()


async def test_an_own_write_after_a_failed_page_continues_the_disk_and_the_home_opens(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """The page's events were admitted in memory, then refused by the disk: an own event
    sealed against that memory would name them as seen and, stored, depend on events
    this device does not hold (the home would not open again, "does not check out").
    So the write first takes memory back to the disk and seals against that."""
    alex, blake = await pair(tmp_path, relay.url)
    try:
        await _write_entries(alex, 5)
        served = await alex.stored_envelopes()
        await _db(blake).execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.author_seq = "
            f"{alex.chain_seq(alex.device_id)} BEGIN SELECT RAISE(ABORT, 'no'); END"
        )
        with pytest.raises(aiosqlite.Error):
            await blake._receive([(data, None) for data in served], SyncReport())
        written = await blake.append(JournalEntry(text="Written while the disk said no."))
        assert set(written.body.deps) <= {e.event_id for e in blake.events()}
        await blake.close()
        blake = await Space.open(tmp_path / "blake", passphrase=PASSPHRASE)
        await _db(blake).execute("DROP TRIGGER refuse")
        await blake.append(JournalEntry(text="Written once the disk was fine."))
        assert (await blake.sync()).refused == []
        await alex.sync()
        assert len(alex.journal()) == len(blake.journal()) == 7
        assert (await blake.audit()).clean
    finally:
        await alex.close()
        await blake.close()


async def test_two_windows_on_one_home_never_leave_a_gap_in_the_chain(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """Two writers of one home (two app windows, or the app and a command) write as the
    same device: the second takes what the first stored before it seals (the home lock,
    client/store/home_lock.py, THREAT_MODEL §22.1), so its event continues the chain
    after the first one's instead of taking its place or leaving a gap."""
    alex, blake = await pair(tmp_path, relay.url)
    other = await Space.open(tmp_path / "blake", passphrase=PASSPHRASE)
    try:
        await blake.append(JournalEntry(text="From the first window."))
        await other.append(JournalEntry(text="From the second window."))
        assert (await other.sync()).refused == []
        await alex.sync()
        assert [i.text for i in alex.journal()] == [
            "From the first window.",
            "From the second window.",
        ]
        assert (await alex.audit()).clean
    finally:
        await other.close()
        await alex.close()
        await blake.close()
