"""Nothing acknowledged is lost, nothing is stored twice, and the relay holds no
plaintext (issue 2)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from client.core.session import Acknowledged, SessionEvent, SyncSession
from client.errors import RelayUnreachable
from client.store.transport import SyncConnection
from schemas.payloads import JournalEntry
from tests.integration.pairing import pair
from tests.integration.relay_process import RelayProcess


def relay_event_count(relay: RelayProcess, space_id: bytes) -> int:
    """Events the relay stores in one space (the module's relay holds other tests' too)."""
    with sqlite3.connect(relay.db) as db:
        query = (
            "SELECT count(*) FROM events WHERE space = (SELECT id FROM spaces WHERE space_id = ?)"
        )
        return int(db.execute(query, (space_id,)).fetchone()[0])


async def test_a_retried_push_after_a_lost_ack_is_stored_once_with_its_original_seq(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        event = await alex.append(JournalEntry(text="only once, please"))
        before = relay_event_count(relay, alex.space_id)

        # Push it, let the relay commit and ack, but drop the ack on the floor, as a
        # connection that broke just before the ack arrived would.
        lost: list[int] = []
        session = SyncSession(
            space_id=alex.space_id,
            device_id=alex.device_id,
            host=alex.endpoint.host,
            sign=alex.device.sign,
            cursor=0,
            outbox=[event.canonical],
        )

        async def drop_acks(ev: SessionEvent) -> None:
            if isinstance(ev, Acknowledged):
                lost.extend(a.seq for a in ev.acks)

        await SyncConnection(alex.endpoint, session).run(drop_acks, until_up_to_date=True)
        assert (await alex.status()).outbox == 1, "the client never saw the ack"

        report = await alex.sync()
        assert report.acknowledged == 1
        assert relay_event_count(relay, alex.space_id) == before + 1
        await blake.sync()
        assert [i.text for i in blake.journal()].count("only once, please") == 1
        assert lost
        assert (await alex.status()).outbox == 0
        with sqlite3.connect(alex.home / "trellis.db") as db:
            seq = db.execute(
                "SELECT relay_seq FROM events WHERE event_id = ?", (event.event_id,)
            ).fetchone()[0]
        assert seq == lost[0], "the retry is acknowledged with the original sequence number"


async def test_acknowledged_entries_survive_a_relay_crash(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        for n in range(20):
            await alex.append(JournalEntry(text=f"entry {n}"))
        await alex.sync()
        assert (await alex.status()).outbox == 0

        relay.kill()
        relay.start()

        await blake.sync()
        assert [i.text for i in blake.journal()] == [f"entry {n}" for n in range(20)]


async def test_a_relay_killed_mid_sync_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        total = 1500
        for n in range(total):
            await alex.append(JournalEntry(text=f"batch entry {n}"))
        sync = asyncio.create_task(alex.sync())
        # Kill as soon as some, but not all, pushes were acknowledged.
        for _ in range(400):
            await asyncio.sleep(0.01)
            if (await alex.status()).outbox < total:
                break
        relay.kill()
        # Usually the sync is cut off mid-way; on a very fast run it may have finished.
        with contextlib.suppress(RelayUnreachable):
            await sync
        relay.start()

        await alex.sync()
        await blake.sync()
        texts = [i.text for i in blake.journal()]
        assert len(texts) == total
        assert len(set(texts)) == total
        assert relay_event_count(relay, alex.space_id) == total + 3  # genesis, invite, join


async def test_the_relay_files_hold_no_plaintext_of_entries_or_names(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    secrets = ["my very private sentence", "another confession 12345", "Alex", "Blake"]
    async with alex, blake:
        await alex.append(JournalEntry(text=secrets[0], tags=["secret-tag"]))
        await blake.append(JournalEntry(text=secrets[1]))
        await alex.sync()
        await blake.sync()
        await alex.sync()
        assert {secrets[0], secrets[1]} <= {i.text for i in blake.journal()}
    relay.stop()
    blobs = b"".join(p.read_bytes() for p in relay.files())
    assert blobs, "the relay wrote files"
    for secret in [*secrets, "secret-tag"]:
        assert secret.encode() not in blobs, f"{secret!r} leaked into the relay's files"


async def test_a_sync_asked_to_retry_finishes_on_its_own_once_the_relay_is_back(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        await alex.append(JournalEntry(text="written while the relay was down"))
        relay.stop()
        sync = asyncio.create_task(alex.sync(retry_for_s=30))
        await asyncio.sleep(1.0)
        assert not sync.done(), "the sync keeps trying while the relay is away"
        relay.start()
        report = await asyncio.wait_for(sync, timeout=30)
        assert report.acknowledged == 1
        await blake.sync()
        assert "written while the relay was down" in [i.text for i in blake.journal()]


async def test_a_sync_without_retry_gives_up_at_once_when_the_relay_is_away(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        relay.stop()
        with pytest.raises(RelayUnreachable):
            await alex.sync()
