"""The writer on PostgreSQL shared by two relay processes (server/writer.py with
server/pg_store.py, issue #15): a push decided again under the spaces' lock after
another process wrote is acknowledged only once that locked transaction committed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection

import asyncpg

from schemas.ids import SpaceId
from server.hub import Hub
from server.ingest import Accepted, CheckedEnvelope, check_batch
from server.pg_store import PgStore
from server.store import NewEvent
from server.writer import PushResult, Writer
from tests.server.helpers import Device, new_space_id

NOW_MS = 1_800_000_000_000


class ObservedPgStore(PgStore):
    """A real PgStore that says, at the moment its held transaction has committed,
    whether the writer had already answered the push (and what a fresh reader sees)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.push: asyncio.Future[PushResult] | None = None
        self.answered_before_commit: list[bool] = []

    @contextlib.asynccontextmanager
    async def holding(self, space_ids: Collection[SpaceId]) -> AsyncIterator[None]:
        async with super().holding(space_ids):
            yield
            # Still inside the locked transaction: nothing may have been answered.
            assert self.push is not None
            self.answered_before_commit.append(self.push.done())


def checked(raws: list[bytes], space_id: SpaceId) -> list[CheckedEnvelope]:
    result = check_batch(raws, space_id, 1 << 20)
    assert isinstance(result, list), result
    return result


async def test_a_push_retried_under_the_lock_is_acked_after_its_commit(pg_url: str) -> None:
    alex = Device()
    space_id = new_space_id()
    one, two = ObservedPgStore(pg_url), PgStore(pg_url)
    await one.open()
    await two.open()
    writers = [Writer(one, Hub(), lambda: NOW_MS), Writer(two, Hub(), lambda: NOW_MS)]
    for writer in writers:
        writer.start()
    try:
        [genesis] = checked([alex.envelope(space_id)], space_id)
        row = NewEvent(space_id, 1, genesis.event_id, genesis.author, 1, genesis.canonical, NOW_MS)
        assert await one.create_space(row, NOW_MS)
        # Process one pushes (and keeps a view of the space), then the device moves to
        # process two and pushes twice, then comes back to process one, whose view now
        # lags: it would refuse a chain gap, so it decides again under the lock.
        for writer in (writers[0], writers[1], writers[1], writers[0]):
            push = writer.submit(space_id, checked([alex.envelope(space_id)], space_id), None)
            one.push = push
            result = await push
            assert isinstance(result, Accepted), result
            # Acknowledged: any reader anywhere must find it now.
            conn = await asyncpg.connect(pg_url)
            try:
                seq = result.acks[0].seq
                found = await conn.fetchval(
                    "SELECT COUNT(*) FROM events e JOIN spaces s ON s.id = e.space "
                    "WHERE s.space_id = $1 AND e.seq = $2",
                    space_id,
                    seq,
                )
            finally:
                await conn.close()
            assert found == 1, f"seq {seq} was acknowledged before it was readable"
        assert one.answered_before_commit == [False], "the retry took the locked path once"
    finally:
        for writer in writers:
            await writer.stop()
        await one.close()
        await two.close()
