"""The device's SQLite file and its vault (client/store/localstore.py, client/keys/vault.py).

Real files under tmp_path; the vault sealed at its cheapest Argon2id cost (a parameter
of vault.seal) so the tests stay fast, except the one that checks the real cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import nacl.pwhash.argon2id as argon2id
import pytest

from client.errors import LocalDataError, PassphraseError
from client.keys import crypto, vault
from client.store.localstore import DB_FILE_NAME, LocalStore, NewEvent
from tests.client.builders import fixed_bytes

PASSPHRASE = "correct horse battery staple"
SECRETS = vault.DeviceSecrets(
    signing_seed=fixed_bytes("vault signing seed", 32),
    box_secret=fixed_bytes("vault box secret", 32),
    space_keys={0: fixed_bytes("vault space key 0", 32), 1: fixed_bytes("vault space key 1", 32)},
)
CHEAP = vault.CHEAP_COST
ME = fixed_bytes("this device", 32)
PARTNER = fixed_bytes("partner device", 32)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / DB_FILE_NAME


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[LocalStore]:
    opened = await LocalStore.open(db_path)
    try:
        yield opened
    finally:
        await opened.close()


def new_event(author: bytes, seq: int, relay_seq: int | None = None) -> NewEvent:
    return NewEvent(
        event_id=fixed_bytes(f"event {author.hex()[:4]} {seq}", 32),
        author=author,
        author_seq=seq,
        envelope=f"ciphertext of {author.hex()[:4]} #{seq}".encode(),
        relay_seq=relay_seq,
    )


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


MIGRATIONS = len(list((Path(__file__).parents[2] / "client" / "migrations").glob("*.sql")))
"""Every numbered migration file is applied once: user_version counts them."""


def files_of(db_path: Path) -> bytes:
    """Every byte SQLite keeps for the database: the file, its WAL and shared memory."""
    return b"".join(p.read_bytes() for p in db_path.parent.glob(DB_FILE_NAME + "*"))


# --- migrations --------------------------------------------------------------------------


async def test_opening_a_new_file_applies_the_migrations_and_records_the_version(
    db_path: Path,
) -> None:
    store = await LocalStore.open(db_path)
    await store.close()

    assert user_version(db_path) == MIGRATIONS


async def test_reopening_keeps_the_data_and_applies_no_migration_twice(db_path: Path) -> None:
    store = await LocalStore.open(db_path)
    await store.put({"cursor": b"17"})
    await store.add_events([new_event(ME, 1)], outbox=True)
    await store.close()

    reopened = await LocalStore.open(db_path)
    try:
        assert await reopened.get("cursor") == b"17"
        assert await reopened.event_count() == 1
        assert await reopened.outbox_size() == 1
    finally:
        await reopened.close()
    assert user_version(db_path) == MIGRATIONS


async def test_a_file_written_by_a_newer_version_is_refused_with_a_clear_error(
    db_path: Path,
) -> None:
    store = await LocalStore.open(db_path)
    await store.close()
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA user_version = 99")
    db.close()

    with pytest.raises(LocalDataError, match="newer version of Trellis"):
        await LocalStore.open(db_path)

    assert user_version(db_path) == 99  # nothing was touched


# --- events, outbox, cursor ----------------------------------------------------------------


async def test_meta_values_are_stored_replaced_and_deleted(store: LocalStore) -> None:
    await store.put({"relay": b"http://a", "cursor": b"0"})
    await store.put({"cursor": b"12"})

    assert await store.get("relay") == b"http://a"
    assert await store.get("cursor") == b"12"
    await store.delete_meta("relay")
    assert await store.get("relay") is None


async def test_events_come_back_in_the_order_they_were_accepted(store: LocalStore) -> None:
    events = [new_event(PARTNER, 1, relay_seq=1), new_event(ME, 1), new_event(PARTNER, 2, 3)]

    await store.add_events(events[:1])
    await store.add_events(events[1:])

    loaded = await store.load_events()
    assert [e.event_id for e in loaded] == [e.event_id for e in events]
    assert [e.envelope for e in loaded] == [e.envelope for e in events]
    assert [e.relay_seq for e in loaded] == [1, None, 3]


async def test_storing_an_event_twice_keeps_one_copy(store: LocalStore) -> None:
    event = new_event(PARTNER, 1, relay_seq=1)

    await store.add_events([event])
    await store.add_events([event])

    assert await store.event_count() == 1


async def test_own_events_wait_in_the_outbox_in_chain_order_until_acknowledged(
    store: LocalStore,
) -> None:
    mine = [new_event(ME, 1), new_event(ME, 2), new_event(ME, 3)]
    await store.add_events([mine[0]], outbox=True)
    await store.add_events([new_event(PARTNER, 1, relay_seq=1)])
    await store.add_events(mine[1:], outbox=True)

    assert await store.outbox() == [e.envelope for e in mine]

    await store.mark_acknowledged([(mine[0].event_id, 2), (mine[1].event_id, 3)])

    assert await store.outbox() == [mine[2].envelope]
    assert await store.outbox_size() == 1
    seqs = {e.event_id: e.relay_seq for e in await store.load_events()}
    assert seqs[mine[0].event_id] == 2
    assert seqs[mine[1].event_id] == 3
    assert seqs[mine[2].event_id] is None


async def test_events_and_the_cursor_are_saved_together(store: LocalStore) -> None:
    await store.add_events([new_event(PARTNER, 1, relay_seq=8)], meta={"cursor": b"8"})

    assert await store.get("cursor") == b"8"
    assert await store.event_count() == 1


async def test_a_failed_batch_leaves_nothing_half_written(store: LocalStore) -> None:
    good = new_event(PARTNER, 1, relay_seq=1)
    clash = NewEvent(  # same author position as `good`, different id: violates UNIQUE
        event_id=fixed_bytes("a clashing event", 32),
        author=PARTNER,
        author_seq=1,
        envelope=b"other",
        relay_seq=2,
    )
    await store.add_events([good])

    with pytest.raises(sqlite3.IntegrityError):
        await store.add_events([new_event(ME, 1), clash], outbox=True, meta={"cursor": b"2"})

    assert await store.event_count() == 1
    assert await store.outbox_size() == 0
    assert await store.get("cursor") is None


# --- pending and rejected --------------------------------------------------------------------


async def test_pending_events_round_trip_and_leave_once_accepted(store: LocalStore) -> None:
    waiting = new_event(PARTNER, 2, relay_seq=5)
    await store.put_pending(waiting.event_id, waiting.envelope, 5, "1 earlier event(s)")
    await store.put_pending(waiting.event_id, waiting.envelope, 5, "key for epoch 1")

    [held] = await store.load_pending()
    assert (held.event_id, held.envelope, held.relay_seq) == (
        waiting.event_id,
        waiting.envelope,
        5,
    )
    assert await store.pending_count() == 1

    await store.add_events([waiting])

    assert await store.load_pending() == []


async def test_rejected_envelopes_are_kept_with_their_code_and_reason(store: LocalStore) -> None:
    forged = fixed_bytes("forged event", 32)
    await store.add_rejected(
        forged, b"forged bytes", "bad_signature", "signature does not verify", 4
    )
    await store.add_rejected(None, b"\x00garbage", "bad_envelope", "not msgpack", None)

    assert await store.rejected() == [
        (forged, "bad_signature", "signature does not verify"),
        (None, "bad_envelope", "not msgpack"),
    ]


# --- the vault ----------------------------------------------------------------------------


def test_the_vault_opens_with_the_passphrase_it_was_sealed_with() -> None:
    sealed = vault.seal(PASSPHRASE, SECRETS, CHEAP)

    assert vault.unseal(PASSPHRASE, sealed) == SECRETS


def test_the_vault_is_sealed_at_the_cost_it_is_given() -> None:
    blob = msgspec.msgpack.decode(vault.seal(PASSPHRASE, SECRETS, CHEAP), type=crypto.VaultBlob)

    assert (blob.opslimit, blob.memlimit) == (argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)


def test_by_default_the_vault_is_sealed_at_the_real_cost_and_opens_with_it() -> None:
    # PROTOCOL.md §3.6: what a person's device uses (~3 passes over 128 MiB).
    sealed = vault.seal(PASSPHRASE, SECRETS)
    blob = msgspec.msgpack.decode(sealed, type=crypto.VaultBlob)

    assert (blob.opslimit, blob.memlimit) == (argon2id.OPSLIMIT_MODERATE, 128 * 1024 * 1024)
    assert vault.KdfCost(blob.opslimit, blob.memlimit) == vault.REAL_COST
    assert vault.unseal(PASSPHRASE, sealed) == SECRETS


async def test_the_event_loop_keeps_serving_timers_while_a_real_cost_vault_opens() -> None:
    # An app embedding the library must stay responsive during the ~0.2-1 s unlock.
    sealed = vault.seal(PASSPHRASE, SECRETS)
    loop = asyncio.get_running_loop()
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(loop.time())
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    started = loop.time()
    opened = await vault.unseal_off_loop(PASSPHRASE, sealed)
    took = loop.time() - started
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

    assert opened == SECRETS
    during = [t for t in ticks if t >= started]
    gaps = [b - a for a, b in itertools.pairwise([started, *during])]
    assert took > 0.05  # the real cost: a synchronous unlock would stall every timer
    assert len(during) >= 3
    assert max(gaps) < took / 2


def test_a_wrong_passphrase_is_refused_without_repeating_it() -> None:
    sealed = vault.seal(PASSPHRASE, SECRETS, CHEAP)
    wrong = "correct horse battery stapler"

    with pytest.raises(PassphraseError) as caught:
        vault.unseal(wrong, sealed)

    assert caught.value.code == "wrong_passphrase"
    assert wrong not in str(caught.value)
    assert PASSPHRASE not in str(caught.value)
    assert "passphrase" in str(caught.value)  # it says what went wrong


def test_a_damaged_vault_is_reported_as_damaged_not_as_a_wrong_passphrase() -> None:
    with pytest.raises(LocalDataError, match="damaged"):
        vault.unseal(PASSPHRASE, b"\x93 not a vault")


def test_a_vault_with_altered_ciphertext_does_not_open() -> None:
    blob = msgspec.msgpack.decode(vault.seal(PASSPHRASE, SECRETS, CHEAP), type=crypto.VaultBlob)
    altered = msgspec.structs.replace(
        blob, ciphertext=bytes([blob.ciphertext[0] ^ 1]) + blob.ciphertext[1:]
    )

    with pytest.raises(PassphraseError):
        vault.unseal(PASSPHRASE, msgspec.msgpack.encode(altered))


def test_two_seals_of_the_same_secrets_differ() -> None:
    # Fresh salt and nonce each time: the file does not reveal that nothing changed.
    assert vault.seal(PASSPHRASE, SECRETS, CHEAP) != vault.seal(PASSPHRASE, SECRETS, CHEAP)


async def test_neither_the_passphrase_nor_any_secret_key_reaches_the_database_file(
    db_path: Path,
) -> None:
    store = await LocalStore.open(db_path)
    await store.put({"vault": vault.seal(PASSPHRASE, SECRETS, CHEAP)})
    stored = await store.get("vault")
    await store.close()

    on_disk = files_of(db_path)
    assert stored is not None
    assert stored in on_disk  # the sealed vault is really there...
    assert PASSPHRASE.encode() not in on_disk  # ...but nothing it protects
    assert SECRETS.signing_seed not in on_disk
    assert SECRETS.box_secret not in on_disk
    for space_key in SECRETS.space_keys.values():
        assert space_key not in on_disk
    assert vault.unseal(PASSPHRASE, stored) == SECRETS


def test_space_keys_for_an_invite_round_trip() -> None:
    keys = vault.SpaceKeys(space_keys=dict(SECRETS.space_keys))

    assert vault.decode_space_keys(vault.encode_space_keys(keys)) == keys
