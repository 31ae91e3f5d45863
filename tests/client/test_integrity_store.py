"""The device's record of its relay in SQLite (client/store/integrity_store.py, §9.6).

Against a real LocalStore file: what a sync records survives closing the app, what the
relay lost is remembered until it is served again, and a cancelled save leaves no
transaction open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from client.core.integrity import Finding, FindingCode, Refusal, Severity
from client.core.relay_view import SightingKind
from client.store.integrity_store import MAX_CHALLENGES_KEPT, RelayTracker
from client.store.localstore import DB_FILE_NAME, LocalStore, NewEvent
from schemas.protocol import Ack
from tests.client.builders import fixed_bytes

A, B, C = (fixed_bytes(f"event {name}", 32) for name in "ABC")


class Device:
    """One device's database, opened and reopened like the app does."""

    def __init__(self, home: Path) -> None:
        self.path = home / DB_FILE_NAME
        self.store: LocalStore | None = None

    async def open(self) -> RelayTracker:
        self.store = await LocalStore.open(self.path)
        tracker = RelayTracker(self.store.db)
        await tracker.load()
        return tracker

    async def reopen(self) -> RelayTracker:
        await self.close()
        return await self.open()

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()
            self.store = None


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[Device]:
    d = Device(tmp_path / "home")
    try:
        yield d
    finally:
        await d.close()


def serve(tracker: RelayTracker, *slots: tuple[int, bytes]) -> None:
    for seq, event_id in slots:
        tracker.served(seq, b"envelope bytes", event_id, valid=True)


async def test_what_a_sync_read_survives_closing_the_app(device: Device) -> None:
    tracker = await device.open()
    tracker.begin_session([], read_from=0)
    serve(tracker, (1, A), (2, B), (3, C))
    await tracker.save(cursor=3)

    reopened = await device.reopen()

    assert [reopened.view.seq_of(e) for e in (A, B, C)] == [1, 2, 3]
    assert device.store is not None
    assert await device.store.get("cursor") == b"3"


async def test_different_content_at_a_seq_already_read_is_recorded(device: Device) -> None:
    tracker = await device.open()
    tracker.begin_session([], read_from=0)
    serve(tracker, (1, A))
    await tracker.save(cursor=1)
    tracker.begin_session([], read_from=0)
    serve(tracker, (1, B))
    await tracker.save(cursor=1)

    reopened = await device.reopen()

    kinds = [s.kind for s in await reopened.store.sightings()]
    assert kinds == [SightingKind.REWRITTEN]


async def test_an_ack_for_an_event_this_device_did_not_push_is_recorded(device: Device) -> None:
    tracker = await device.open()
    tracker.begin_session([], read_from=0)
    tracker.acked([Ack(event_id=A, seq=1)])
    await tracker.save()
    assert [s.kind for s in await tracker.store.sightings()] == [SightingKind.FOREIGN_ACK]


async def test_a_sign_in_challenge_seen_twice_is_recorded_once_reused(device: Device) -> None:
    tracker = await device.open()
    nonce = fixed_bytes("challenge", 32)
    await tracker.challenged(nonce)
    await tracker.challenged(fixed_bytes("another challenge", 32))
    await tracker.save()
    assert await tracker.store.sightings() == []

    reopened = await device.reopen()
    await reopened.challenged(nonce)
    await reopened.save()
    assert [s.kind for s in await reopened.store.sightings()] == [SightingKind.REUSED_CHALLENGE]


async def test_what_the_relay_lost_is_listed_after_a_full_read_until_served_again(
    device: Device,
) -> None:
    tracker = await device.open()
    tracker.begin_session([], read_from=0)
    serve(tracker, (1, A), (2, B))
    await tracker.save(cursor=2)

    await tracker.relay_lost_data(held=[A, B, C])  # C was never served by this relay
    assert not tracker.complete
    assert tracker.lost() == []  # not read again in full yet: nothing to claim

    tracker.begin_session([], read_from=0)
    serve(tracker, (1, A))
    await tracker.read_complete(1)
    assert tracker.lost() == [B]

    reopened = await device.reopen()
    assert reopened.complete
    assert reopened.lost() == [B]


async def test_a_new_relay_forgets_what_the_old_one_lost(device: Device) -> None:
    tracker = await device.open()
    tracker.begin_session([], read_from=0)
    serve(tracker, (1, A))
    await tracker.save(cursor=1)
    await tracker.relay_lost_data(held=[A])
    await tracker.new_relay()
    await tracker.read_complete(0)

    reopened = await device.reopen()
    assert reopened.lost() == []
    assert reopened.view.seq_of(A) is None


async def test_findings_are_kept_in_order_across_a_reopen(device: Device) -> None:
    tracker = await device.open()
    findings = [
        Finding(FindingCode.ROLLBACK, Severity.PROOF, "second", (A.hex(),)),
        Finding(FindingCode.WITHHELD_EVENTS, Severity.WARNING, "first", ()),
    ]
    await tracker.publish(findings)
    assert not tracker.changed_since_published

    reopened = await device.reopen()
    assert reopened.findings == findings


async def test_a_save_cancelled_mid_way_leaves_no_transaction_open(device: Device) -> None:
    tracker = await device.open()
    for attempt in range(20):
        tracker.begin_session([], read_from=0)
        serve(tracker, *((seq, fixed_bytes(f"{attempt} {seq}", 32)) for seq in range(1, 50)))
        task = asyncio.create_task(tracker.save(cursor=49))
        for _ in range(attempt % 4):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert device.store is not None
        assert not device.store.db.in_transaction
    # The database still takes writes.
    serve(tracker, (50, A))
    await tracker.save(cursor=50)
    reopened = await device.reopen()
    assert reopened.view.seq_of(A) == 50


async def test_slots_of_a_cancelled_save_are_written_by_the_next_one(device: Device) -> None:
    """The cursor saved later covers those seqs: the record must cover them too."""
    tracker = await device.open()
    tracker.begin_session([], read_from=0)
    serve(tracker, (1, A), (2, B))
    task = asyncio.create_task(tracker.save(cursor=2))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    serve(tracker, (3, C))
    await tracker.save(cursor=3)

    reopened = await device.reopen()
    assert [reopened.view.seq_of(e) for e in (A, B, C)] == [1, 2, 3]


async def test_what_admission_refused_is_read_back_as_it_was_stored(device: Device) -> None:
    await device.open()
    assert device.store is not None
    await device.store.add_rejected(A, b"forged bytes", "bad_signature", "does not verify", 4)
    await device.store.add_rejected(None, b"not an envelope", "bad_envelope", "cut short", None)

    reopened = await device.reopen()

    assert await reopened.store.refusals() == [
        Refusal(A, b"forged bytes", "bad_signature", "does not verify", 4),
        Refusal(None, b"not an envelope", "bad_envelope", "cut short", None),
    ]


async def test_events_stored_at_or_below_the_base_count_as_served_before_the_record(
    device: Device,
) -> None:
    tracker = await device.open()
    assert device.store is not None
    await device.store.add_events(
        [
            NewEvent(A, b"author", 1, b"envelope A", 3),
            NewEvent(B, b"author", 2, b"envelope B", 7),
            NewEvent(C, b"author", 3, b"envelope C", None),  # written here, not served yet
        ]
    )

    assert await tracker.store.served_before_record(5) == {A}
    assert await tracker.store.served_before_record(7) == {A, B}


async def test_the_challenges_kept_are_bounded_and_the_oldest_is_forgotten_first(
    device: Device,
) -> None:
    """A relay offering challenge after challenge cannot grow the device's file."""
    tracker = await device.open()
    assert device.store is not None
    db = device.store.db
    old = [fixed_bytes(f"old challenge {i}", 32) for i in range(MAX_CHALLENGES_KEPT)]
    # Answered long ago, oldest first (seen_at 1, 2, ...).
    await db.executemany(
        "INSERT INTO relay_challenges (nonce, seen_at) VALUES (?, ?)",
        [(nonce, i + 1) for i, nonce in enumerate(old)],
    )
    await db.commit()

    assert not await tracker.store.challenge_seen_before(fixed_bytes("a new challenge", 32))

    async with db.execute("SELECT COUNT(*) FROM relay_challenges") as cur:
        row = await cur.fetchone()
    assert row is not None
    assert row[0] == MAX_CHALLENGES_KEPT
    assert await tracker.store.challenge_seen_before(old[-1])
    assert not await tracker.store.challenge_seen_before(old[0])
