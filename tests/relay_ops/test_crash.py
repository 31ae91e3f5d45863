"""SIGKILL at random moments while clients push: nothing acknowledged is lost, nothing
is stored twice, and the clients finish syncing on their own (issue #6, durability).

Four clients write concurrently through every round: two paired partners using the
client library (``Space``: append, then sync with retry, as an app does), and two raw
protocol clients that keep several batches in flight and resend whatever was not
acknowledged after a broken connection, like an outbox. In each round the relay is
killed with SIGKILL at a random moment, restarted after a random pause, and the
clients carry on by themselves. After each round every event any client saw
acknowledged (or was served at a seq) must be stored at that seq with the same bytes,
and ``check_database`` must find the database intact (dense seqs, chains, ids,
signatures). The seed is printed on failure so a round can be replayed.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from client.space import Space
from schemas.envelope import event_id_of
from schemas.ids import EventId
from schemas.payloads import JournalEntry
from schemas.protocol import Acked, Push
from server.ops import check_database
from server.pg_ops import check_pg_database
from server.store import full_envelope
from tests.integration.pairing import pair
from tests.integration.relay_process import RelayProcess
from tests.relay_ops.conftest import RelayFactory
from tests.relay_ops.spaces import new_space
from tests.server.conftest import SpaceUnderTest
from tests.server.helpers import SyncClient

ROUNDS = 4
RAW_BATCH = 25
RAW_IN_FLIGHT = 4
ROUND_BEFORE_KILL_S = (0.3, 1.0)
DOWN_S = (0.0, 0.4)
AFTER_RESTART_S = (0.2, 0.6)
FINISH_TIMEOUT_S = 60.0
RETRY_FOR_S = 30.0


@dataclass
class RawWriter:
    """A protocol-level client with an outbox: what it sent and what was acknowledged."""

    space: SpaceUnderTest
    outbox: list[bytes] = field(default_factory=list)
    written: int = 0
    reconnects: int = 0

    def write_more(self) -> None:
        for _ in range(RAW_BATCH):
            self.outbox.append(self.space.creator.envelope(self.space.space_id))
            self.written += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Push until told to stop and the outbox is empty, reconnecting as needed."""
        req = 0
        while not stop.is_set() or self.outbox:
            try:
                client = await SyncClient.open(self.space.relay.ws_url)
            except (OSError, TimeoutError, InvalidHandshake):
                self.reconnects += 1
                await asyncio.sleep(0.05)
                continue
            try:
                await client.sign_in(self.space.creator, self.space.space_id, host=self.space.host)
                while not stop.is_set() or self.outbox:
                    if not stop.is_set() and len(self.outbox) < RAW_BATCH * RAW_IN_FLIGHT:
                        self.write_more()
                    chunks = [
                        self.outbox[i : i + RAW_BATCH]
                        for i in range(
                            0, min(len(self.outbox), RAW_BATCH * RAW_IN_FLIGHT), RAW_BATCH
                        )
                    ]
                    for chunk in chunks:  # several in flight before reading an ack
                        req += 1
                        await client.send(Push(req=req, envelopes=chunk))
                    for chunk in chunks:
                        reply = await client.receive_reply()
                        assert isinstance(reply, Acked), reply
                        self.record(chunk, reply)
            except (OSError, TimeoutError, ConnectionClosed):
                self.reconnects += 1
                await asyncio.sleep(0.05)
            finally:
                await client.ws.close()

    def record(self, chunk: list[bytes], reply: Acked) -> None:
        assert [a.event_id for a in reply.acks] == [event_id_of(e) for e in chunk]
        for ack in reply.acks:
            earlier = self.space.acked.setdefault(EventId(ack.event_id), ack.seq)
            assert earlier == ack.seq, "a retry was acknowledged at another seq"
        del self.outbox[: len(chunk)]


async def keep_writing(space: Space, name: str, stop: asyncio.Event) -> int:
    """Write an entry, sync (retrying through the crash), again, until stopped."""
    written = 0
    while not stop.is_set():
        await space.append(JournalEntry(text=f"{name} {written}"))
        written += 1
        await space.sync(retry_for_s=RETRY_FOR_S)
    await space.sync(retry_for_s=RETRY_FOR_S)
    return written


def pg_rows(url: str, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Rows of a query on PostgreSQL, from synchronous code inside the test's loop."""

    async def query() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, query()).result()


def relay_events(relay: RelayProcess) -> dict[bytes, tuple[int, bytes]]:
    """event id -> (seq, envelope) of everything the relay stores."""
    if relay.database_url is not None:
        rows = pg_rows(relay.database_url, STORED_EVENTS)
    else:
        db = sqlite3.connect(f"{relay.db.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = db.execute(STORED_EVENTS).fetchall()
        finally:
            db.close()
    # The relay stores no event id: it is the hash of the envelope, which it keeps
    # without its space id and author (server/store.py, stored_form).
    envelopes = [
        (int(seq), full_envelope(bytes(stored), bytes(space_id), bytes(author)))
        for seq, stored, space_id, author in rows
    ]
    return {event_id_of(envelope): (seq, envelope) for seq, envelope in envelopes}


STORED_EVENTS = (
    "SELECT e.seq, e.envelope, s.space_id, d.device_id FROM events e "
    "JOIN spaces s ON s.id = e.space JOIN devices d ON d.id = e.author"
)


def events_in_space(relay: RelayProcess, space_id: bytes) -> int:
    if relay.database_url is not None:
        [(count,)] = pg_rows(
            relay.database_url,
            "SELECT COUNT(*) FROM events WHERE space = (SELECT id FROM spaces WHERE space_id = $1)",
            space_id,
        )
        return int(count)
    db = sqlite3.connect(f"{relay.db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM events WHERE space = (SELECT id FROM spaces WHERE space_id = ?)",
            (space_id,),
        ).fetchone()
    finally:
        db.close()
    return int(count)


def seen_by_client(space: Space) -> list[tuple[bytes, int, bytes]]:
    """(event id, relay seq, envelope) of each event the client knows the relay stored."""
    db = sqlite3.connect(f"{(space.home / 'trellis.db').resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT event_id, relay_seq, envelope FROM events WHERE relay_seq IS NOT NULL"
        ).fetchall()
    finally:
        db.close()
    return [(bytes(e), int(s), bytes(env)) for e, s, env in rows]


def assert_nothing_acknowledged_was_lost(
    relay: RelayProcess,
    partners: list[Space],
    raw: list[RawWriter],
    where: str,
    *,
    signatures: bool,
) -> None:
    stored = relay_events(relay)
    for writer in raw:
        for event_id, seq in writer.space.acked.items():
            assert stored.get(event_id, (None,))[0] == seq, f"{where}: acked event lost"
    for partner in partners:
        for event_id, seq, envelope in seen_by_client(partner):
            assert stored.get(event_id) == (seq, envelope), f"{where}: acked event lost or changed"
    if relay.database_url is not None:
        with ThreadPoolExecutor(1) as pool:
            report = pool.submit(
                check_pg_database, relay.database_url, signatures=signatures
            ).result()
    else:
        report = check_database(str(relay.db), signatures=signatures)
    assert report.ok, f"{where}: {report.summary()}"


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
async def test_sigkill_at_random_moments_loses_nothing_acknowledged_and_clients_finish_alone(
    tmp_path: Path, start_relay: RelayFactory, store: str, request: pytest.FixtureRequest
) -> None:
    """On PostgreSQL the relay process is killed; the database server keeps running."""
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    if store == "postgresql":
        url = request.getfixturevalue("pg_url")
        relay = RelayProcess(tmp_path / "relay.db", database_url=url).start()
        request.addfinalizer(relay.stop)
    else:
        relay = start_relay()
    alex, blake = await pair(tmp_path, relay.http_url)
    raw = [RawWriter(await new_space(relay)), RawWriter(await new_space(relay))]
    partners = [alex, blake]
    written = {"alex": 0, "blake": 0}
    try:
        for round_number in range(ROUNDS):
            where = f"round {round_number} (seed {seed})"
            stop = asyncio.Event()
            tasks = [
                asyncio.create_task(keep_writing(alex, f"alex r{round_number}", stop)),
                asyncio.create_task(keep_writing(blake, f"blake r{round_number}", stop)),
                *(asyncio.create_task(writer.run(stop)) for writer in raw),
            ]
            await asyncio.sleep(rng.uniform(*ROUND_BEFORE_KILL_S))
            await asyncio.to_thread(relay.kill)
            await asyncio.sleep(rng.uniform(*DOWN_S))
            await asyncio.to_thread(relay.start)
            await asyncio.sleep(rng.uniform(*AFTER_RESTART_S))
            stop.set()
            # The clients finish on their own: no help from the test beyond waiting.
            done = await asyncio.wait_for(asyncio.gather(*tasks), FINISH_TIMEOUT_S)
            written["alex"] += done[0]
            written["blake"] += done[1]
            last = round_number == ROUNDS - 1  # verifying every signature once is enough
            assert_nothing_acknowledged_was_lost(relay, partners, raw, where, signatures=last)

        # Exactly once, and the partners converge: each sees every entry once. Every
        # entry is at the relay now (both outboxes were emptied), but each partner's last
        # pull may have ended before the other's last push: one more pull each.
        for partner in partners:
            await partner.sync(retry_for_s=RETRY_FOR_S)
        stored = relay_events(relay)
        for writer in raw:
            assert not writer.outbox
            count = events_in_space(relay, writer.space.space_id)
            assert count == writer.written + 1 == len(writer.space.acked), f"seed {seed}"
        for partner in partners:
            texts = [item.text for item in partner.journal()]
            assert len(texts) == len(set(texts)) == written["alex"] + written["blake"], seed
            assert (await partner.status()).outbox == 0
        assert sorted(i.text for i in alex.journal()) == sorted(i.text for i in blake.journal())
        assert len(seen_by_client(alex)) == len(stored) - sum(w.written + 1 for w in raw)
    finally:
        await alex.close()
        await blake.close()
