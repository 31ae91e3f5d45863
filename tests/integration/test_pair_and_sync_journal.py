"""Two partners pair through a real relay and share a journal (issue 2)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from client.core.verify import VerifiedEvent
from client.space import Space
from schemas.payloads import JournalEntry
from tests.integration.pairing import PASSPHRASE, pair
from tests.integration.relay_process import RelayProcess

LIVE_S = 30.0
"""A bound on a live event crossing two processes on a loaded test machine."""


async def _outbox_drained(space: Space) -> None:
    """Return once nothing waits in ``space``'s outbox; fail after LIVE_S."""
    for _ in range(int(LIVE_S / 0.01)):
        if not await space.outbox_size():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox still holds an entry the relay received")


def texts(space: Space) -> list[str]:
    return [item.text for item in space.journal()]


async def test_paired_partners_see_the_same_members_and_safety_number(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        assert sorted(m.name for m in alex.members()) == ["Alex", "Blake"]
        assert sorted(m.name for m in blake.members()) == ["Alex", "Blake"]
        assert alex.safety_number() == blake.safety_number()
        assert alex.space_id == blake.space_id


async def test_entries_written_offline_on_both_sides_meet_after_sync(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        await alex.append(JournalEntry(text="Alex, offline one"))
        await alex.append(JournalEntry(text="Alex, offline two", mood=3, tags=["walk"]))
        await blake.append(JournalEntry(text="Blake, offline"))
        assert texts(alex) == ["Alex, offline one", "Alex, offline two"]

        await alex.sync()
        await blake.sync()
        await alex.sync()

        assert sorted(texts(alex)) == sorted(texts(blake))
        assert set(texts(alex)) == {"Alex, offline one", "Alex, offline two", "Blake, offline"}
        assert [i.id for i in alex.journal()] == [i.id for i in blake.journal()]
        status = await alex.status()
        assert status.outbox == 0
        assert status.rejected == 0


async def test_a_reopened_device_shows_the_same_journal(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    await blake.append(JournalEntry(text="kept across restarts"))
    await blake.sync()
    await alex.sync()
    before = [(i.id, i.text) for i in alex.journal()]
    await alex.close()
    await blake.close()

    reopened = await Space.open(tmp_path / "alex", passphrase=PASSPHRASE)
    async with reopened:
        assert [(i.id, i.text) for i in reopened.journal()] == before
        assert before[-1][1] == "kept across restarts"


async def test_a_watching_partner_receives_an_entry_live(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        arrived: asyncio.Queue[VerifiedEvent] = asyncio.Queue()
        connected = asyncio.Event()
        watcher = asyncio.create_task(
            blake.sync(watch=True, on_event=arrived.put_nowait, connected=connected)
        )
        try:
            await asyncio.wait_for(connected.wait(), LIVE_S)  # signed in and caught up
            await alex.append(JournalEntry(text="live hello"))
            await alex.sync()
            event = await asyncio.wait_for(arrived.get(), timeout=LIVE_S)
            assert isinstance(event.payload, JournalEntry)
            assert event.payload.text == "live hello"
            assert "live hello" in texts(blake)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)


async def test_an_entry_appended_while_watching_is_pushed_at_once(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        arrived: asyncio.Queue[VerifiedEvent] = asyncio.Queue()
        alex_up, blake_up = asyncio.Event(), asyncio.Event()
        alex_watch = asyncio.create_task(alex.sync(watch=True, connected=alex_up))
        blake_watch = asyncio.create_task(
            blake.sync(watch=True, on_event=arrived.put_nowait, connected=blake_up)
        )
        try:
            await asyncio.wait_for(asyncio.gather(alex_up.wait(), blake_up.wait()), LIVE_S)
            await alex.append(JournalEntry(text="sent while connected"))
            event = await asyncio.wait_for(arrived.get(), timeout=LIVE_S)
            assert isinstance(event.payload, JournalEntry)
            assert event.payload.text == "sent while connected"
            # The relay acks Alex as it sends Blake the event, so Alex may read the ack
            # a moment after Blake admitted the event: wait for it before stopping.
            await _outbox_drained(alex)
        finally:
            for task in (alex_watch, blake_watch):
                task.cancel()
            await asyncio.gather(alex_watch, blake_watch, return_exceptions=True)
        assert (await alex.status()).outbox == 0


STEPS = 14
"""Rounds of the test below, each writing one turn of the event loop later than the last."""
PUSHED_WITHIN_S = 30.0


async def test_an_entry_written_while_a_live_session_starts_is_pushed_by_it(
    tmp_path: Path, relay: RelayProcess
) -> None:
    # A session's start (reading the outbox, then becoming the connection new entries are
    # queued on) and storing a new entry take turns on one SQLite connection. An entry
    # stored between the two steps of a start was in neither: the live session never
    # pushed it, and the relay refused every later one as a gap in the chain. Each round
    # writes one turn later into a start (before the fix, 12 of 14 rounds landed in
    # between).
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        loop = asyncio.get_running_loop()
        for step in range(STEPS):
            watching = asyncio.create_task(alex.sync(watch=True))
            try:
                for _ in range(step):
                    await asyncio.sleep(0)  # let the session's start go one turn further
                await alex.append(JournalEntry(text=f"written at step {step}"))
                deadline = loop.time() + PUSHED_WITHIN_S
                while await alex.outbox_size():
                    assert loop.time() < deadline, f"the entry of step {step} was never pushed"
                    await asyncio.sleep(0.02)
            finally:
                watching.cancel()
                await asyncio.gather(watching, return_exceptions=True)
        await blake.sync()
        assert texts(blake)[-STEPS:] == [f"written at step {n}" for n in range(STEPS)]
