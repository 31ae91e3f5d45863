"""Benchmark 4: 5,000 connected, authenticated, idle devices; the relay's memory.

2,500 couples are registered over HTTP (create space, invite, redeem), then every one of
their 5,000 devices opens its own websocket and signs in (Hello, Challenge,
Authenticate, Welcome), as an app does when it opens. Once all are signed in and
quiet, the relay's resident set size is read from /proc. The devices keep the
websockets library's default keepalive pings, as the client library does.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import ClientConnection

from bench._relay import pid_of, rss_mb, running_relay
from bench._spaces import ChainSpec, ChainWriter, create_pair, http_client
from bench._wire import sign_in
from bench._workers import Phase, run_workers, split

DEVICES = 5000
WORKERS = 2
SIGN_IN_CONCURRENCY = 100
SETUP_CONCURRENCY = 32
SETTLE_S = 2.0
SAMPLES = 3
SAMPLE_INTERVAL_S = 0.5
START_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class _WorkerArgs:
    port: int
    devices: list[ChainSpec]


def _worker(args: _WorkerArgs, phase: Phase) -> int:
    return asyncio.run(_hold(args, phase))


async def _hold(args: _WorkerArgs, phase: Phase) -> int:
    gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

    async def connect(chain: ChainSpec) -> ClientConnection:
        async with gate:
            ws, _ = await sign_in(args.port, ChainWriter(chain).keys, chain.space_id)
            return ws

    connections = await asyncio.gather(*(connect(chain) for chain in args.devices))
    phase.ready()
    await asyncio.to_thread(phase.wait_for_start, START_TIMEOUT_S)
    await asyncio.gather(*(ws.close() for ws in connections))
    return len(connections)


async def _register(url: str, pairs: int) -> list[ChainSpec]:
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    async with http_client(url) as http:

        async def one() -> list[ChainSpec]:
            async with gate:
                pair = await create_pair(http, url)
            return [pair.a, pair.b]

        made = await asyncio.gather(*(one() for _ in range(pairs)))
    return [chain for both in made for chain in both]


def run(workdir: Path) -> dict[str, float]:
    with running_relay(workdir / "idle.db") as relay:
        pid = pid_of(relay)
        devices = asyncio.run(_register(relay.url, DEVICES // 2))
        rss_registered = rss_mb(pid)
        samples: list[float] = []

        def measure() -> None:
            time.sleep(SETTLE_S)
            for _ in range(SAMPLES):
                samples.append(rss_mb(pid))
                time.sleep(SAMPLE_INTERVAL_S)

        started = run_workers(
            _worker,
            [_WorkerArgs(relay.port, part) for part in split(devices, WORKERS)],
            START_TIMEOUT_S,
            before_start=measure,
        )
    connected = sum(started.results)
    if connected != DEVICES:
        raise RuntimeError(f"only {connected} of {DEVICES} devices signed in")
    return {
        "devices": connected,
        "rss_mb": max(samples),
        "rss_before_connections_mb": rss_registered,
        "kib_per_connection": (max(samples) - rss_registered) * 1024 / connected,
    }
