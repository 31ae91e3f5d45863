"""What the running app holds: the open :class:`~client.space.Space` (or none while
locked), its one sync session, the live-update listeners and the idle lock.

One person uses the app on their own computer, so there is one state per process.
Locking closes the Space and drops every reference to it: the device keys it unsealed
leave the app's memory (as far as Python lets them: nothing here copies them), and the
passphrase is needed again (docs/THREAT_MODEL.md "The local app").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from client.app import views_cache
from client.app.security import Access
from client.core.refusals import AfterRefusal, after_refusal
from client.core.verify import VerifiedEvent
from client.errors import ClientErrorCode, RelayRefused, TrellisError
from client.space import Space
from client.store.localstore import DB_FILE_NAME
from client.views.present import Delivery, plain_error, refusal_sentence
from schemas.practices import SignalCleared, SignalSent

logger = logging.getLogger(__name__)

IDLE_LOCK_DEFAULT_S = 5 * 60
"""The idle lock's default: five minutes without a click or a key."""
ALIVE_EVERY_MAX_S = 30.0
"""How often, at most, an open page tells the app someone is typing in it (a keep-alive
that the idle lock counts as activity): at most once per 30 s, more often only when the
idle lock is shorter than two minutes (:meth:`AppState.alive_every_s`)."""
IDLE_LOCK_CHOICES_S = (60, 2 * 60, 5 * 60, 10 * 60, 15 * 60, 30 * 60)
"""What Settings offers (a longer lock leaves the space open on an unattended screen)."""
META_IDLE_LOCK = "app_idle_lock_s"
"""Where this device keeps its chosen idle-lock time (the local store's settings)."""
DELIVER_WAIT_S = 5.0
"""How long a write waits for the relay's acknowledgement before it says "not yet"."""
RESTART_FIRST_S = 0.5
RESTART_MAX_S = 30.0
"""Pauses before the app starts a new sync session after one ended."""
_REMOVED = frozenset({ClientErrorCode.DEVICE_REMOVED, "device_revoked"})
"""Codes after which this device never syncs again: it left, or was removed (the
client's own code, and the relay's)."""
SYNC_RETRYING = "Trellis keeps trying; what you write stays on this device until it is sent."
"""Said after why a live session ended: nothing needs doing for it to start again."""
SYNC_STOPPED = (
    "Live sync has stopped: trying again will not change the relay's answer. What you "
    "write stays on this device, marked not delivered."
)
"""Said after a refusal no new session changes (a removed device, §9.14)."""
SYNC_FAULT = (
    "Live sync stopped because of a problem in this app. Trellis keeps trying; what you "
    "write stays on this device until it is sent. If this stays, lock and unlock the app."
)
"""Shown when a session ended with an error of this app rather than the relay's word
(its text is not shown: an exception's text could quote what was written)."""
LIVE_HEARTBEAT_S = 20.0
"""A comment on the live stream this often, so a dead connection is noticed."""


class Locked(Exception):
    """The page needs the open space, and it is locked (or there is none yet)."""


@dataclass(frozen=True)
class Flash:
    """One sentence shown once on the next page: what a form did, or why it did not."""

    text: str
    problem: bool = False


class Live:
    """Fan-out to the open pages' live streams (server-sent events, /events)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str]] = set()

    def publish(self, kind: str) -> None:
        """``change`` (something new to show), ``signal``, ``locked``, or ``exit``
        (quick exit: every open page leaves for the neutral page)."""
        for queue in self._queues:
            queue.put_nowait(kind)

    @property
    def listeners(self) -> int:
        return len(self._queues)

    async def stream(self, is_open: Callable[[], bool]) -> AsyncIterator[str | None]:
        """Each kind as it comes; None for a heartbeat; ends after ``locked``."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._queues.add(queue)
        try:
            if not is_open():
                yield "locked"
                return
            while True:
                try:
                    kind = await asyncio.wait_for(queue.get(), LIVE_HEARTBEAT_S)
                except TimeoutError:
                    yield None
                    continue
                yield kind
                if kind in ("locked", "exit"):
                    return
        finally:
            self._queues.discard(queue)


@dataclass
class AppState:
    """The app's one state; screens reach it as the ``app`` dependency."""

    home: Path
    access: Access
    idle_lock_s: float = IDLE_LOCK_DEFAULT_S
    space: Space | None = None
    live: Live = field(default_factory=Live)
    flashes: list[Flash] = field(default_factory=list)
    sync_problem: str | None = None
    """Why live sync stopped, in plain words; None while it runs or retries."""
    sync_refusal: str | None = None
    """The relay's code for the push it refused last, until a session is live again:
    a form says that reason rather than "cannot be reached" (docs/PROTOCOL.md §9.14)."""
    sync_stopped: bool = False
    """The relay refused this device for good (removed): no new session is started."""
    invite: tuple[str, str, float] | None = None
    """The invite code made last (kind, code, hours), shown on Pairing until it is put
    away or the app locks; never in a URL."""
    last_activity: float = field(default_factory=time.monotonic)
    _sync_task: asyncio.Task[None] | None = None
    _idle_task: asyncio.Task[None] | None = None

    @property
    def current_csrf(self) -> str:
        return self.access.csrf

    # -- the space --------------------------------------------------------------------

    @property
    def has_space(self) -> bool:
        """Whether this device holds a space (locked or not)."""
        return (self.home / DB_FILE_NAME).exists()

    def require(self) -> Space:
        """The open space, or :class:`Locked`."""
        if self.space is None:
            raise Locked
        return self.space

    async def unlock(self, passphrase: str) -> None:
        """Open the space with ``passphrase`` (rate-limited in client/space/devices.py)."""
        await self.adopt(await Space.open(self.home, passphrase=passphrase))

    async def adopt(self, space: Space) -> None:
        """Use ``space`` (just opened, created or joined) and start live sync."""
        if self.space is not None:
            await space.close()
            return
        stored = await space.get_local(META_IDLE_LOCK)
        if stored is not None and stored.decode().isdigit():
            self.idle_lock_s = int(stored.decode())
        self.space = space
        self.sync_problem, self.sync_refusal, self.sync_stopped = None, None, False
        self.touch()
        self._sync_task = asyncio.create_task(self._watch(space))
        self.live.publish("change")

    @contextlib.asynccontextmanager
    async def sync_paused(self) -> AsyncIterator[Space]:
        """The open space with live sync stopped, restarted after: for the flows that
        run a sync session of their own (invite, leave, revoke, moving relay), since a
        device keeps one session with the relay at a time."""
        space = self.require()
        task, self._sync_task = self._sync_task, None
        if task is not None:
            await _cancelled(task)
        try:
            yield space
        finally:
            if self.space is space and self._sync_task is None:
                self._sync_task = asyncio.create_task(self._watch(space))

    async def lock(self, *, quick_exit: bool = False) -> None:
        """Close the space: stop syncing, close the store, drop the keys. The open pages
        are told ``locked``, or ``exit`` for a quick exit."""
        space, task = self.space, self._sync_task
        self.space, self._sync_task = None, None
        try:
            if task is not None:
                await _cancelled(task)
        finally:  # closed even when the locker is cancelled meanwhile (the app stopping)
            if space is not None:
                views_cache.forget(space)  # the folded views hold decrypted text
                await space.close()
            self.flashes.clear()  # a flash may quote what was written
            self.invite = None
            self.live.publish("exit" if quick_exit else "locked")

    async def set_idle_lock(self, seconds: int) -> None:
        space = self.require()
        await space.put_local({META_IDLE_LOCK: str(seconds).encode()})
        self.idle_lock_s = seconds

    # -- activity and the idle lock --------------------------------------------------------

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    @property
    def alive_every_s(self) -> float:
        """The page script's keep-alive period while someone types: a quarter of the
        idle lock, at most :data:`ALIVE_EVERY_MAX_S`, so typing always outruns the lock."""
        return min(ALIVE_EVERY_MAX_S, self.idle_lock_s / 4)

    def start(self) -> None:
        """Start the idle watcher (from the app's lifespan)."""
        self._idle_task = asyncio.create_task(self._idle_watch())

    async def stop(self) -> None:
        if self._idle_task is not None:
            await _cancelled(self._idle_task)
        await self.lock()

    async def _idle_watch(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_lock_s / 4))
            idle = time.monotonic() - self.last_activity
            if self.space is not None and idle >= self.idle_lock_s:
                await self.lock()

    # -- live sync -----------------------------------------------------------------------

    async def _watch(self, space: Space) -> None:
        """One sync session at a time for as long as the space is open: the partner's
        events arrive live and this device's writes are pushed at once. Passing failures
        are retried inside ``sync``; when a session ends anyway (a refusal ``sync`` does
        not retry, or a fault of this app), the problem is said on every page and a new
        session starts after a growing pause, so "sent as soon as the relay can be
        reached" stays true. The problem is cleared once a session is live again."""

        def arrived(event: VerifiedEvent) -> None:
            self.sync_problem = None  # a session is delivering again
            signal = isinstance(event.payload, SignalSent | SignalCleared)
            self.live.publish("signal" if signal else "change")

        pause = RESTART_FIRST_S
        while self.space is space:
            live = asyncio.Event()
            clearing = asyncio.create_task(self._clear_problem_when(live))
            after = AfterRefusal.RETRY
            try:
                await space.sync(watch=True, on_event=arrived, connected=live)
            except RelayRefused as exc:
                # The relay's own reason, in the words the CLI uses (one table), and what
                # follows it: a retry, giving back what it lost, or no more pushing.
                self.sync_refusal = exc.code
                after = after_refusal(exc.code)
                if after is AfterRefusal.RESEED:
                    after = await self._give_back(space)
                self.sync_problem = _refusal_problem(exc, after, self.sync_refusal)
            except TrellisError as exc:
                if exc.code in _REMOVED:  # for good: no session again (THREAT_MODEL §16.2)
                    self.sync_problem = plain_error(exc.message)
                    self.sync_stopped = True
                    self.live.publish("change")
                    return
                self.sync_problem = f"{plain_error(exc.message)} {SYNC_RETRYING}"
            except Exception as exc:  # a fault of this app: said plainly, tried again
                logger.warning("the live sync session failed (%s)", type(exc).__name__)
                self.sync_problem = SYNC_FAULT
            finally:
                clearing.cancel()
                await asyncio.wait([clearing])  # ended before the next session starts
            self.live.publish("change")
            if after is AfterRefusal.STOP:
                # No new session changes the relay's answer; what is written stays here,
                # marked not delivered, and the reason stays on every page.
                self.sync_stopped = True
                return
            # A session that was live starts the pauses over; one refused at once waits longer.
            pause = RESTART_FIRST_S if live.is_set() else pause
            await asyncio.sleep(pause)
            pause = min(pause * 2, RESTART_MAX_S)

    async def _give_back(self, space: Space) -> AfterRefusal:
        """The relay lost this device's earlier events (chain_gap): give it this device's
        whole copy (docs/PROTOCOL.md §9.7, §9.14). What follows: a new session, or
        stopping when the relay refused part of the copy for good."""
        try:
            report = await space.reseed()
        except TrellisError:
            return AfterRefusal.RETRY  # said as the refusal; the next session tries again
        for refusal in report.refusals:
            if after_refusal(refusal.code) is AfterRefusal.STOP:
                self.sync_refusal = refusal.code
                return AfterRefusal.STOP
        if report.refusals:
            return AfterRefusal.RETRY
        self.sync_refusal = None
        return AfterRefusal.RESEED

    async def _clear_problem_when(self, live: asyncio.Event) -> None:
        """Clear the problem shown once the new session has signed in and caught up."""
        await live.wait()
        self.sync_refusal = None
        if self.sync_problem is not None:
            self.sync_problem = None
            self.live.publish("change")

    async def delivered(self, space: Space) -> Delivery:
        """Whether what was just saved reached the relay (its outbox emptied) within
        :data:`DELIVER_WAIT_S`; the live session pushes it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DELIVER_WAIT_S
        while (await space.outbox_size()) > 0:
            if self.sync_stopped or loop.time() >= deadline:
                if self.sync_refusal is not None:  # the relay's own reason (§9.14)
                    return Delivery(
                        delivered=False, reason=self.sync_refusal, final=self.sync_stopped
                    )
                reason = "relay_unreachable" if self.sync_problem is None else "push_refused"
                return Delivery(delivered=False, reason=reason)
            await asyncio.sleep(0.05)
        return Delivery(delivered=True)

    # -- flashes -----------------------------------------------------------------------

    def flash(self, text: str, *, problem: bool = False) -> None:
        self.flashes.append(Flash(text, problem))

    def take_flashes(self) -> list[Flash]:
        out, self.flashes = self.flashes, []
        return out


def _refusal_problem(exc: RelayRefused, after: AfterRefusal, code: str | None) -> str:
    """What every page says after a refusal: the relay's reason, then what happens.
    ``code``: the refusal that decided it (a re-seed's own, when it met one)."""
    if after is AfterRefusal.RESEED:
        return "The relay had lost some of this device's events; Trellis gave them back to it."
    # The exception's words: refusal_sentence's for a refused push (client/space/syncing.py),
    # the relay's own table's for a refused session, as the CLI prints them.
    said = plain_error(exc.message)
    if code is not None and code != exc.code:
        said = refusal_sentence(code)
    if after is AfterRefusal.STOP:
        return f"{said} {SYNC_STOPPED}"
    return f"{said} {SYNC_RETRYING}"


async def _cancelled(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait until it has ended, without taking on its outcome.

    Why not ``suppress(CancelledError): await task``: when the caller itself is cancelled
    while it waits (the idle watcher is stopped while its own idle lock is stopping the
    sync session), that would swallow the caller's cancellation too, and whoever cancelled
    it would wait forever. ``asyncio.wait`` never raises the task's outcome but still
    raises the caller's own cancellation."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        logger.warning("a background task ended with %s", type(task.exception()).__name__)
