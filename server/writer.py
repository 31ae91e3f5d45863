"""The single writer: group commit, then acks, then fan-out (DESIGN.md, "Storage").

Connections enqueue pushes that passed the stateless checks (ingest.check_batch) and
wait on a future. One task drains everything queued, decides every push against its
in-memory view of each space (ingest.SpaceLog), writes all accepted envelopes with
``executemany`` in ONE transaction, commits, and only then resolves the futures and
publishes the new events to the hub. Hence:

* an ack always means "durably committed" (``synchronous=FULL``);
* chain checks are serialised with commits, so two connections of one device cannot
  both append seq N;
* many small pushes share one fsync: ~7 µs a row instead of ~90 µs per awaited insert.

A failed transaction fails every push of its group with ``internal_error`` and drops
the in-memory views, which reload from the database on next use: nothing is half
written and nothing is acknowledged that was not stored.

HTTP writes (create space, invites, redeem) run through ``run_exclusive`` in the same
queue, so the writer is the only task that ever writes and its views stay true.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from schemas.errors import ErrorCode
from schemas.ids import SpaceId
from schemas.protocol import Stored
from server._log import logger, short
from server.errors import RelayError
from server.hub import Hub, Subscriber
from server.ingest import NO_QUOTA, Accepted, CheckedEnvelope, Quota, Rejection, SpaceLog
from server.metrics import RelayMetrics
from server.quotas import QuotaBook
from server.store import NewEvent, StaleSpace, Store

T = TypeVar("T")

MAX_GROUP_ENVELOPES = 4096
MAX_GROUP_BYTES = 32 * 1024 * 1024
"""A group stops growing at either bound: they cap the latency and memory of one
transaction (a single push may still exceed them; it is never split)."""

MAX_CACHED_SPACES = 10_000
"""Spaces whose view the writer keeps in memory; the least recently used are dropped."""

PushResult = Accepted | Rejection
PushDone = Callable[[PushResult | RelayError], None]
"""Called with a push's outcome (``Writer.submit_then``); must not block or raise."""


@dataclass(slots=True)
class _PushJob:
    space_id: SpaceId
    envelopes: list[CheckedEnvelope]
    origin: Subscriber | None
    future: asyncio.Future[PushResult] | None
    done: PushDone | None = None


@dataclass(slots=True)
class _ExclusiveJob:
    space_id: SpaceId | None
    op: Callable[[Store], Awaitable[Any]]
    future: asyncio.Future[Any]


class _Stop:
    pass


_Job = _PushJob | _ExclusiveJob | _Stop


def _resolve(future: asyncio.Future[T], result: T | BaseException) -> None:
    # The waiting connection may have gone away; its future is then cancelled.
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def _answer(job: _PushJob, result: PushResult | RelayError) -> None:
    """Answer a push once: resolve its future, or call its ``done`` (then forget it)."""
    done, job.done = job.done, None
    if done is None:
        if job.future is not None:
            _resolve(job.future, result)
        return
    try:
        done(result)
    except Exception:  # a connection's bug must not cost the rest of the group
        logger.exception("answering a push failed")


def _push_size(job: _Job) -> tuple[int, int]:
    if not isinstance(job, _PushJob):
        return 0, 0
    return len(job.envelopes), sum(len(item.canonical) for item in job.envelopes)


class Writer:
    def __init__(
        self,
        store: Store,
        hub: Hub,
        clock_ms: Callable[[], int],
        *,
        quota: Quota = NO_QUOTA,
        metrics: RelayMetrics | None = None,
        quota_book: QuotaBook | None = None,
    ) -> None:
        self._store = store
        self._hub = hub
        self._clock_ms = clock_ms
        self._quota = quota
        self._metrics = metrics
        self._quota_book = quota_book
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._logs: OrderedDict[SpaceId, SpaceLog] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="trellis-writer")

    async def stop(self) -> None:
        """Refuse new work, finish everything already queued (commits and acks), end."""
        if self._task is None or self._closing:
            return
        self._closing = True
        self._queue.put_nowait(_Stop())
        await self._task

    def submit(
        self, space_id: SpaceId, envelopes: list[CheckedEnvelope], origin: Subscriber | None
    ) -> asyncio.Future[PushResult]:
        """Queue a push; the future resolves after COMMIT (or with a RelayError).

        Synchronous on purpose: pushes of one connection are queued in the order its
        frames arrived, so a push may chain on the one before it while both are in
        flight."""
        if self._closing:
            raise RelayError(ErrorCode.SHUTTING_DOWN)
        future: asyncio.Future[PushResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_PushJob(space_id, envelopes, origin, future))
        return future

    def submit_then(
        self,
        space_id: SpaceId,
        envelopes: list[CheckedEnvelope],
        origin: Subscriber | None,
        done: PushDone,
    ) -> None:
        """As ``submit``, but ``done`` is called with the outcome, from the writer task
        right after COMMIT (or with the RelayError), instead of a future being resolved:
        no future, and no turn of the event loop between the commit and the ack."""
        if self._closing:
            raise RelayError(ErrorCode.SHUTTING_DOWN)
        self._queue.put_nowait(_PushJob(space_id, envelopes, origin, None, done))

    async def run_exclusive(
        self, space_id: SpaceId | None, op: Callable[[Store], Awaitable[T]]
    ) -> T:
        """Run a write ``op`` alone in the writer task; then forget the cached view of
        ``space_id`` (if any) so the next push sees what ``op`` changed."""
        if self._closing:
            raise RelayError(ErrorCode.SHUTTING_DOWN)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_ExclusiveJob(space_id, op, future))
        return await future

    # --- the task ------------------------------------------------------------------

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            jobs = [await self._queue.get()]
            envelopes, size = _push_size(jobs[0])
            while (
                not self._queue.empty()
                and envelopes < MAX_GROUP_ENVELOPES
                and size < MAX_GROUP_BYTES
            ):
                job = self._queue.get_nowait()
                jobs.append(job)
                more_envelopes, more_bytes = _push_size(job)
                envelopes += more_envelopes
                size += more_bytes
            group: list[_PushJob] = []
            for job in jobs:
                if isinstance(job, _PushJob):
                    group.append(job)
                    continue
                # Exclusive jobs and the stop marker keep their place in the queue.
                await self._commit_group(group)
                group = []
                if isinstance(job, _Stop):
                    stopping = True
                else:
                    await self._run_exclusive(job)
            await self._commit_group(group)

    async def _run_exclusive(self, job: _ExclusiveJob) -> None:
        try:
            result = await job.op(self._store)
        except Exception as exc:  # the caller (an HTTP handler) maps or reports it
            _resolve(job.future, exc)
        else:
            _resolve(job.future, result)
        finally:
            if job.space_id is not None:
                self._logs.pop(job.space_id, None)

    async def _space_log(self, space_id: SpaceId) -> SpaceLog | None:
        log = self._logs.get(space_id)
        if log is not None:
            self._logs.move_to_end(space_id)
            return log
        snapshot = await self._store.load_space(space_id)
        if snapshot is None:
            return None
        log = SpaceLog.from_snapshot(snapshot)
        self._logs[space_id] = log
        return log

    async def _commit_group(self, jobs: list[_PushJob]) -> None:
        if not jobs:
            return
        try:
            holding = getattr(self._store, "holding", None)
            try:
                answer = await self._decide_and_commit(jobs, recheck_refusals=holding is not None)
            except StaleSpace as stale:
                # Another relay process wrote to one of these spaces since this view was
                # loaded (pg_store.py). Nothing was written or answered, but deciding
                # advanced the views: reload them and decide again, this time holding
                # the spaces locked so that the retry cannot be outrun.
                logger.debug("space %s changed elsewhere; deciding again", short(stale.space_id))
                self._logs.clear()
                if holding is None:
                    raise
                async with holding({job.space_id for job in jobs}):
                    answer = await self._decide_and_commit(jobs, recheck_refusals=False)
                # The held transaction committed on leaving the block, not before: only
                # now may anyone hear of these events (issue #15: a reader on another
                # process was told of seq N by an ack and then did not find it).
            answer()
        except Exception:
            # A database error (or a bug) while deciding or committing: nothing of this
            # group was committed, so fail it all and rebuild the views from disk.
            logger.exception("group commit of %d pushes failed", len(jobs))
            self._logs.clear()
            for job in jobs:
                _answer(job, RelayError(ErrorCode.INTERNAL_ERROR))
        finally:
            while len(self._logs) > MAX_CACHED_SPACES:
                self._logs.popitem(last=False)

    async def _decide_and_commit(
        self, jobs: list[_PushJob], *, recheck_refusals: bool = False
    ) -> Callable[[], None]:
        """Decide every push and write the accepted ones; returns what answers them all
        (acks, refusals, live fan-out), which the caller runs once the write committed.

        On SQLite ``append_events`` commits before it returns. On PostgreSQL, after a
        StaleSpace, the caller holds the spaces locked in one transaction around this
        call (``holding``) and that transaction commits only when the caller leaves it:
        answering in here would acknowledge events no other connection can read yet,
        and that a failing COMMIT could still lose.

        ``recheck_refusals``: with a store that several relay processes share, a view
        may lag behind what another process stored (a device that moved to this
        process after pushing through the other looks like a chain gap). A refusal
        writes nothing, so no commit would notice: before refusing anything, raise
        StaleSpace so the group is decided again on fresh views under the lock."""
        results: list[PushResult | RelayError] = []
        touched: dict[SpaceId, SpaceLog] = {}
        rows: list[NewEvent] = []
        live: dict[SpaceId, list[tuple[Subscriber | None, Stored]]] = {}
        now_ms = self._clock_ms()
        started = time.perf_counter()
        for job in jobs:
            log = await self._space_log(job.space_id)
            if log is None:
                results.append(RelayError(ErrorCode.UNKNOWN_SPACE))
                continue
            needed = log.positions_to_look_up(job.envelopes)
            stored = await self._store.find_positions(job.space_id, needed) if needed else {}
            quota = self._quota
            if self._quota_book is not None:  # per-space quotas and the relay's total
                quota = self._quota_book.for_space(job.space_id, log.bytes, quota)
            decision = log.decide(job.envelopes, stored, quota)
            results.append(decision)
            if isinstance(decision, Rejection) or not decision.new:
                continue
            touched[job.space_id] = log
            out = live.setdefault(job.space_id, [])
            for accepted in decision.new:
                env = accepted.item.envelope
                rows.append(
                    NewEvent(
                        space_id=job.space_id,
                        seq=accepted.seq,
                        event_id=accepted.item.event_id,
                        author=accepted.item.author,
                        author_seq=env.seq,
                        envelope=accepted.item.canonical,
                        received_at_ms=now_ms,
                    )
                )
                out.append((job.origin, Stored(accepted.seq, accepted.item.canonical)))
        if recheck_refusals:
            for job, result in zip(jobs, results, strict=True):
                if isinstance(result, Rejection):
                    raise StaleSpace(job.space_id)
        if rows:
            await self._store.append_events(
                rows, {space_id: log.head for space_id, log in touched.items()}
            )
            logger.debug("committed %d events from %d pushes", len(rows), len(jobs))
            if self._quota_book is not None:
                self._quota_book.added(sum(len(row.envelope) for row in rows))
            if self._metrics is not None:
                self._metrics.commit_seconds.observe(time.perf_counter() - started)
                self._metrics.commit_batch_events.observe(len(rows))
                self._metrics.events_ingested.inc(len(rows))
                self._metrics.bytes_ingested.inc(sum(len(row.envelope) for row in rows))

        def answer() -> None:
            for log in touched.values():
                log.committed()
            # Acks strictly after COMMIT; rejections too, since they were decided
            # against the same not-yet-committed view.
            for job, result in zip(jobs, results, strict=True):
                _answer(job, result)
            for space_id, events in live.items():
                if self._hub.subscriber_count(space_id):
                    self._hub.publish(space_id, events)
                logger.debug("space %s: %d new events", short(space_id), len(events))

        return answer
