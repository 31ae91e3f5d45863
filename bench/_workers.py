"""Load generators in several processes, started together.

The machine has two cores shared by the relay and the generator, and one Python
process cannot use more than one of them. Each worker prepares (builds its envelopes,
connects, signs in), reports ready, waits for the common start, runs its part and
returns a result. Times are ``time.monotonic()``, one clock for every process on the
machine, so the parent can compare them.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import Any, Generic, TypeVar

A = TypeVar("A")
R = TypeVar("R")

POLL_S = 0.5

_CONTEXT = multiprocessing.get_context("spawn")
"""Spawned, not forked: no event loop or socket of the parent leaks into a worker."""


@dataclass(frozen=True)
class Phase:
    """What a worker uses to say it is ready and to wait for the common start."""

    index: int
    messages: Any
    start: Event

    def ready(self) -> None:
        self.messages.put(("ready", self.index, None))

    def wait_for_start(self, timeout_s: float) -> None:
        if not self.start.wait(timeout_s):
            raise TimeoutError("the benchmark never started")


def _entry(
    target: Callable[[A, Phase], R], args: A, index: int, messages: Any, start: Event
) -> None:
    try:
        result = target(args, Phase(index, messages, start))
    except BaseException:
        # A worker's failure must reach the parent as text, or the run would hang.
        messages.put(("error", index, traceback.format_exc()))
    else:
        messages.put(("result", index, result))


@dataclass
class Started(Generic[R]):
    started_at: float
    """monotonic() just before the workers were told to start."""
    results: list[R]


def run_workers(
    target: Callable[[A, Phase], R],
    worker_args: list[A],
    timeout_s: float,
    before_start: Callable[[], None] | None = None,
) -> Started[R]:
    """Run ``target(args, phase)`` in one process per ``worker_args``; start them together.

    ``before_start`` runs in this process once every worker is ready (to measure the
    relay while the workers hold still)."""
    messages = _CONTEXT.Queue()
    start = _CONTEXT.Event()
    processes = [
        _CONTEXT.Process(target=_entry, args=(target, args, i, messages, start), daemon=True)
        for i, args in enumerate(worker_args)
    ]
    for process in processes:
        process.start()
    try:
        deadline = time.monotonic() + timeout_s
        ready: set[int] = set()
        results: dict[int, R] = {}
        started_at = 0.0
        while len(results) < len(processes):
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers did not finish within {timeout_s} s")
            try:
                kind, index, value = messages.get(timeout=POLL_S)
            except queue.Empty:
                dead = [i for i, p in enumerate(processes) if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"benchmark worker {dead[0]} died") from None
                continue
            if kind == "error":
                raise RuntimeError(f"benchmark worker {index} failed:\n{value}")
            if kind == "ready":
                ready.add(index)
                if len(ready) == len(processes):
                    if before_start is not None:
                        before_start()
                    started_at = time.monotonic()
                    start.set()
            else:
                results[index] = value
        return Started(started_at, [results[i] for i in range(len(processes))])
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


def split(items: list[A], parts: int) -> list[list[A]]:
    """Deal ``items`` round-robin into ``parts`` non-empty lists (fewer if few items)."""
    parts = max(1, min(parts, len(items)))
    return [items[i::parts] for i in range(parts)]
