"""Benchmark 1, ingest: many devices push 1 KiB-payload events at once.

50 couples (100 devices, each signed in on its own connection, both partners of each
space pushing) push pre-built, signed, encrypted events. The figure is events whose
durable ack came back, per second of wall time from the common start to the last ack.
Both partners are connected, so the relay also sends each event live to the other
partner, as it does in use.

Two ways of pushing: batched (100 envelopes a push, 4 pushes in flight, as the client
library does with a backlog) and one envelope per frame (8 in flight).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from bench._relay import cpu_seconds, pid_of, running_relay
from bench._spaces import ChainSpec, ChainWriter, PairSpec, create_pair, http_client
from bench._wire import push_all, push_frames, push_set_up, sign_in
from bench._workers import Phase, run_workers, split

PAIRS = 50
WORKERS = 2
START_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Mode:
    name: str
    events_per_device: int
    batch: int
    in_flight: int


BATCHED = Mode("batched", events_per_device=1000, batch=100, in_flight=4)
SINGLE = Mode("single", events_per_device=400, batch=1, in_flight=8)


@dataclass(frozen=True)
class _WorkerArgs:
    port: int
    devices: list[ChainSpec]
    mode: Mode


@dataclass(frozen=True)
class _WorkerResult:
    finished_at: float
    acked: int
    chains: list[ChainSpec]
    """Where each device's chain stands after the run, so a caller can continue it."""


@dataclass(frozen=True)
class Pushed:
    seconds: float
    acked: int
    relay_cpu_s: float
    chains: list[ChainSpec]


def _devices(pairs: list[PairSpec]) -> list[ChainSpec]:
    return [chain for pair in pairs for chain in (pair.a, pair.b)]


def _worker(args: _WorkerArgs, phase: Phase) -> _WorkerResult:
    return asyncio.run(_work(args, phase))


async def _work(args: _WorkerArgs, phase: Phase) -> _WorkerResult:
    mode = args.mode
    writers = [ChainWriter(chain) for chain in args.devices]
    frames = [
        push_frames(writer.journal_entries(mode.events_per_device), mode.batch)
        for writer in writers
    ]
    connections = [
        (await sign_in(args.port, writer.keys, writer.spec.space_id))[0] for writer in writers
    ]
    phase.ready()
    await asyncio.to_thread(phase.wait_for_start, START_TIMEOUT_S)
    acked = await asyncio.gather(
        *(
            push_all(ws, device_frames, mode.in_flight)
            for ws, device_frames in zip(connections, frames, strict=True)
        )
    )
    finished_at = time.monotonic()
    await asyncio.gather(*(ws.close() for ws in connections))
    return _WorkerResult(finished_at, sum(acked), [writer.spec for writer in writers])


async def make_pairs(port: int, url: str, count: int) -> list[PairSpec]:
    """``count`` couples, registered and with their set-up events pushed."""
    async with http_client(url) as http:
        pairs = list(await asyncio.gather(*(create_pair(http, url) for _ in range(count))))
    await push_set_up(port, pairs)
    return pairs


def push_concurrently(
    port: int, relay_pid: int, devices: list[ChainSpec], mode: Mode, workers: int = WORKERS
) -> Pushed:
    """Every device pushes ``mode.events_per_device`` new events at once; time to last ack."""
    args = [_WorkerArgs(port, part, mode) for part in split(devices, workers)]
    cpu_at_start: list[float] = []
    started = run_workers(
        _worker,
        args,
        START_TIMEOUT_S,
        before_start=lambda: cpu_at_start.append(cpu_seconds(relay_pid)),
    )
    relay_cpu_s = cpu_seconds(relay_pid) - cpu_at_start[0]
    finished = max(result.finished_at for result in started.results)
    acked = sum(result.acked for result in started.results)
    expected = len(devices) * mode.events_per_device
    if acked != expected:
        raise RuntimeError(f"{acked} of {expected} events were acknowledged")
    chains = [chain for result in started.results for chain in result.chains]
    return Pushed(finished - started.started_at, acked, relay_cpu_s, chains)


def run(mode: Mode, workdir: Path) -> dict[str, float]:
    with running_relay(workdir / f"ingest-{mode.name}.db") as relay:
        pairs = asyncio.run(make_pairs(relay.port, relay.url, PAIRS))
        pushed = push_concurrently(relay.port, pid_of(relay), _devices(pairs), mode)
    return {
        "events": pushed.acked,
        "seconds": pushed.seconds,
        "events_per_s": pushed.acked / pushed.seconds,
        "relay_cpu_share": pushed.relay_cpu_s / pushed.seconds,
    }
