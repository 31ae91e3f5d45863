"""Benchmarks 3 and 5: catch-up of a 100,000-event space, and the relay's bytes per event.

A couple's space is filled with 100,000 journal entries (1 KiB payload each, half by
each partner), pushed through the relay as in use. Then:

* **storage**: the relay is stopped cleanly (its WAL checkpointed into the database
  file) and the file's size is divided by the number of events it holds;
* **catch-up**: the relay is started again, partner A issues a device invite, and a new
  device joins with the client library (``client.space.Space.join``): it redeems the
  invite, seals its keys with the passphrase, pulls every page, verifies, decrypts and
  stores every event, writes its own ``member_joined``, and then folds the journal.
  The figure is events held by the new device per second of that whole join plus the
  fold.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bench._relay import pid_of, running_relay
from bench._spaces import PAYLOAD_BYTES, ChainSpec, ChainWriter, PairSpec, http_client, issue_invite
from bench._wire import push_all, push_frames, sign_in
from bench.ingest import Mode, make_pairs, push_concurrently
from client.space import Space

EVENTS = 100_000
PASSPHRASE = "a long passphrase for the benchmark device"
FILL = Mode("fill", events_per_device=EVENTS // 2, batch=100, in_flight=4)


@dataclass(frozen=True)
class Filled:
    pair: PairSpec
    a: ChainSpec
    """Partner A's chain after the fill, to continue it with the device invite."""
    events: int
    envelope_bytes: int
    db_bytes: int


def _fill(db: Path) -> Filled:
    with running_relay(db) as relay:
        pair = asyncio.run(make_pairs(relay.port, relay.url, 1))[0]
        pushed = push_concurrently(relay.port, pid_of(relay), [pair.a, pair.b], FILL, workers=2)
    # Stopped cleanly: the WAL is checkpointed into the database file and removed.
    leftovers = [p for p in (Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]
    if leftovers:
        raise RuntimeError(f"the relay left {leftovers} behind after a clean stop")
    a = next(c for c in pushed.chains if c.signing_seed == pair.a.signing_seed)
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        # Bytes of the envelopes as pushed (spaces.bytes): the relay keeps them without
        # the 54 bytes of space id and author it can put back (server/store.py).
        (events,) = conn.execute("SELECT count(*) FROM events").fetchone()
        (envelope_bytes,) = conn.execute("SELECT sum(bytes) FROM spaces").fetchone()
    if events != len(pair.history) + pushed.acked:
        raise RuntimeError(f"the relay holds {events} events, expected more")
    return Filled(pair, a, int(events), int(envelope_bytes), db.stat().st_size)


async def _device_invite(port: int, url: str, a: ChainSpec) -> str:
    writer = ChainWriter(a)
    async with http_client(url) as http:
        _, invite = await issue_invite(http, url, writer, "device")
    ws, _ = await sign_in(port, writer.keys, a.space_id)
    await push_all(ws, push_frames([invite.envelope], 1), 1)
    await ws.close()
    return invite.code


async def _join(home: Path, code: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    space = await Space.join(home, code=code, name="Alex", passphrase=PASSPHRASE)
    synced = time.perf_counter()
    try:
        if not space.joined:
            raise RuntimeError("the new device did not finish joining")
        journal = space.journal()
        folded = time.perf_counter()
        if len(journal) != EVENTS:
            raise RuntimeError(f"the new device shows {len(journal)} of {EVENTS} entries")
        held = len(space.events())
    finally:
        await space.close()
    return synced - started, folded - synced, held


def run(workdir: Path) -> dict[str, float]:
    db = workdir / "catchup.db"
    filled = _fill(db)
    with running_relay(db) as relay:
        code = asyncio.run(_device_invite(relay.port, relay.url, filled.a))
        join_s, fold_s, held = asyncio.run(_join(workdir / "new-device", code))
    seconds = join_s + fold_s
    return {
        "events": held,
        "seconds": seconds,
        "events_per_s": held / seconds,
        "join_s": join_s,
        "fold_s": fold_s,
        "storage_bytes_per_event": filled.db_bytes / filled.events,
        "envelope_bytes_per_event": filled.envelope_bytes / filled.events,
        "payload_bytes": PAYLOAD_BYTES,
        "stored_events": filled.events,
    }
