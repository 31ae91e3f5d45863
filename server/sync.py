"""``/v1/sync``: the websocket shell around session.SyncSession (docs/PROTOCOL.md §6).

This module holds no protocol rules. It reads frames and feeds them to the session,
performs the actions the session returns (send, close, look up, push, pull), keeps the
clocks (sign-in deadline, idle time), counts connections against their limits, and
sends through one sender task per connection so that slow sockets only ever slow
their own connection.

Two tasks per connection:

* the handler coroutine reads frames in order and performs actions; a push is queued
  to the writer synchronously (so pushes keep their order) once its signatures
  verified (a one-event push on the loop, at once, its ack coming back through a
  callback; larger ones on worker threads, in a small task that awaits verification
  and ack: server/_pushes.py), so several pushes can be in flight (up to
  ``max_inflight_pushes``; beyond that the reader stops reading until an ack comes
  back);
* the sender task sends what had to be queued, ending with the close frame; a frame
  with nothing queued before it goes straight onto the socket where it is produced
  (server/_sender.py), so an ack or a live event leaves in the same turn of the event
  loop as the commit that allowed it.

A timer (``_watch``) ends the read loop from outside when the sign-in deadline
passes, when the connection stays silent for ``idle_timeout_s`` (no frame and no
websocket ping while the relay waits for one), or when the relay drains for shutdown.
Draining stops reading, lets every push already handed to the writer commit and be
acknowledged, then sends ``shutting_down`` and closes with 1001. A frame that was
received but not yet acted on is dropped unanswered: it was never acknowledged, so the
client sends it again after reconnecting.

Any unexpected exception is logged without payload and closes this one connection
with 1011 (internal_error); the relay keeps serving everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from enum import Enum

from litestar import WebSocket, websocket
from litestar.datastructures import State as AppState
from litestar.exceptions import WebSocketDisconnect
from litestar.types import WebSocketSendEvent

from schemas.errors import CLOSE_RATE, ErrorCode
from schemas.ids import SpaceId
from schemas.protocol import Error, Live, Stored, encode_message
from server._limits import address_key
from server._log import connection_id, logger, new_log_id, short
from server._outbox import Outbox
from server._pushes import Pushes
from server._runtime import ACTIVITY_EXTENSION, ClientActivity, Relay
from server._sender import Sender
from server.errors import RelayError
from server.ingest import Rejection
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

LIMIT_OF_FRAME_ERROR: dict[str, str] = {
    ErrorCode.FRAME_TOO_LARGE: "max_frame_bytes",
    ErrorCode.BATCH_TOO_LARGE: "max_batch_envelopes",
    ErrorCode.ENVELOPE_TOO_LARGE: "max_envelope_bytes",
    ErrorCode.RATE_LIMITED: "max_pushes_per_s",
    ErrorCode.QUOTA_EXCEEDED: "space_quota",
    ErrorCode.WRONG_HOST: "public_hosts",
}
"""The limit (setting) behind a refusal of one frame, for trellis_relay_limit_hits_total."""


class _Stop(Enum):
    """Why the watchdog ended the read loop."""

    AUTH_DEADLINE = "auth_timeout_s"
    IDLE = "idle_timeout_s"
    DRAIN = "drain"


def session_limits(relay: Relay) -> SessionLimits:
    settings = relay.settings
    return SessionLimits(
        max_frame_bytes=settings.max_frame_bytes,
        max_batch_envelopes=settings.max_batch_envelopes,
        max_envelope_bytes=settings.max_envelope_bytes,
        max_pushes_per_s=settings.max_pushes_per_s,
        push_burst=settings.push_burst,
        public_hosts=frozenset(settings.public_hosts),
    )


class _Connection:
    """One device's websocket: the Subscriber the hub delivers live events to."""

    def __init__(self, socket: WebSocket[object, object, AppState], relay: Relay) -> None:
        settings = relay.settings
        self._socket = socket
        self._relay = relay
        self._session = SyncSession(
            host=socket.headers.get("host", ""), limits=session_limits(relay)
        )
        self._sender = Sender(Outbox(settings.send_queue_bytes), self._send_frame, self._close)
        self._pushes = Pushes(relay, self, settings.max_inflight_pushes, self._finish_push)
        self._subscribed: SpaceId | None = None
        self._address = address_key(socket.client.host if socket.client else None)
        extension = (socket.scope.get("extensions") or {}).get(ACTIVITY_EXTENSION)
        self._activity = extension if isinstance(extension, ClientActivity) else ClientActivity()
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._auth_deadline = loop.time() + settings.auth_timeout_s
        self._waiting_since: float | None = None
        """Loop time the reader began waiting for the next frame; None while busy."""
        self._stop: _Stop | None = None
        self._interrupt: asyncio.Timeout | None = None
        self._watch_timer: asyncio.TimerHandle | None = None

    # --- the hub's side ------------------------------------------------------------

    def deliver(self, events: list[Stored]) -> None:
        budget = self._relay.settings.max_frame_bytes - FRAME_OVERHEAD_BYTES
        frames = [encode_message(Live(events=run)) for run in split_events(events, budget)]
        if self._sender.put_live(frames):
            return
        logger.warning(
            "closing a connection that reads too slowly (space %s, device %s)",
            short(self._session.space_id or b""),
            short(self._session.device_id or b""),
        )
        self._relay.metrics.limit_hits.inc(label="send_queue_bytes")
        self._unsubscribe()
        self._sender.discard()
        self._apply(
            self._session.fail(
                ErrorCode.RATE_LIMITED,
                "this connection fell too far behind live events; reconnect and pull",
                close_code=CLOSE_RATE,
            )
        )

    # --- the relay's side ----------------------------------------------------------

    def drain(self) -> None:
        self._end_reading(_Stop.DRAIN)

    # --- revocation (hub.revoke) ------------------------------------------------------

    @property
    def device_id(self) -> bytes | None:
        return self._session.device_id

    def device_revoked(self) -> None:
        """This device was revoked while connected: say so and close at once; whatever
        it pushes from now on is refused by the writer (docs/PROTOCOL.md §7.8)."""
        self._unsubscribe()
        self._sender.discard()
        self._apply(self._session.fail(ErrorCode.DEVICE_REVOKED))

    # --- lifecycle -----------------------------------------------------------------

    async def run(self) -> None:
        connection_id.set(new_log_id())
        relay = self._relay
        if relay.connections.unauthenticated_full():
            # Stalled sign-ins cannot pile up (docs/THREAT_MODEL.md §20): refuse at once.
            relay.metrics.limit_hits.inc(label="max_unauthenticated_connections")
            await self._refuse(
                ErrorCode.RATE_LIMITED,
                "the relay is busy with too many connections that have not signed in; "
                "try again shortly",
                CLOSE_RATE,
            )
            return
        if not relay.connections.open(self, self._address):
            relay.metrics.limit_hits.inc(label="max_connections_per_address")
            await self._refuse(
                ErrorCode.RATE_LIMITED,
                "too many connections from this address; close some and try again",
                CLOSE_RATE,
            )
            return
        try:
            await self._serve()
        finally:
            relay.connections.close(self)

    async def _refuse(self, code: ErrorCode, detail: str, close_code: int | None = None) -> None:
        """Accept only to say why not, then close (a typed error beats a bare 403)."""
        await self._socket.accept()
        self._apply(self._session.fail(code, detail, close_code=close_code))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._sender.run(), CLOSE_FLUSH_TIMEOUT_S)

    async def _serve(self) -> None:
        if self._relay.lifecycle.draining:
            await self._refuse(ErrorCode.SHUTTING_DOWN, "the relay is shutting down")
            return
        await self._socket.accept()
        logger.debug("sync connection opened")
        sender = asyncio.create_task(self._sender.run())
        self._schedule_watch(self._loop.time())
        try:
            await self._read_until_done()
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
            if self._watch_timer is not None:
                self._watch_timer.cancel()
            self._unsubscribe()
            self._pushes.end()
            if self._sender.closed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(sender), CLOSE_FLUSH_TIMEOUT_S)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            logger.debug("sync connection closed")

    async def _read_until_done(self) -> None:
        while True:
            try:
                async with asyncio.timeout(None) as interrupt:
                    self._interrupt = interrupt
                    if self._stop is not None:  # asked to stop before we got here
                        interrupt.reschedule(self._loop.time())
                    await self._read_loop()
                return
            except TimeoutError:
                if self._stop is None:
                    raise
            finally:
                self._interrupt = None
            if await self._stopped(self._stop):
                return
            self._stop = None
            self._schedule_watch(self._loop.time())

    async def _stopped(self, reason: _Stop) -> bool:
        """Act on why reading was interrupted; False to go on reading."""
        metrics = self._relay.metrics
        match reason:
            case _Stop.AUTH_DEADLINE:
                actions = self._session.auth_timed_out()
                if not actions:
                    return False  # signed in just as the deadline passed
                metrics.limit_hits.inc(label=reason.value)
                self._apply(actions)
            case _Stop.IDLE:
                metrics.limit_hits.inc(label=reason.value)
                self._apply(self._session.fail(ErrorCode.IDLE_TIMEOUT))
            case _Stop.DRAIN:
                # Pushes the writer already holds commit and are acknowledged first.
                await self._pushes.settled()
                self._apply(self._session.fail(ErrorCode.SHUTTING_DOWN))
        return True

    async def _read_loop(self) -> None:
        while not self._sender.closed:
            self._waiting_since = self._loop.time()
            try:
                message = await self._socket.receive()
            except WebSocketDisconnect:
                return
            finally:
                self._waiting_since = None
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if isinstance(data, bytes):
                actions = self._session.receive_bytes(data)
            else:
                text = message.get("text")
                actions = self._session.receive_text(text if isinstance(text, str) else "")
            self._count_refusals(actions)
            await self._perform(actions)

    async def _send_frame(self, frame: bytes) -> None:
        event: WebSocketSendEvent = {"type": "websocket.send", "bytes": frame, "text": None}
        await self._socket.send(event)

    async def _close(self, code: int) -> None:
        await self._socket.close(code=code)

    def _unsubscribe(self) -> None:
        if self._subscribed is not None:
            self._relay.hub.unsubscribe(self._subscribed, self)
            self._subscribed = None

    # --- clocks ----------------------------------------------------------------------

    def _end_reading(self, reason: _Stop) -> None:
        if self._stop is not None or self._sender.closed:
            return
        self._stop = reason
        interrupt = self._interrupt
        if interrupt is not None and not interrupt.expired():
            interrupt.reschedule(self._loop.time())

    def _schedule_watch(self, when: float) -> None:
        if self._watch_timer is not None:
            self._watch_timer.cancel()
        self._watch_timer = self._loop.call_at(when, self._watch)

    def _watch(self) -> None:
        """Enforce the sign-in deadline and the idle limit; reschedule itself."""
        self._watch_timer = None
        if self._sender.closed:
            return
        now = self._loop.time()
        wake = math.inf
        if self._subscribed is None:
            if now >= self._auth_deadline:
                self._end_reading(_Stop.AUTH_DEADLINE)
                return
            wake = self._auth_deadline
        idle_s = self._relay.settings.idle_timeout_s
        if idle_s:
            waiting_since = self._waiting_since
            if waiting_since is None:
                wake = min(wake, now + idle_s)  # busy: the client is not the silent one
            else:
                last_heard = max(waiting_since, self._activity.last_ping_at)
                if now - last_heard >= idle_s:
                    self._end_reading(_Stop.IDLE)
                    return
                wake = min(wake, last_heard + idle_s)
        if wake != math.inf:
            self._schedule_watch(wake)

    # --- performing the session's actions --------------------------------------------

    def _count_refusals(self, actions: list[Action]) -> None:
        """A frame answered with an Error was refused (trellis_relay_rejected_frames)."""
        metrics = self._relay.metrics
        for action in actions:
            if isinstance(action, Send) and isinstance(action.message, Error):
                code = action.message.code
                metrics.rejected_frames.inc(label=code)
                if code in LIMIT_OF_FRAME_ERROR:
                    metrics.limit_hits.inc(label=LIMIT_OF_FRAME_ERROR[code])

    def _apply(self, actions: list[Action]) -> None:
        """Perform actions that need no waiting: sends and closes."""
        for action in actions:
            match action:
                case Send(message):
                    if isinstance(message, Error):
                        self._relay.metrics.errors.inc(label=message.code)
                    self._sender.put(encode_message(message))
                case Close(code):
                    self._sender.close(code)
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
                    found = await relay.store.device_group(space_id, device_id)
                    member = None if found is None else found[1]
                    if not relay.connections.sign_in(self, space_id, device_id, member):
                        relay.metrics.limit_hits.inc(label="max_connections_per_space")
                        self._apply(
                            self._session.fail(
                                ErrorCode.RATE_LIMITED,
                                "your devices hold their share of this space's connections "
                                "at this relay; close some and try again",
                                close_code=CLOSE_RATE,
                            )
                        )
                        return
                    # Subscribe first, then read the head: whatever commits in between
                    # arrives live (maybe twice, which clients dedupe by event id).
                    relay.sign_ins.record(space_id, device_id, relay.clock_ms())
                    relay.hub.subscribe(space_id, self)
                    self._subscribed = space_id
                    head = await relay.store.head(space_id)
                    await self._perform(self._session.started(head or 0))
                    self._sender.release_live()
                    logger.info(
                        "device %s signed in to space %s", short(device_id), short(space_id)
                    )
                case SubmitPush(space_id, req, envelopes):
                    await self._pushes.submit(space_id, req, envelopes)
                case FetchPage(space_id, req, after, limit, max_bytes):
                    page = await relay.store.events_after(space_id, after, limit, max_bytes)
                    self._apply(self._session.page_fetched(req, page))

    def _finish_push(self, req: int, outcome: PushResult | RelayError | Rejection) -> None:
        actions = self._session.push_finished(req, outcome)
        self._count_refusals(actions)
        self._apply(actions)


@websocket(SYNC_PATH, name="sync")
async def sync_handler(socket: WebSocket[object, object, AppState]) -> None:
    """Sync one device's log in one space: binary msgpack frames, see PROTOCOL.md §6."""
    relay: Relay = socket.app.state.relay
    await _Connection(socket, relay).run()
