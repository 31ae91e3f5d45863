"""One connection's pushes on their way to the writer and back (split from sync.py).

A push is queued to the writer synchronously, in the order its frames arrived, once
its signatures verified: a one-event push verified on the loop goes at once, and the
writer calls back right after COMMIT (``submit_then``: no task, no future); a larger
one is verified on the worker threads (server/verification.py) in a small task that
waits for verification and for the previous push of the connection to be queued, then
for its ack. At most ``max_inflight`` pushes are unanswered: beyond that ``submit``
waits, and the reader stops reading frames until an ack comes back.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

from schemas.ids import SpaceId
from server._runtime import Relay
from server.errors import RelayError
from server.hub import Subscriber
from server.ingest import CheckedEnvelope, Rejection, first_bad_signature, signature_items
from server.writer import PushResult

Outcome = PushResult | RelayError | Rejection
Finish = Callable[[int, Outcome], None]
"""Answers push ``req`` on the connection (Acked, or an Error)."""


class Pushes:
    def __init__(self, relay: Relay, origin: Subscriber, max_inflight: int, finish: Finish) -> None:
        self._relay = relay
        self._origin = origin
        self._finish = finish
        self._loop = asyncio.get_running_loop()
        self._free_slots = max_inflight
        """Pushes that may still be sent before an ack comes back."""
        self._slot_freed: asyncio.Future[None] | None = None
        self._waits: set[asyncio.Task[None]] = set()
        """Tasks of pushes verified on the worker threads."""
        self._awaiting_acks = 0
        """Pushes verified inline that the writer has not answered yet."""
        self._all_acked: asyncio.Future[None] | None = None
        self._ended = False
        self._last_handed: asyncio.Future[None] | None = None
        """Set once this connection's latest push went to the writer (or was refused)."""

    async def submit(self, space_id: SpaceId, req: int, envelopes: list[CheckedEnvelope]) -> None:
        # Backpressure: with max_inflight_pushes unacknowledged, stop reading frames.
        while not self._free_slots:
            self._slot_freed = self._loop.create_future()
            await self._slot_freed
        self._free_slots -= 1
        items = signature_items(envelopes)
        previous = self._last_handed
        if previous is None or previous.done():
            # Nothing of this connection is still on its way to the writer, so a small
            # push verified right here may go straight to it and keep its place.
            results = self._relay.verifier.verify_inline(items)
            if results is not None:
                self._last_handed = None
                self._write_now(space_id, req, envelopes, first_bad_signature(results))
                return
        # Verification starts now, beside the loop (server/verification.py); the writer
        # gets this push only after it verified AND after the previous push of this
        # connection went to the writer, so pushes keep their order.
        verified = asyncio.ensure_future(self._relay.verifier.verify(items))
        handed: asyncio.Future[None] = self._loop.create_future()
        previous, self._last_handed = self._last_handed, handed
        task = asyncio.create_task(
            self._verify_and_write(space_id, req, envelopes, verified, previous, handed)
        )
        self._waits.add(task)
        task.add_done_callback(self._waits.discard)

    async def settled(self) -> None:
        """Wait until every push already handed to the writer is answered (draining)."""
        if self._waits:
            await asyncio.gather(*self._waits, return_exceptions=True)
        if self._awaiting_acks:
            self._all_acked = self._loop.create_future()
            await self._all_acked

    def end(self) -> None:
        """The connection ended: answers still to come are dropped."""
        self._ended = True
        for task in list(self._waits):
            task.cancel()

    async def _verify_and_write(
        self,
        space_id: SpaceId,
        req: int,
        envelopes: list[CheckedEnvelope],
        verified: asyncio.Future[list[bool]],
        previous: asyncio.Future[None] | None,
        handed: asyncio.Future[None],
    ) -> None:
        try:
            try:
                results = await verified
                if previous is not None:
                    await previous
                outcome: Outcome | None = first_bad_signature(results)
                if outcome is None:
                    ack = self._relay.writer.submit(space_id, envelopes, self._origin)
                    handed.set_result(None)  # queued: the next push may follow at once
                    outcome = await ack
            except RelayError as exc:
                outcome = exc
            finally:
                if not handed.done():
                    handed.set_result(None)
        finally:
            self._release_slot()
        self._finish(req, outcome)

    def _write_now(
        self,
        space_id: SpaceId,
        req: int,
        envelopes: list[CheckedEnvelope],
        rejection: Rejection | None,
    ) -> None:
        """Hand a push verified on the loop to the writer at once; the writer calls
        ``_acked`` right after COMMIT (the cheap path for small pushes: no task, no
        future, no turn of the loop between the commit and the ack)."""
        if rejection is not None:
            self._release_slot()
            self._finish(req, rejection)
            return
        try:
            self._relay.writer.submit_then(
                space_id, envelopes, self._origin, functools.partial(self._acked, req)
            )
        except RelayError as exc:
            self._release_slot()
            self._finish(req, exc)
            return
        self._awaiting_acks += 1

    def _acked(self, req: int, outcome: PushResult | RelayError) -> None:
        self._awaiting_acks -= 1
        self._release_slot()
        if self._ended:
            return  # the connection ended first
        self._finish(req, outcome)
        waiter = self._all_acked
        if not self._awaiting_acks and waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _release_slot(self) -> None:
        self._free_slots += 1
        waiter = self._slot_freed
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
