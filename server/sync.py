"""``/v1/sync``: the websocket shell around session.SyncSession (docs/PROTOCOL.md §6).

This module holds no protocol rules. It reads frames and feeds them to the session,
performs the actions the session returns (send, close, look up, push, pull), keeps the
sign-in deadline, and sends through one sender task per connection so that slow
sockets only ever slow their own connection.

Two tasks per connection:

* the handler coroutine reads frames in order and performs actions; a push is queued
  to the writer synchronously (so pushes keep their order) and its ack awaited in a
  small task, so several pushes can be in flight (up to ``max_inflight_pushes``;
  beyond that the reader stops reading until an ack comes back);
* the sender drains the Outbox onto the socket, ending with the close frame.

Any unexpected exception is logged without payload and closes this one connection
with 1011 (internal_error); the relay keeps serving everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib

from litestar import WebSocket, websocket
from litestar.datastructures import State as AppState
from litestar.exceptions import WebSocketDisconnect
from litestar.types import WebSocketSendEvent

from schemas.errors import CLOSE_RATE, ErrorCode
from schemas.ids import SpaceId
from schemas.protocol import Live, Stored, encode_message
from server._log import logger, short
from server._outbox import CloseFrame, Outbox
from server._runtime import Relay
from server.errors import RelayError
from server.ingest import CheckedEnvelope
from server.session import (
    Action,
    Close,
    FetchPage,
    LookUpDevice,
    Send,
    SessionLimits,
    StartSync,
    SubmitPush,
    SyncSession,
    split_events,
)
from server.settings import FRAME_OVERHEAD_BYTES
from server.writer import PushResult

SYNC_PATH = "/v1/sync"
CLOSE_FLUSH_TIMEOUT_S = 5.0
"""How long the final Error and close frame may take to go out before we give up."""


class _Connection:
    """One device's websocket: the Subscriber the hub delivers live events to."""

    def __init__(self, socket: WebSocket[object, object, AppState], relay: Relay) -> None:
        settings = relay.settings
        self._socket = socket
        self._relay = relay
        self._session = SyncSession(
            host=socket.headers.get("host", ""),
            limits=SessionLimits(
                max_frame_bytes=settings.max_frame_bytes,
                max_batch_envelopes=settings.max_batch_envelopes,
                max_envelope_bytes=settings.max_envelope_bytes,
            ),
        )
        self._outbox = Outbox(settings.send_queue_bytes)
        self._inflight = asyncio.Semaphore(settings.max_inflight_pushes)
        self._push_waits: set[asyncio.Task[None]] = set()
        self._subscribed: SpaceId | None = None

    # --- the hub's side ------------------------------------------------------------

    def deliver(self, events: list[Stored]) -> None:
        budget = self._relay.settings.max_frame_bytes - FRAME_OVERHEAD_BYTES
        frames = [encode_message(Live(events=run)) for run in split_events(events, budget)]
        if self._outbox.put_live(frames):
            return
        logger.warning(
            "closing a connection that reads too slowly (space %s, device %s)",
            short(self._session.space_id or b""),
            short(self._session.device_id or b""),
        )
        self._unsubscribe()
        self._outbox.discard()
        self._apply(
            self._session.fail(
                ErrorCode.RATE_LIMITED,
                "this connection fell too far behind live events; reconnect and pull",
                close_code=CLOSE_RATE,
            )
        )

    # --- lifecycle -----------------------------------------------------------------

    async def run(self) -> None:
        await self._socket.accept()
        sender = asyncio.create_task(self._send_loop())
        try:
            await self._read_loop()
        except Exception:
            # The outermost I/O layer: a bug or a failing disk must cost this one
            # connection, never the relay. Log without frame contents.
            logger.exception(
                "sync connection failed (space %s, device %s)",
                short(self._session.space_id or b""),
                short(self._session.device_id or b""),
            )
            self._apply(self._session.fail(ErrorCode.INTERNAL_ERROR))
        finally:
            self._unsubscribe()
            for task in list(self._push_waits):
                task.cancel()
            if self._outbox.closed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(sender), CLOSE_FLUSH_TIMEOUT_S)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._relay.settings.auth_timeout_s
        while not self._outbox.closed:
            try:
                if self._subscribed is None:
                    async with asyncio.timeout_at(deadline):
                        message = await self._socket.receive()
                else:
                    message = await self._socket.receive()
            except TimeoutError:
                # Only sign-in has a deadline; past it the connection ends either way.
                self._apply(self._session.auth_timed_out())
                return
            except WebSocketDisconnect:
                return
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if isinstance(data, bytes):
                await self._perform(self._session.receive_bytes(data))
            else:
                text = message.get("text")
                await self._perform(
                    self._session.receive_text(text if isinstance(text, str) else "")
                )

    async def _send_loop(self) -> None:
        while True:
            item = await self._outbox.get()
            try:
                if isinstance(item, CloseFrame):
                    await self._socket.close(code=item.code)
                    return
                event: WebSocketSendEvent = {"type": "websocket.send", "bytes": item, "text": None}
                await self._socket.send(event)
            except (WebSocketDisconnect, OSError):
                # The peer is gone (uvicorn raises ClientDisconnected, an OSError);
                # the reader sees the disconnect and ends the connection.
                return

    def _unsubscribe(self) -> None:
        if self._subscribed is not None:
            self._relay.hub.unsubscribe(self._subscribed, self)
            self._subscribed = None

    # --- performing the session's actions --------------------------------------------

    def _apply(self, actions: list[Action]) -> None:
        """Perform actions that need no waiting: sends and closes."""
        for action in actions:
            match action:
                case Send(message):
                    self._outbox.put(encode_message(message))
                case Close(code):
                    self._outbox.close(code)
                case _:
                    raise RuntimeError(f"{type(action).__name__} cannot be applied synchronously")

    async def _perform(self, actions: list[Action]) -> None:
        relay = self._relay
        for action in actions:
            match action:
                case Send() | Close():
                    self._apply([action])
                case LookUpDevice(space_id, device_id):
                    membership = await relay.store.membership(space_id, device_id)
                    await self._perform(self._session.device_checked(membership))
                case StartSync(space_id, device_id):
                    # Subscribe first, then read the head: whatever commits in between
                    # arrives live (maybe twice, which clients dedupe by event id).
                    relay.hub.subscribe(space_id, self)
                    self._subscribed = space_id
                    head = await relay.store.head(space_id)
                    await self._perform(self._session.started(head or 0))
                    self._outbox.release_live()
                    logger.info(
                        "device %s signed in to space %s", short(device_id), short(space_id)
                    )
                case SubmitPush(space_id, req, envelopes):
                    await self._submit(space_id, req, envelopes)
                case FetchPage(space_id, req, after, limit, max_bytes):
                    page = await relay.store.events_after(space_id, after, limit, max_bytes)
                    self._apply(self._session.page_fetched(req, page))

    async def _submit(self, space_id: SpaceId, req: int, envelopes: list[CheckedEnvelope]) -> None:
        # Backpressure: with max_inflight_pushes unacknowledged, stop reading frames.
        await self._inflight.acquire()
        try:
            future = self._relay.writer.submit(space_id, envelopes, self)
        except RelayError as exc:
            self._inflight.release()
            self._apply(self._session.push_finished(req, exc))
            return
        task = asyncio.create_task(self._await_ack(req, future))
        self._push_waits.add(task)
        task.add_done_callback(self._push_waits.discard)

    async def _await_ack(self, req: int, future: asyncio.Future[PushResult]) -> None:
        try:
            outcome: PushResult | RelayError = await future
        except RelayError as exc:
            outcome = exc
        finally:
            self._inflight.release()
        self._apply(self._session.push_finished(req, outcome))


@websocket(SYNC_PATH, name="sync")
async def sync_handler(socket: WebSocket[object, object, AppState]) -> None:
    """Sync one device's log in one space: binary msgpack frames, see PROTOCOL.md §6."""
    relay: Relay = socket.app.state.relay
    await _Connection(socket, relay).run()
