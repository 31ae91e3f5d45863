"""A device's space opened from its own file, with no relay (client/space/).

Local-first: a device that has synced before opens its history from disk, shows the
journal, and writes new entries while offline; they wait in the outbox for the next
sync. The file is prepared with LocalStore and the vault the way Space.create leaves
it, holding the story's real envelopes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from client.errors import HomeError, PassphraseError
from client.keys import crypto, vault
from client.space import Space, SyncReport
from client.store.localstore import DB_FILE_NAME, LocalStore, NewEvent
from schemas.payloads import JournalEntry
from tests.client.builders import (
    EPOCH_KEYS,
    SPACE_ID,
    Built,
    Pair,
    Writer,
    entry,
    paired,
    retraction,
)

PASSPHRASE = "a long and private passphrase"
RELAY_URL = "http://127.0.0.1:9"  # never dialled: nothing here syncs


async def prepare_home(
    home: Path, device: Writer, history: list[Built], cost: vault.KdfCost = vault.CHEAP_COST
) -> None:
    """What a device that synced ``history`` has on disk."""
    store = await LocalStore.open(home / DB_FILE_NAME)
    try:
        secrets = vault.DeviceSecrets(
            signing_seed=device.signing_seed,
            box_secret=device.box_secret,
            space_keys=dict(EPOCH_KEYS),
        )
        await store.put(
            {
                "vault": vault.seal(PASSPHRASE, secrets, cost),
                "space_id": SPACE_ID,
                "device_id": device.device_id,
                "relay": RELAY_URL.encode(),
                "cursor": str(len(history)).encode(),
            }
        )
        await store.add_events(
            NewEvent(e.event_id, e.author, e.seq, e.data, relay_seq)
            for relay_seq, e in enumerate(history, start=1)
        )
    finally:
        await store.close()


@pytest.fixture
def story() -> tuple[Pair, list[Built]]:
    pair = paired()
    kept = entry(pair.alex, "I'm grateful we talked.", deps=[pair.joined])
    regretted = entry(pair.blake, "Something I wish I hadn't written.", deps=[kept])
    taken_back = retraction(pair.blake, regretted)
    return pair, [*pair.membership, kept, regretted, taken_back]


@pytest.fixture
async def blakes_space(tmp_path: Path, story: tuple[Pair, list[Built]]) -> AsyncIterator[Space]:
    pair, history = story
    await prepare_home(tmp_path, pair.blake, history)
    space = await Space.open(tmp_path, passphrase=PASSPHRASE)
    try:
        yield space
    finally:
        await space.close()


async def test_a_reopened_device_shows_its_journal_without_withdrawn_entries(
    blakes_space: Space,
) -> None:
    journal = blakes_space.journal()

    assert [item.text for item in journal] == ["I'm grateful we talked."]
    assert blakes_space.member_name(journal[0].author) == "Alex"


async def test_withdrawn_entries_are_shown_flagged_when_asked_for(blakes_space: Space) -> None:
    journal = blakes_space.journal(include_retracted=True)

    assert [(i.text, i.retracted) for i in journal] == [
        ("I'm grateful we talked.", False),
        ("Something I wish I hadn't written.", True),
    ]


async def test_a_reopened_device_knows_both_partners_and_which_one_it_is(
    blakes_space: Space, story: tuple[Pair, list[Built]]
) -> None:
    pair, _ = story

    members = {m.name: m for m in blakes_space.members()}

    assert set(members) == {"Alex", "Blake"}
    assert members["Blake"].is_me
    assert not members["Alex"].is_me
    assert [d.device_id for d in members["Alex"].devices] == [pair.alex.device_id]
    assert blakes_space.author_name(pair.alex.device_id) == "Alex"
    assert blakes_space.safety_number() == crypto.safety_number(
        SPACE_ID, [pair.alex.device_id, pair.blake.device_id]
    )


async def test_an_entry_written_offline_waits_in_the_outbox_and_survives_a_restart(
    tmp_path: Path, blakes_space: Space
) -> None:
    written = await blakes_space.append(JournalEntry(text="Written on the train."))
    status = await blakes_space.status()
    await blakes_space.close()

    reopened = await Space.open(tmp_path, passphrase=PASSPHRASE)
    try:
        assert [i.text for i in reopened.journal()][-1] == "Written on the train."
        assert (await reopened.status()).outbox == 1
        assert reopened.events()[-1].event_id == written.event_id
    finally:
        await reopened.close()
    assert status.outbox == 1
    assert status.events == 7


async def test_an_entry_written_offline_follows_the_devices_chain_and_what_it_has_seen(
    blakes_space: Space, story: tuple[Pair, list[Built]]
) -> None:
    _, history = story
    taken_back = history[-1]

    written = await blakes_space.append(JournalEntry(text="Next."))

    assert written.envelope.seq == taken_back.seq + 1
    assert written.envelope.prev == taken_back.event_id
    assert written.body.deps == [history[3].event_id]  # Alex's newest event
    assert written.lamport == taken_back.lamport + 1


async def test_a_wrong_passphrase_opens_nothing(
    tmp_path: Path, story: tuple[Pair, list[Built]]
) -> None:
    pair, history = story
    await prepare_home(tmp_path, pair.blake, history)

    with pytest.raises(PassphraseError):
        await Space.open(tmp_path, passphrase="not the passphrase")


async def test_opening_a_folder_without_a_space_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(HomeError, match="trellis init"):
        await Space.open(tmp_path, passphrase=PASSPHRASE)


async def test_an_event_held_as_pending_that_turns_out_bad_is_no_longer_counted_pending(
    blakes_space: Space, story: tuple[Pair, list[Built]]
) -> None:
    # Space._receive re-admits pending events whenever something is accepted, but only
    # removes them from `_pending` (and the store's pending table) when they are
    # accepted. One that is rejected on re-admission stays "pending" for ever: the
    # status keeps counting it and every later acceptance verifies it again.
    pair, _ = story
    fourth = entry(pair.alex, "Fourth.")
    fifth_with_stale_clock = pair.alex.write(JournalEntry(text="Fifth."), lamport=fourth.lamport)
    report = SyncReport()

    await blakes_space._receive([(fifth_with_stale_clock.data, 9)], report)
    assert (await blakes_space.status()).pending == 1  # waits for Alex's fourth event
    await blakes_space._receive([(fourth.data, 8)], report)

    status = await blakes_space.status()
    assert status.rejected == 1
    assert status.pending == 0


async def test_opening_at_the_real_cost_leaves_the_event_loop_serving_timers(
    tmp_path: Path, story: tuple[Pair, list[Built]]
) -> None:
    # Argon2id runs on a worker thread: an app's other tasks keep running meanwhile.
    pair, history = story
    await prepare_home(tmp_path, pair.blake, history, cost=vault.REAL_COST)
    loop = asyncio.get_running_loop()
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(loop.time())
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    started = loop.time()
    space = await Space.open(tmp_path, passphrase=PASSPHRASE)
    took = loop.time() - started
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await space.close()

    gaps = [b - a for a, b in itertools.pairwise([started, *(t for t in ticks if t >= started)])]
    assert took > 0.05  # the real cost
    assert max(gaps) < took / 2
