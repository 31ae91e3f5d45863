"""The SQLite store on its own: migrations, pages, redemption (server/sqlite_store.py)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from schemas.ids import DeviceId, EventId, InviteId, SpaceId
from server._migrations import MigrationError, migrations
from server.pg_store import PgStore
from server.sqlite_store import SqliteStore
from server.store import InviteRecord, Membership, NewEvent, RedeemOutcome, Store

NOW_MS = 1_800_000_000_000


def event(space_id: SpaceId, seq: int, author: DeviceId, size: int = 10) -> NewEvent:
    return NewEvent(space_id, seq, EventId(os.urandom(32)), author, seq, os.urandom(size), NOW_MS)


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
