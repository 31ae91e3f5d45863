"""The SQLite store on its own: migrations, pages, redemption (server/sqlite_store.py)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from schemas.envelope import event_id_of
from schemas.ids import DeviceId, EventId, InviteId, SpaceId
from server._migrations import MigrationError, migrations
from server.ingest import check_batch
from server.pg_store import PgStore
from server.sqlite_store import SqliteStore
from server.store import (
    COMMON_PREFIX_BYTES,
    InviteRecord,
    Membership,
    NewEvent,
    RedeemOutcome,
    Store,
    full_envelope,
    stored_form,
)
from tests.server.helpers import Device, new_space_id

NOW_MS = 1_800_000_000_000


def event(space_id: SpaceId, seq: int, author: DeviceId, size: int = 10) -> NewEvent:
    # Opaque bytes that begin like every envelope, with a msgpack array header.
    envelope = b"\x9b" + os.urandom(size - 1)
    return NewEvent(space_id, seq, EventId(os.urandom(32)), author, seq, envelope, NOW_MS)


async def opened(path: Path) -> SqliteStore:
    store = SqliteStore(str(path))
    await store.open()
    return store


async def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    for _ in range(2):
        store = await opened(tmp_path / "relay.db")
        await store.close()
    with sqlite3.connect(tmp_path / "relay.db") as db:
        versions = [row[0] for row in db.execute("SELECT version FROM schema_version")]
    db.close()
    assert versions == [number for number, _ in migrations()]


async def test_a_database_from_a_newer_relay_is_refused(tmp_path: Path) -> None:
    store = await opened(tmp_path / "relay.db")
    await store.close()
    with sqlite3.connect(tmp_path / "relay.db") as db:
        db.execute("INSERT INTO schema_version VALUES (999)")
    db.close()
    with pytest.raises(MigrationError, match="newer relay"):
        await opened(tmp_path / "relay.db")


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """The same contract tests on both stores (PostgreSQL: a fresh database)."""
    store: Store
    if request.param == "sqlite":
        store = SqliteStore(str(tmp_path / "relay.db"))
    else:
        store = PgStore(request.getfixturevalue("pg_url"))
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def test_a_page_stops_at_its_byte_budget_but_always_holds_one_event(
    any_store: Store,
) -> None:
    store = any_store
    space_id, author = SpaceId(os.urandom(16)), DeviceId(os.urandom(32))
    assert await store.create_space(event(space_id, 1, author, 100), NOW_MS)
    rows = [event(space_id, seq, author, 100) for seq in range(2, 11)]
    await store.append_events(rows, {space_id: 10})
    page = await store.events_after(space_id, 0, limit=100, max_bytes=250)
    assert ([e.seq for e in page.events], page.more, page.head) == ([1, 2], True, 10)
    page = await store.events_after(space_id, 0, limit=100, max_bytes=10)
    assert ([e.seq for e in page.events], page.more) == ([1], True)
    page = await store.events_after(space_id, 8, limit=2, max_bytes=10_000)
    assert ([e.seq for e in page.events], page.more) == ([9, 10], False)
    assert await store.membership(space_id, author) is Membership.ACTIVE
    assert await store.membership(space_id, DeviceId(os.urandom(32))) is (Membership.UNKNOWN_DEVICE)
    assert await store.membership(SpaceId(os.urandom(16)), author) is Membership.NO_SPACE


async def test_an_invite_is_redeemed_once_atomically(any_store: Store) -> None:
    store = any_store
    space_id, author = SpaceId(os.urandom(16)), DeviceId(os.urandom(32))
    assert await store.create_space(event(space_id, 1, author), NOW_MS)
    invite_id = InviteId(os.urandom(16))
    record = InviteRecord(
        invite_id, space_id, os.urandom(32), b"w", "member", NOW_MS + 1000, author, NOW_MS
    )
    assert await store.create_invite(record)
    assert not await store.create_invite(record)
    first, second = DeviceId(os.urandom(32)), DeviceId(os.urandom(32))
    assert await store.redeem_invite(invite_id, first, NOW_MS) == (
        RedeemOutcome.REDEEMED,
        space_id,
    )
    assert (await store.redeem_invite(invite_id, first, NOW_MS))[0] is (
        RedeemOutcome.ALREADY_REDEEMED_BY_DEVICE
    )
    assert (await store.redeem_invite(invite_id, second, NOW_MS))[0] is RedeemOutcome.USED
    assert await store.membership(space_id, first) is Membership.ACTIVE
    assert await store.membership(space_id, second) is Membership.UNKNOWN_DEVICE
    late = InviteRecord(
        InviteId(os.urandom(16)), space_id, os.urandom(32), b"w", "device", NOW_MS, author, 0
    )
    assert await store.create_invite(late)
    assert (await store.redeem_invite(late.invite_id, second, NOW_MS))[0] is (RedeemOutcome.EXPIRED)
    missing = InviteId(os.urandom(16))
    assert (await store.redeem_invite(missing, second, NOW_MS))[0] is RedeemOutcome.NOT_FOUND


async def test_envelopes_are_kept_without_their_space_id_and_author_and_read_back_whole(
    any_store: Store, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Issue #15's storage target: every envelope repeats 54 bytes the row already names
    # (array header, version, space id, author). Kept without them, read back byte for
    # byte: the event id is the hash of what is read back.
    store = any_store
    space_id, alex = new_space_id(), Device()
    raws = [alex.envelope(space_id) for _ in range(4)]
    checked = check_batch(raws, space_id, 1 << 20)
    assert isinstance(checked, list)
    rows = [
        NewEvent(space_id, n, c.event_id, c.author, n, c.canonical, NOW_MS)
        for n, c in enumerate(checked, start=1)
    ]
    assert await store.create_space(rows[0], NOW_MS)
    await store.append_events(rows[1:], {space_id: 4})
    kept = await _kept_bytes(store, tmp_path, request)
    assert kept == sum(len(raw) for raw in raws) - 4 * COMMON_PREFIX_BYTES
    page = await store.events_after(space_id, 0, limit=10, max_bytes=sum(map(len, raws)))
    assert [e.envelope for e in page.events] == raws
    assert not page.more, "a page's byte budget counts whole envelopes"
    page = await store.events_after(space_id, 0, limit=10, max_bytes=sum(map(len, raws)) - 1)
    assert (len(page.events), page.more) == (3, True)
    snapshot = await store.load_space(space_id)
    assert snapshot is not None
    assert snapshot.chains[alex.device_id].event_id == event_id_of(raws[-1])
    assert snapshot.bytes == sum(len(raw) for raw in raws), "quotas count whole envelopes"
    found = await store.find_positions(space_id, {(alex.device_id, 2)})
    assert found[(alex.device_id, 2)].event_id == event_id_of(raws[1])


def test_the_stored_form_round_trips_and_refuses_what_it_could_not_read_back() -> None:
    space_id, alex = new_space_id(), Device()
    raw = alex.envelope(space_id)
    kept = stored_form(raw, space_id, alex.device_id)
    assert len(kept) == len(raw) - COMMON_PREFIX_BYTES
    assert full_envelope(kept, space_id, alex.device_id) == raw
    # Named with another space or author (never done by the relay), it stays whole.
    assert stored_form(raw, new_space_id(), alex.device_id) == raw
    assert full_envelope(raw, space_id, alex.device_id) == raw, "whole rows read as they are"
    with pytest.raises(ValueError, match="only msgpack envelopes"):
        stored_form(b"\x05not an envelope", space_id, alex.device_id)


async def _kept_bytes(store: Store, tmp_path: Path, request: pytest.FixtureRequest) -> int:
    """Bytes of envelope the database itself holds."""
    if isinstance(store, SqliteStore):
        with contextlib.closing(sqlite3.connect(tmp_path / "relay.db")) as db:
            return int(db.execute("SELECT SUM(LENGTH(envelope)) FROM events").fetchone()[0])
    conn = await asyncpg.connect(request.getfixturevalue("pg_url"))
    try:
        return int(await conn.fetchval("SELECT SUM(LENGTH(envelope)) FROM events"))
    finally:
        await conn.close()


async def test_a_group_commit_is_one_job_for_the_database_thread(tmp_path: Path) -> None:
    # Each job handed to aiosqlite's thread is a round trip (thread wake-up, loop
    # wake-up) that every ack and live event of the group waits for: BEGIN, the two
    # statements and COMMIT used to be four. The real connection runs each job; the
    # wrapper only counts them.
    store = await opened(tmp_path / "relay.db")
    try:
        space_id, author = SpaceId(os.urandom(16)), DeviceId(os.urandom(32))
        assert await store.create_space(event(space_id, 1, author), NOW_MS)
        await store.append_events([event(space_id, 2, author)], {space_id: 2})  # keys cached
        db = store._db
        assert db is not None
        jobs: list[object] = []
        real = db._execute

        async def counted(fn: object, *args: object, **kwargs: object) -> object:
            jobs.append(fn)
            return await real(fn, *args, **kwargs)

        db._execute = counted  # type: ignore[method-assign]
        await store.append_events(
            [event(space_id, seq, author) for seq in (3, 4, 5)], {space_id: 5}
        )
        assert len(jobs) == 1
        page = await store.events_after(space_id, 0, limit=10, max_bytes=10_000)
        assert [e.seq for e in page.events] == [1, 2, 3, 4, 5]
    finally:
        await store.close()


async def test_a_group_that_fails_to_commit_leaves_nothing_behind(any_store: Store) -> None:
    # All or nothing: a row that cannot be stored (its author seq is taken) undoes the
    # whole group, heads and sizes included, and the store goes on working after it.
    store = any_store
    space_id, author = SpaceId(os.urandom(16)), DeviceId(os.urandom(32))
    assert await store.create_space(event(space_id, 1, author), NOW_MS)
    await store.append_events([event(space_id, s, author) for s in (2, 3)], {space_id: 3})
    before = await store.load_space(space_id)
    taken = NewEvent(space_id, 5, EventId(os.urandom(32)), author, 2, b"\x9bx", NOW_MS)
    with pytest.raises(Exception):  # noqa: B017, PT011 - each database names it its own way
        await store.append_events([event(space_id, 4, author), taken], {space_id: 5})
    assert await store.load_space(space_id) == before
    assert await store.head(space_id) == 3
    await store.append_events([event(space_id, 4, author)], {space_id: 4})
    page = await store.events_after(space_id, 0, limit=10, max_bytes=10_000)
    assert [e.seq for e in page.events] == [1, 2, 3, 4]
