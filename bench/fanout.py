"""Benchmark 2, fan-out latency: from A's push until B's device has verified and decrypted.

Each pair has partner A's device pushing journal entries (1 KiB payload, one per push,
as an app does when a person saves) and partner B's device watching: it reads live
events and admits each with the client's own verifier (client/core/verify.py: signature,
chain, decryption, dependencies, clock, membership). The latency of an event is the
time from just before A's device hands the push to its socket until B's ``admit``
returns it accepted, on the machine-wide monotonic clock.

A's devices run in one process and B's in another, as they would on two phones. Each A
device writes ``RATE_HZ`` events a second on a fixed schedule, staggered across
devices so the relay sees a steady stream, not bursts; the first ``WARMUP_S`` seconds
are not counted.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import ClientConnection

from bench._relay import cpu_seconds, pid_of, running_relay
from bench._spaces import ChainSpec, ChainWriter
from bench._wire import BenchError, push_frames, receive, sign_in
from bench._workers import Phase, run_workers
from bench.ingest import make_pairs
from client.core.verify import LogVerifier, Verdict
from schemas.envelope import event_id_of
from schemas.ids import SpaceId
from schemas.protocol import Acked, Error, Live

RATE_HZ = 10
DURATION_S = 12.0
WARMUP_S = 2.0
LEAD_S = 0.2
"""Between the common start and A's first push: time for every watcher to be reading."""
FINISH_TIMEOUT_S = 30.0
START_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class _SenderArgs:
    port: int
    chains: list[ChainSpec]
    events_per_device: int


@dataclass(frozen=True)
class _Watcher:
    chain: ChainSpec
    history: list[bytes]
    expected: int


@dataclass(frozen=True)
class _WatcherArgs:
    port: int
    watchers: list[_Watcher]


@dataclass(frozen=True)
class _Sent:
    t0: float
    """When the schedule started; an event is counted if sent ``WARMUP_S`` after."""
    sent_at: dict[bytes, float]


def _events_per_device() -> int:
    return int(DURATION_S * RATE_HZ)


# --- A's devices: push on schedule ---------------------------------------------------


def _sender(args: _SenderArgs, phase: Phase) -> _Sent:
    return asyncio.run(_send(args, phase))


async def _drain_acks(ws: ClientConnection, expected: int) -> None:
    acked = 0
    while acked < expected:
        message = await receive(ws)
        if isinstance(message, Error):
            raise BenchError(f"push refused: {message.code}: {message.detail}")
        if isinstance(message, Acked):
            acked += 1


async def _send(args: _SenderArgs, phase: Phase) -> _Sent:
    writers = [ChainWriter(chain) for chain in args.chains]
    envelopes = [writer.journal_entries(args.events_per_device) for writer in writers]
    connections = [(await sign_in(args.port, w.keys, w.spec.space_id))[0] for w in writers]
    # (due time, device, event index): one schedule for all devices of this process.
    schedule: list[tuple[float, int, int]] = []
    devices = len(writers)
    for device in range(devices):
        offset = device / (devices * RATE_HZ)
        schedule.extend((offset + k / RATE_HZ, device, k) for k in range(args.events_per_device))
    heapq.heapify(schedule)
    frames = [push_frames(device_envelopes, 1) for device_envelopes in envelopes]
    phase.ready()
    await asyncio.to_thread(phase.wait_for_start, START_TIMEOUT_S)
    readers = [asyncio.create_task(_drain_acks(ws, args.events_per_device)) for ws in connections]
    sent_at: dict[bytes, float] = {}
    t0 = time.monotonic() + LEAD_S
    while schedule:
        due, device, k = heapq.heappop(schedule)
        delay = t0 + due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent_at[event_id_of(envelopes[device][k])] = time.monotonic()
        await connections[device].send(frames[device][k])
    await asyncio.wait_for(asyncio.gather(*readers), FINISH_TIMEOUT_S)
    await asyncio.gather(*(ws.close() for ws in connections))
    return _Sent(t0, sent_at)


# --- B's devices: verify and decrypt what arrives live -----------------------------


def _watcher(args: _WatcherArgs, phase: Phase) -> dict[bytes, float]:
    return asyncio.run(_watch(args, phase))


async def _watch_one(
    ws: ClientConnection, verifier: LogVerifier, expected: int
) -> dict[bytes, float]:
    received: dict[bytes, float] = {}
    while len(received) < expected:
        message = await receive(ws)
        if isinstance(message, Error):
            raise BenchError(f"relay error: {message.code}: {message.detail}")
        if not isinstance(message, Live):
            continue
        for stored in message.events:
            outcome = verifier.admit(stored.envelope)
            if outcome.verdict is not Verdict.ACCEPTED or outcome.event_id is None:
                raise BenchError(f"watcher did not accept a live event: {outcome}")
            received[outcome.event_id] = time.monotonic()
    return received


async def _watch(args: _WatcherArgs, phase: Phase) -> dict[bytes, float]:
    verifiers = []
    connections = []
    for watcher in args.watchers:
        verifier = LogVerifier(SpaceId(watcher.chain.space_id), {0: watcher.chain.space_key})
        for envelope in watcher.history:
            if verifier.admit(envelope).verdict is not Verdict.ACCEPTED:
                raise BenchError("the watcher refused the space's set-up events")
        verifiers.append(verifier)
        keys = ChainWriter(watcher.chain).keys
        ws, _ = await sign_in(args.port, keys, watcher.chain.space_id)
        connections.append(ws)
    phase.ready()
    tasks = [
        asyncio.create_task(_watch_one(ws, verifier, watcher.expected))
        for ws, verifier, watcher in zip(connections, verifiers, args.watchers, strict=True)
    ]
    await asyncio.to_thread(phase.wait_for_start, START_TIMEOUT_S)
    results = await asyncio.wait_for(asyncio.gather(*tasks), DURATION_S + LEAD_S + FINISH_TIMEOUT_S)
    await asyncio.gather(*(ws.close() for ws in connections))
    merged: dict[bytes, float] = {}
    for received in results:
        merged.update(received)
    return merged


# --- the run -------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, round(fraction * len(sorted_values) + 0.5 - 1e-9))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def run(pairs: int, workdir: Path) -> dict[str, float]:
    per_device = _events_per_device()
    with running_relay(workdir / f"fanout-{pairs}.db") as relay:
        specs = asyncio.run(make_pairs(relay.port, relay.url, pairs))
        sender = _SenderArgs(relay.port, [p.a for p in specs], per_device)
        watchers = _WatcherArgs(relay.port, [_Watcher(p.b, p.history, per_device) for p in specs])
        relay_pid = pid_of(relay)
        cpu_at_start: list[float] = []
        jobs: list[_SenderArgs | _WatcherArgs] = [sender, watchers]
        started = run_workers(
            _sender_or_watcher,
            jobs,
            START_TIMEOUT_S,
            before_start=lambda: cpu_at_start.append(cpu_seconds(relay_pid)),
        )
        relay_cpu_s = cpu_seconds(relay_pid) - cpu_at_start[0]
    sent, received = started.results
    if not isinstance(sent, _Sent) or isinstance(received, _Sent):
        raise TypeError("the workers' results came back in the wrong order")
    missing = set(sent.sent_at) - set(received)
    if missing:
        raise RuntimeError(f"{len(missing)} of {len(sent.sent_at)} events never arrived")
    latencies = sorted(
        (received[event_id] - at) * 1000
        for event_id, at in sent.sent_at.items()
        if at >= sent.t0 + WARMUP_S
    )
    return {
        "events": len(latencies),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1],
        "events_per_s": pairs * RATE_HZ,
        "relay_cpu_share": relay_cpu_s / (time.monotonic() - started.started_at),
    }


def _sender_or_watcher(
    args: _SenderArgs | _WatcherArgs, phase: Phase
) -> _Sent | dict[bytes, float]:
    if isinstance(args, _SenderArgs):
        return _sender(args, phase)
    return _watcher(args, phase)
