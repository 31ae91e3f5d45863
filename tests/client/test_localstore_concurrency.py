"""One Space used by two tasks at once (the local app: a form being saved while the
sync session stores the partner's events) shares one SQLite connection. Transactions on
it take turns: neither fails with "cannot start a transaction within a transaction" and
nothing one writes is lost or committed by the other."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from client.store.integrity_store import IntegrityStore
from client.store.localstore import LocalStore, NewEvent


def _event(n: int) -> NewEvent:
    return NewEvent(
        event_id=n.to_bytes(32, "big"),
        author=b"\x01" * 32,
        author_seq=n,
        envelope=os.urandom(64),
        relay_seq=None,
    )


async def test_concurrent_writes_on_one_store_take_turns(tmp_path: Path) -> None:
    store = await LocalStore.open(tmp_path / "home" / "trellis.db")
    try:
        writes = [
            store.add_events([_event(n)], outbox=n % 2 == 0, meta={f"k{n}": b"v"})
            for n in range(1, 41)
        ]
        writes += [store.put({f"m{n}": b"x"}) for n in range(20)]
        await asyncio.gather(*writes)
        assert len(await store.load_events()) == 40
        assert await store.outbox_size() == 20
        assert await store.get("k40") == b"v"
        assert await store.get("m19") == b"x"
    finally:
        await store.close()


async def test_the_relay_record_shares_the_turns(tmp_path: Path) -> None:
    store = await LocalStore.open(tmp_path / "home" / "trellis.db")
    try:
        record = IntegrityStore(store.db)
        view, _ = await record.load_view()

        async def save() -> None:
            await record.save(view, cursor=7, resolved=[])

        await asyncio.gather(
            *(store.add_events([_event(n)]) for n in range(1, 21)),
            *(save() for _ in range(10)),
        )
        assert len(await store.load_events()) == 20
    finally:
        await store.close()
