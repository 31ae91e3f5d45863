"""PostgreSQL benchmarks (issue 15): the ingest and fan-out benchmarks on relays that
store in PostgreSQL, with one and with two relay processes on one database.

A private PostgreSQL server (tests/pg_server.py, with fsync on, as in production) runs
on this machine alongside the relays and the load generator. With two processes, the
load generator's devices are split between them (each worker dials one), and in the
fan-out run every sender dials relay 1 while every watcher dials relay 2, so each event
crosses processes through NOTIFY.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from bench import fanout, ingest
from bench._relay import LOOPBACK_OVERRIDES, relay_args
from bench._workers import run_workers, split
from tests.integration.relay_process import RelayProcess
from tests.pg_server import PgServer


@contextlib.contextmanager
def pg_relays(workdir: Path, name: str, count: int) -> Iterator[list[RelayProcess]]:
    server = PgServer(durable=True).start()
    relays: list[RelayProcess] = []
    try:
        url = server.database()
        for n in range(count):
            relay = RelayProcess(
                workdir / f"{name}-{n}.db",
                extra_args=relay_args(LOOPBACK_OVERRIDES),
                database_url=url,
            )
            relays.append(relay.start())
        yield relays
    finally:
        for relay in relays:
            relay.stop()
        server.stop()


def run_ingest(mode: ingest.Mode, processes: int, workdir: Path) -> dict[str, float]:
    with pg_relays(workdir, f"pg-ingest-{mode.name}-{processes}", processes) as relays:
        pairs = asyncio.run(ingest.make_pairs(relays[0].port, relays[0].url, ingest.PAIRS))
        devices = [chain for pair in pairs for chain in (pair.a, pair.b)]
        parts = split(devices, ingest.WORKERS)
        args = [
            ingest._WorkerArgs(relays[n % processes].port, part, mode)
            for n, part in enumerate(parts)
        ]
        started = run_workers(ingest._worker, args, ingest.START_TIMEOUT_S)
    finished = max(result.finished_at for result in started.results)
    acked = sum(result.acked for result in started.results)
    expected = len(devices) * mode.events_per_device
    if acked != expected:
        raise RuntimeError(f"{acked} of {expected} events were acknowledged")
    seconds = finished - started.started_at
    return {"events": acked, "seconds": seconds, "events_per_s": acked / seconds}


def run_fanout(pairs: int, workdir: Path) -> dict[str, float]:
    per_device = fanout._events_per_device()
    with pg_relays(workdir, f"pg-fanout-{pairs}", 2) as (one, two):
        specs = asyncio.run(ingest.make_pairs(one.port, one.url, pairs))
        sender = fanout._SenderArgs(one.port, [p.a for p in specs], per_device)
        watchers = fanout._WatcherArgs(
            two.port, [fanout._Watcher(p.b, p.history, per_device) for p in specs]
        )
        jobs: list[fanout._SenderArgs | fanout._WatcherArgs] = [sender, watchers]
        started = run_workers(fanout._sender_or_watcher, jobs, fanout.START_TIMEOUT_S)
    sent, received = started.results
    if not isinstance(sent, fanout._Sent) or isinstance(received, fanout._Sent):
        raise TypeError("the workers' results came back in the wrong order")
    missing = set(sent.sent_at) - set(received)
    if missing:
        raise RuntimeError(f"{len(missing)} of {len(sent.sent_at)} events never arrived")
    latencies = sorted(
        (received[event_id] - at) * 1000
        for event_id, at in sent.sent_at.items()
        if at >= sent.t0 + fanout.WARMUP_S
    )
    return {
        "events": len(latencies),
        "p50_ms": fanout.percentile(latencies, 0.50),
        "p99_ms": fanout.percentile(latencies, 0.99),
        "max_ms": latencies[-1],
        "events_per_s": pairs * fanout.RATE_HZ,
        "seconds": time.monotonic() - started.started_at,
    }
