"""Every pushed envelope's signature, verified off the event loop, in batches.

The relay verifies the Ed25519 signature of every envelope before it stores it,
whoever pushes it (docs/THREAT_MODEL.md §6): its chain bookkeeping depends on what it
stores, so one unverified envelope (a buggy client, a bit flipped on the way) would
break that device's chain at the relay for good. At ~41 µs a signature, that is the
largest single cost of ingest, so it must not run on the event loop:

* Requests from all connections are gathered into batches. While every worker is busy,
  new requests wait in ``_pending``; the moment a worker frees up it takes everything
  pending as one batch. Under load batches grow by themselves (one hand-off per batch,
  not per envelope); when idle, a lone push is handed over at once.
* A push of one envelope is verified on the loop instead (``verify_inline``, see
  ``INLINE_MAX_SIGNATURES``): for one signature the hand-off costs more than it saves.
* Workers are threads calling libsodium through ctypes with the GIL released
  (``schemas/signatures.py``), one per core, so verification runs beside the event
  loop and on every core. A large batch that arrives while several workers are idle is
  split among them.

The shell (sync.py) awaits ``verify`` and keeps each connection's pushes in order.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

from schemas.signatures import MIN_PARALLEL_SIGNATURES, Item, default_threads, verify_each

INLINE_MAX_SIGNATURES = 1
"""Pushes of at most this many envelopes are verified on the event loop, not handed over.

A one-event push is the common case of a device writing as its person uses it (and the
whole of the single-event ingest benchmark). Handing its one signature to a worker and
back costs the loop about what the verification itself costs (a thread-pool submit, a
future, a task, a wake-up through the loop's self-pipe, and the GIL changing hands
twice), so the hop bought nothing but CPU. Measured on the 2-core machine (the
bench's single-event ingest, relay CPU per acknowledged event, medians of four
alternating runs each): 243 µs with the hand-off, 204 µs verifying inline. The loop is
blocked for one verification (~41-64 µs), as long as it takes to decode a few frames.
Larger pushes still go to the workers, batched across connections."""

_Request = tuple[list[Item], "asyncio.Future[list[bool]]"]


class SignatureVerifier:
    """Verifies batches of signatures on ``threads`` worker threads."""

    def __init__(self, threads: int | None = None, inline_max: int = INLINE_MAX_SIGNATURES) -> None:
        self.inline_max = inline_max
        self._threads = default_threads() if threads is None else max(1, threads)
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="relay-verify")
        self._busy = 0
        self._pending: list[_Request] = []
        self.batches = 0
        """Batches handed to workers so far (tests and metrics look at batching)."""
        self.inline = 0
        """Signatures verified on the loop by ``verify_inline`` so far."""

    def verify_inline(self, items: list[Item]) -> list[bool] | None:
        """Verify a push of at most ``inline_max`` envelopes right here, on the calling
        (event loop) thread; None when it is larger and belongs to ``verify``."""
        if len(items) > self.inline_max:
            return None
        self.inline += len(items)
        return verify_each(items)

    async def verify(self, items: list[Item]) -> list[bool]:
        """Whether each item's signature verifies, in order."""
        if not items:
            return []
        future: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._pending.append((items, future))
        self._dispatch()
        return await future

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _dispatch(self) -> None:
        while self._pending and self._busy < self._threads:
            requests, self._pending = self._pending, []
            items = [item for request_items, _ in requests for item in request_items]
            free = self._threads - self._busy
            shares = min(free, max(1, len(items) // MIN_PARALLEL_SIGNATURES))
            parts = [items[i::shares] for i in range(shares)]
            loop = asyncio.get_running_loop()
            runs = [loop.run_in_executor(self._pool, verify_each, part) for part in parts]
            self._busy += shares
            self.batches += 1
            gathered = asyncio.gather(*runs)
            gathered.add_done_callback(functools.partial(self._finished, requests, shares))

    def _finished(
        self, requests: list[_Request], shares: int, done: asyncio.Future[list[list[bool]]]
    ) -> None:
        self._busy -= shares
        try:
            parts = done.result()
        except BaseException as exc:  # a worker failed: fail the requests, not the relay
            for _, future in requests:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError())
            self._dispatch()
            return
        total = sum(len(part) for part in parts)
        merged = [False] * total
        for offset, part in enumerate(parts):
            merged[offset :: len(parts)] = part
        start = 0
        for request_items, future in requests:
            end = start + len(request_items)
            if not future.done():
                future.set_result(merged[start:end])
            start = end
        self._dispatch()
