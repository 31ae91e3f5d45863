"""The PostgreSQL store on a real, private PostgreSQL server (tests/pg_server.py):
migrations, the Store contract, and what keeps two relay processes on one database
consistent (server/pg_store.py): per-space locking with stale-view detection, and
notifications of commits and revocations."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from schemas.envelope import event_id_of
from schemas.ids import DeviceId, InviteId, SpaceId
from server._pg_migrations import PgMigrationError, pg_migrations
from server.pg_store import (
    REVOKE_CHANNEL,
    EventsNotice,
    Notice,
    PgStore,
    RevokeNotice,
)
from server.store import (
    InviteRecord,
    Membership,
    NewEvent,
    RedeemOutcome,
    RevokeOutcome,
    StaleSpace,
)

NOW_MS = 1_800_000_000_000


def event(space_id: SpaceId, seq: int, author: DeviceId, author_seq: int | None = None) -> NewEvent:
    envelope = b"\x9b" + os.urandom(99)  # opaque, but begins like every envelope
    return NewEvent(
        space_id, seq, event_id_of(envelope), author, author_seq or seq, envelope, NOW_MS
    )


async def opened(url: str) -> PgStore:
    store = PgStore(url)
    await store.open()
    return store


async def until_listening(url: str) -> None:
    """Until a connection of this database has issued its last LISTEN (the store's
    listener subscribes to the events channel, then the revoke channel): an awaited
    condition, where a fixed sleep only hoped the listener was connected."""
    conn = await asyncpg.connect(url)
    try:
        for _ in range(500):  # 10 s at most
            if await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE $1",
                f'LISTEN "{REVOKE_CHANNEL}"%',
            ):
                return
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    raise AssertionError("the store's listener did not subscribe within 10 s")


async def test_migrations_apply_once_and_a_newer_schema_is_refused(pg_url: str) -> None:
    for _ in range(2):
        await (await opened(pg_url)).close()
    conn = await asyncpg.connect(pg_url)
    try:
        versions = [r[0] for r in await conn.fetch("SELECT version FROM schema_version")]
        assert versions == [number for number, _ in pg_migrations()]
        await conn.execute("INSERT INTO schema_version VALUES (999)")
    finally:
        await conn.close()
    with pytest.raises(PgMigrationError, match="newer relay"):
        await opened(pg_url)


async def test_two_relays_starting_together_migrate_once(pg_url: str) -> None:
    stores = [PgStore(pg_url) for _ in range(3)]
    await asyncio.gather(*(s.open() for s in stores))
    for store in stores:
        await store.close()
    conn = await asyncpg.connect(pg_url)
    try:
        assert await conn.fetchval("SELECT COUNT(*) FROM schema_version") == len(pg_migrations())
    finally:
        await conn.close()


async def test_the_store_contract(pg_url: str) -> None:
    store = await opened(pg_url)
    try:
        space_id, alex, blake = (
            SpaceId(os.urandom(16)),
            DeviceId(os.urandom(32)),
            DeviceId(os.urandom(32)),
        )
        genesis = event(space_id, 1, alex)
        assert await store.create_space(genesis, NOW_MS)
        assert not await store.create_space(genesis, NOW_MS)
        rows = [event(space_id, seq, alex) for seq in range(2, 11)]
        await store.append_events(rows, {space_id: 10})
        page = await store.events_after(space_id, 0, limit=4, max_bytes=1 << 20)
        assert ([e.seq for e in page.events], page.more, page.head) == ([1, 2, 3, 4], True, 10)
        page = await store.events_after(space_id, 8, limit=100, max_bytes=150)
        assert ([e.seq for e in page.events], page.more) == ([9], True)
        page = await store.events_after(space_id, 10, limit=100, max_bytes=1 << 20)
        assert (page.events, page.more, page.head) == ([], False, 10)
        assert (await store.events_after(SpaceId(os.urandom(16)), 0, 10, 100)).head == 0
        # No stored event id: a duplicate push is recognised by its position's hash.
        found = await store.find_positions(space_id, {(alex, 3), (alex, 99)})
        assert (alex, 99) not in found
        assert found[(alex, 3)].event_id == rows[1].event_id
        assert found[(alex, 3)].seq == 3
        snapshot = await store.load_space(space_id)
        assert snapshot is not None
        assert (snapshot.head, snapshot.chains[alex].event_id) == (10, rows[-1].event_id)
        assert snapshot.bytes == 1000
        assert await store.membership(space_id, alex) is Membership.ACTIVE
        assert await store.membership(space_id, blake) is Membership.UNKNOWN_DEVICE
        assert await store.membership(SpaceId(os.urandom(16)), alex) is Membership.NO_SPACE

        invite = InviteRecord(
            InviteId(os.urandom(16)),
            space_id,
            os.urandom(32),
            b"keys",
            "device",
            NOW_MS + 60_000,
            alex,
            NOW_MS,
        )
        assert await store.create_invite(invite)
        assert not await store.create_invite(invite)
        got = await store.get_invite(invite.invite_id)
        assert got is not None
        assert got.space_id == space_id
        assert got.kind == "device"
        assert await store.redeem_invite(invite.invite_id, blake, NOW_MS) == (
            RedeemOutcome.REDEEMED,
            space_id,
        )
        assert (await store.redeem_invite(invite.invite_id, blake, NOW_MS))[0] is (
            RedeemOutcome.ALREADY_REDEEMED_BY_DEVICE
        )
        third = DeviceId(os.urandom(32))
        assert (await store.redeem_invite(invite.invite_id, third, NOW_MS))[0] is (
            RedeemOutcome.USED
        )
        assert await store.device_group(space_id, blake) == ("active", alex)
        assert await store.revoke_device(space_id, alex, blake) is RevokeOutcome.REVOKED
        assert await store.revoke_device(space_id, alex, blake) is RevokeOutcome.ALREADY_REVOKED
        assert await store.membership(space_id, blake) is Membership.REVOKED
        outcome = await store.leave(space_id, alex)
        assert outcome.revoked == [alex]
        assert outcome.space_deleted
        assert await store.head(space_id) is None
        await store.check_writable(NOW_MS)
    finally:
        await store.close()


async def test_a_view_made_stale_by_another_process_is_refused_not_written(pg_url: str) -> None:
    """Two stores on one database stand for two relay processes: each decided seq 2
    against head 1; only the first commit wins, the second writes nothing."""
    one, two = await opened(pg_url), await opened(pg_url)
    try:
        space_id, alex = SpaceId(os.urandom(16)), DeviceId(os.urandom(32))
        assert await one.create_space(event(space_id, 1, alex), NOW_MS)
        assert await one.load_space(space_id) is not None
        assert await two.load_space(space_id) is not None
        await two.append_events([event(space_id, 2, alex)], {space_id: 2})
        with pytest.raises(StaleSpace):
            await one.append_events([event(space_id, 2, alex)], {space_id: 2})
        # Reloaded, process one decides seq 3 and commits it.
        snapshot = await one.load_space(space_id)
        assert snapshot is not None
        assert snapshot.head == 2
        await one.append_events([event(space_id, 3, alex)], {space_id: 3})
        page = await one.events_after(space_id, 0, 10, 1 << 20)
        assert [e.seq for e in page.events] == [1, 2, 3]
    finally:
        await one.close()
        await two.close()


async def test_a_revocation_elsewhere_stops_pushes_decided_before_it(pg_url: str) -> None:
    one, two = await opened(pg_url), await opened(pg_url)
    try:
        space_id, alex, blake = (
            SpaceId(os.urandom(16)),
            DeviceId(os.urandom(32)),
            DeviceId(os.urandom(32)),
        )
        assert await one.create_space(event(space_id, 1, alex), NOW_MS)
        invite = InviteRecord(
            InviteId(os.urandom(16)),
            space_id,
            os.urandom(32),
            b"k",
            "device",
            NOW_MS + 60_000,
            alex,
            NOW_MS,
        )
        assert await two.create_invite(invite)
        assert (await two.redeem_invite(invite.invite_id, blake, NOW_MS))[0] is (
            RedeemOutcome.REDEEMED
        )
        assert await one.load_space(space_id) is not None  # blake active in this view
        assert await two.revoke_device(space_id, alex, blake) is RevokeOutcome.REVOKED
        with pytest.raises(StaleSpace):
            await one.append_events([event(space_id, 2, blake, 1)], {space_id: 2})
        snapshot = await one.load_space(space_id)
        assert snapshot is not None
        assert snapshot.devices[blake] == "revoked"
    finally:
        await one.close()
        await two.close()


async def test_commits_and_revocations_are_notified_to_other_processes(pg_url: str) -> None:
    one, two = await opened(pg_url), await opened(pg_url)
    heard: asyncio.Queue[Notice] = asyncio.Queue()

    async def on_notice(notice: Notice) -> None:
        await heard.put(notice)

    one.listen(on_notice)
    try:
        space_id, alex = SpaceId(os.urandom(16)), DeviceId(os.urandom(32))
        assert await two.create_space(event(space_id, 1, alex), NOW_MS)
        await until_listening(pg_url)
        assert await two.load_space(space_id) is not None
        small = [event(space_id, s, alex) for s in (2, 3)]
        await two.append_events(small, {space_id: 3})
        notice = await asyncio.wait_for(heard.get(), 10)
        # A few small events ride in the notification itself...
        assert notice == EventsNotice(space_id, 2, 3, tuple(r.envelope for r in small))
        # ...many are read from the database by the listening process.
        large = [event(space_id, s, alex) for s in range(4, 4 + 60)]
        await two.append_events(large, {space_id: 63})
        notice = await asyncio.wait_for(heard.get(), 10)
        assert notice == EventsNotice(space_id, 4, 63, None)
        rows = await one.events_between(space_id, 4, 63)
        assert [r.envelope for r in rows] == [r.envelope for r in large]
        # Its own commits are not notified back to a process.
        assert await one.load_space(space_id) is not None
        await one.append_events([event(space_id, 64, alex)], {space_id: 64})
        await two.leave(space_id, alex)
        notice = await asyncio.wait_for(heard.get(), 10)
        assert notice == RevokeNotice(space_id, [alex])
    finally:
        await one.close()
        await two.close()


async def test_a_group_with_an_author_that_is_no_device_writes_nothing(pg_url: str) -> None:
    store = await opened(pg_url)
    try:
        space_id, alex = SpaceId(os.urandom(16)), DeviceId(os.urandom(32))
        assert await store.create_space(event(space_id, 1, alex), NOW_MS)
        stranger = DeviceId(os.urandom(32))
        with pytest.raises(LookupError):
            await store.append_events(
                [event(space_id, 2, alex), event(space_id, 3, stranger, 1)], {space_id: 3}
            )
        assert await store.head(space_id) == 1
        page = await store.events_after(space_id, 0, 10, 1 << 20)
        assert [e.seq for e in page.events] == [1]
    finally:
        await store.close()
