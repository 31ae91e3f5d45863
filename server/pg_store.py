"""The PostgreSQL Store, for relays that outgrow one machine (docs/OPERATIONS.md,
"More than one machine").

Through asyncpg, with a connection pool. Several relay processes may serve the same
database; each keeps its own writer task (writer.py) with its own in-memory view of the
spaces it serves, so this store guards every write against views that another process
made stale:

* **Per-space order.** A space's row is locked ``FOR UPDATE`` at the start of every
  transaction that writes to the space. The relay seqs of a push are its writer's
  ``head + 1 ...``, and ``append_events`` first checks, under that lock, that the
  space's head (and its membership ``epoch``) is still what the writer's view was
  built from; if not it raises ``StaleSpace`` and the writer reloads and decides again.
  So seqs are assigned and committed one transaction at a time per space: seq N+1
  commits after seq N did, and a reader at cursor N can never miss an event that
  commits later with a number at or below N (the trap of a global sequence with
  concurrent writers, where 11 can commit before 10).
* **Membership.** Every membership change (join, revocation, leaving) takes the same
  lock and bumps ``spaces.epoch``, so a push decided against a view in which a device
  was still active cannot commit after its revocation: it retries and is refused.
* **Fan-out.** Each committing transaction sends ``NOTIFY trellis_events`` (delivered at
  commit, in commit order); revocations send ``trellis_revoke``. ``listen`` hands them to
  the app, which reads the new events and delivers them to its own connections
  (app.py). No polling.

Group commit as on SQLite: one transaction per writer group, acknowledged after COMMIT.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import asyncpg

from schemas.envelope import event_id_of
from schemas.ids import DeviceId, InviteId, SpaceId
from server._log import logger
from server._pg_membership import (
    Conn,
    active_group,
    lock_space,
    redeem_in_transaction,
    revoke_in_transaction,
)
from server._pg_migrations import (
    apply_pg_migrations,
)
from server.store import (
    ChainHead,
    DeviceStatus,
    EventPage,
    EventRow,
    InviteRecord,
    LeaveOutcome,
    Membership,
    NewEvent,
    Position,
    RedeemOutcome,
    RevokeOutcome,
    SpaceSnapshot,
    StaleSpace,
    StoredPosition,
    full_envelope,
    full_size,
    stored_form,
)

EVENTS_CHANNEL = "trellis_events"
REVOKE_CHANNEL = "trellis_revoke"
POOL_SIZE = 8
CONNECT_TIMEOUT_S = 5.0
LISTEN_RETRY_S = 0.5
INLINE_NOTIFY_BYTES = 5000
"""Envelope bytes a notification carries itself (base64 makes 4/3 of that; the
payload limit is 8,000 bytes)."""


@dataclass(frozen=True, slots=True)
class EventsNotice:
    """Another relay process committed seqs ``first..last`` of a space."""

    space_id: SpaceId
    first: int
    last: int
    envelopes: tuple[bytes, ...] | None = None
    """The events themselves when they fit the notification (seqs first..last); else
    the listener reads them from the database."""


@dataclass(frozen=True, slots=True)
class RevokeNotice:
    """Another relay process revoked these devices of a space."""

    space_id: SpaceId
    devices: list[DeviceId]


Notice = EventsNotice | RevokeNotice


async def _nothing_to_reset(_conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing beyond asyncpg's own (an open transaction
    rolled back, listeners dropped), which needs no round trip to the server.

    asyncpg's default also sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` on every release: one more round trip per pooled query, and the
    writer's acks and live fan-out waited for it after each COMMIT. This store leaves
    no session state on a pooled connection: no SET, no LISTEN (the listener has its
    own connection), cursors and advisory locks only inside transactions, which end
    them."""


class PgStore:
    """Store over one PostgreSQL database. See store.Store for the contract of each
    method, and the module docstring for what keeps several processes consistent."""

    def __init__(self, url: str, pool_size: int = POOL_SIZE) -> None:
        self._url = url
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._token = os.urandom(6).hex()
        """Names this process in its notifications, so it ignores its own."""
        self._epochs: dict[SpaceId, int] = {}
        self._listener: asyncio.Task[None] | None = None
        self._held: Conn | None = None
        """The writer's connection while it holds spaces locked (``holding``)."""

    # --- lifecycle -----------------------------------------------------------------

    async def open(self) -> None:
        conn = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_S)
        try:
            await apply_pg_migrations(conn)
        finally:
            await conn.close()
        self._pool = await asyncpg.create_pool(
            self._url,
            min_size=1,
            max_size=self._pool_size,
            timeout=CONNECT_TIMEOUT_S,
            reset=_nothing_to_reset,
        )

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the store is not open")
        return self._pool

    def listen(self, on_notice: Callable[[Notice], Awaitable[None]]) -> None:
        """Receive other processes' commits and revocations, in commit order, until
        close(). Reconnects by itself when the database goes away."""
        self._listener = asyncio.create_task(self._listen(on_notice), name="trellis-pg-listen")

    async def _listen(self, on_notice: Callable[[Notice], Awaitable[None]]) -> None:
        queue: asyncio.Queue[Notice | None] = asyncio.Queue()

        def received(_conn: object, _pid: int, channel: str, payload: object) -> None:
            notice = self._parse(channel, str(payload))
            if notice is not None:
                queue.put_nowait(notice)

        def lost(_conn: object) -> None:
            queue.put_nowait(None)

        while True:
            try:
                conn = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_S)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                await asyncio.sleep(LISTEN_RETRY_S)
                continue
            try:
                conn.add_termination_listener(lost)
                await conn.add_listener(EVENTS_CHANNEL, received)
                await conn.add_listener(REVOKE_CHANNEL, received)
                while (notice := await queue.get()) is not None:
                    try:
                        await on_notice(notice)
                    except Exception:
                        logger.exception("delivering another relay process's events failed")
            except (OSError, asyncpg.PostgresError):
                pass
            finally:
                if not conn.is_closed():
                    conn.terminate()
            logger.warning("lost the PostgreSQL notification connection; reconnecting")
            await asyncio.sleep(LISTEN_RETRY_S)

    def _parse(self, channel: str, payload: str) -> Notice | None:
        parts = payload.split(":")
        if len(parts) < 3 or parts[0] == self._token:
            return None
        space_id = SpaceId(bytes.fromhex(parts[1]))
        if channel == EVENTS_CHANNEL and len(parts) in (4, 5):
            inline = None
            if len(parts) == 5:
                inline = tuple(base64.b64decode(e) for e in parts[4].split(","))
            return EventsNotice(space_id, int(parts[2]), int(parts[3]), inline)
        if channel == REVOKE_CHANNEL:
            devices = [DeviceId(bytes.fromhex(d)) for d in parts[2].split(",") if d]
            return RevokeNotice(space_id, devices)
        return None

    # --- reads ---------------------------------------------------------------------

    async def membership(self, space_id: SpaceId, device_id: DeviceId) -> Membership:
        row = await self.pool.fetchrow(
            "SELECT s.id, d.status FROM spaces s LEFT JOIN devices d "
            "ON d.space = s.id AND d.device_id = $2 WHERE s.space_id = $1",
            space_id,
            device_id,
        )
        if row is None:
            return Membership.NO_SPACE
        if row[1] is None:
            return Membership.UNKNOWN_DEVICE
        if row[1] == DeviceStatus.ACTIVE:
            return Membership.ACTIVE
        return Membership.REVOKED

    async def head(self, space_id: SpaceId) -> int | None:
        value = await self.pool.fetchval("SELECT head FROM spaces WHERE space_id = $1", space_id)
        return None if value is None else int(value)

    async def events_after(
        self, space_id: SpaceId, after: int, limit: int, max_bytes: int
    ) -> EventPage:
        # One statement, one snapshot: the head is from the same snapshot as the rows.
        # Envelopes are kept without their space id and author (store.py, stored_form).
        rows = await self.pool.fetch(
            "SELECT s.head, e.seq, e.envelope, d.device_id FROM spaces s LEFT JOIN LATERAL ("
            "SELECT seq, author, envelope FROM events WHERE space = s.id AND seq > $2 "
            "ORDER BY seq LIMIT $3) e ON TRUE LEFT JOIN devices d ON d.id = e.author "
            "WHERE s.space_id = $1 ORDER BY e.seq",
            space_id,
            after,
            limit + 1,
        )
        events: list[EventRow] = []
        total_bytes = 0
        more = False
        head = 0 if not rows else int(rows[0][0])
        for _, seq, stored, author in rows:
            if seq is None:
                break
            size = full_size(stored)
            if len(events) == limit or (events and total_bytes + size > max_bytes):
                more = True
                break
            events.append(EventRow(int(seq), full_envelope(bytes(stored), space_id, bytes(author))))
            total_bytes += size
        return EventPage(events, more, head)

    async def events_between(self, space_id: SpaceId, first: int, last: int) -> list[EventRow]:
        """Committed events ``first..last`` of a space (for live fan-out)."""
        rows = await self.pool.fetch(
            "SELECT e.seq, e.envelope, d.device_id FROM events e JOIN spaces s ON s.id = e.space "
            "JOIN devices d ON d.id = e.author "
            "WHERE s.space_id = $1 AND e.seq BETWEEN $2 AND $3 ORDER BY e.seq",
            space_id,
            first,
            last,
        )
        return [
            EventRow(int(seq), full_envelope(bytes(stored), space_id, bytes(author)))
            for seq, stored, author in rows
        ]

    async def get_invite(self, invite_id: InviteId) -> InviteRecord | None:
        row = await self.pool.fetchrow(
            "SELECT i.invite_id, s.space_id, i.verify_key, i.wrapped_keys, i.kind, "
            "i.expires_at, i.created_by, i.created_at, i.redeemed_at, i.redeemed_by, "
            "i.for_device FROM invites i JOIN spaces s ON s.id = i.space "
            "WHERE i.invite_id = $1",
            invite_id,
        )
        return None if row is None else InviteRecord.from_row(row)

    async def device_group(
        self, space_id: SpaceId, device_id: DeviceId
    ) -> tuple[DeviceStatus, bytes | None] | None:
        row = await self.pool.fetchrow(
            "SELECT d.status, d.member_group FROM devices d JOIN spaces s ON s.id = d.space "
            "WHERE s.space_id = $1 AND d.device_id = $2",
            space_id,
            device_id,
        )
        if row is None:
            return None
        return DeviceStatus(row[0]), None if row[1] is None else bytes(row[1])

    # --- writer task only ----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def holding(self, space_ids: Collection[SpaceId]) -> AsyncIterator[None]:
        """Lock these spaces for the writer's whole load-decide-append, in one
        transaction: used after a StaleSpace, so a space busy on several processes is
        decided under its lock and the retry cannot be outrun again."""
        async with self.pool.acquire() as conn, conn.transaction():
            for space_id in sorted(space_ids):
                await conn.execute("SELECT 1 FROM spaces WHERE space_id = $1 FOR UPDATE", space_id)
            self._held = conn
            try:
                yield
            finally:
                self._held = None

    @contextlib.asynccontextmanager
    async def _writer_conn(self) -> AsyncIterator[Conn]:
        if self._held is not None:
            yield self._held
            return
        async with self.pool.acquire() as conn:
            yield conn

    async def load_space(self, space_id: SpaceId) -> SpaceSnapshot | None:
        async with (
            self._writer_conn() as conn,
            conn.transaction(isolation=None if self._held is not None else "repeatable_read"),
        ):
            row = await conn.fetchrow(
                "SELECT id, head, bytes, epoch FROM spaces WHERE space_id = $1", space_id
            )
            if row is None:
                return None
            space = int(row[0])
            devices: dict[DeviceId, DeviceStatus] = {}
            for device, status in await conn.fetch(
                "SELECT device_id, status FROM devices WHERE space = $1", space
            ):
                devices[DeviceId(bytes(device))] = DeviceStatus(status)
            chains: dict[DeviceId, ChainHead] = {}
            for device_id, author_seq, envelope in await conn.fetch(
                "SELECT d.device_id, e.author_seq, e.envelope FROM devices d "
                "CROSS JOIN LATERAL (SELECT author_seq, envelope FROM events "
                "WHERE author = d.id ORDER BY author_seq DESC LIMIT 1) e WHERE d.space = $1",
                space,
            ):
                author = DeviceId(bytes(device_id))
                envelope = full_envelope(bytes(envelope), space_id, author)
                chains[author] = ChainHead(int(author_seq), event_id_of(envelope))
        self._epochs[space_id] = int(row[3])
        return SpaceSnapshot(int(row[1]), devices, chains, int(row[2]))

    async def find_positions(
        self, space_id: SpaceId, positions: Collection[Position]
    ) -> dict[Position, StoredPosition]:
        by_author: dict[DeviceId, list[int]] = {}
        for author, author_seq in positions:
            by_author.setdefault(author, []).append(author_seq)
        found: dict[Position, StoredPosition] = {}
        async with self._writer_conn() as conn:
            for author, seqs in by_author.items():
                for author_seq, envelope, seq in await conn.fetch(
                    "SELECT e.author_seq, e.envelope, e.seq FROM events e "
                    "JOIN devices d ON d.id = e.author JOIN spaces s ON s.id = d.space "
                    "WHERE s.space_id = $1 AND d.device_id = $2 "
                    "AND e.author_seq BETWEEN $3 AND $4",
                    space_id,
                    author,
                    min(seqs),
                    max(seqs),
                ):
                    envelope = full_envelope(bytes(envelope), space_id, author)
                    found[(author, int(author_seq))] = StoredPosition(
                        event_id_of(envelope), int(seq)
                    )
        return found

    async def append_events(self, rows: Sequence[NewEvent], heads: Mapping[SpaceId, int]) -> None:
        by_space: defaultdict[SpaceId, list[NewEvent]] = defaultdict(list)
        for row in rows:
            by_space[row.space_id].append(row)
        space_ids = sorted(by_space)
        # A handful of statements per group whatever the number of spaces in it: each
        # round trip to the server costs more than the rows themselves.
        async with self._writer_conn() as conn, conn.transaction():
            # Locked in one order (by space id), so that two processes never deadlock.
            locked = {
                SpaceId(bytes(r[0])): (int(r[1]), int(r[2]), int(r[3]))
                for r in await conn.fetch(
                    "SELECT space_id, id, head, epoch FROM spaces "
                    "WHERE space_id = ANY($1::bytea[]) ORDER BY space_id FOR UPDATE",
                    space_ids,
                )
            }
            internal: dict[SpaceId, int] = {}
            for space_id in space_ids:
                first = min(r.seq for r in by_space[space_id])
                found = locked.get(space_id)
                if (
                    found is None
                    or found[1] != first - 1
                    or found[2] != self._epochs.get(space_id, -1)
                ):
                    self._epochs.pop(space_id, None)
                    raise StaleSpace(space_id)
                internal[space_id] = found[0]
            # Insert, advance the heads and notify in ONE statement (one round trip
            # instead of three; the acks and live fan-out wait for every one of them).
            # A data-modifying WITH runs to completion whether or not it is read, and
            # NOTIFY is delivered only at COMMIT, so nothing changes but the latency.
            counts = await conn.fetchrow(
                "WITH ins AS ("
                "INSERT INTO events (space, seq, author, author_seq, envelope, received_at) "
                "SELECT r.space, r.seq, d.id, r.author_seq, r.envelope, r.received_at "
                "FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bigint[], "
                "$5::bytea[], $6::bigint[]) "
                "AS r (space, seq, author, author_seq, envelope, received_at) "
                "JOIN devices d ON d.space = r.space AND d.device_id = r.author "
                "RETURNING 1), "
                "upd AS (UPDATE spaces s SET head = u.head, bytes = s.bytes + u.added "
                "FROM unnest($7::bigint[], $8::bigint[], $9::bigint[]) AS u (id, head, added) "
                "WHERE s.id = u.id RETURNING 1), "
                "sent AS (SELECT pg_notify($10, p) FROM unnest($11::text[]) AS p) "
                "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM sent)",
                [internal[r.space_id] for r in rows],
                [r.seq for r in rows],
                [r.author for r in rows],
                [r.author_seq for r in rows],
                [stored_form(r.envelope, r.space_id, r.author) for r in rows],
                [r.received_at_ms for r in rows],
                [internal[space_id] for space_id in space_ids],
                [heads[space_id] for space_id in space_ids],
                [sum(len(r.envelope) for r in by_space[space_id]) for space_id in space_ids],
                EVENTS_CHANNEL,
                [self._events_payload(space_id, by_space[space_id]) for space_id in space_ids],
            )
            if counts is None or int(counts[0]) != len(rows):
                # An author that is not a device of its space: never acknowledge that
                # (raising rolls the whole transaction back, notifications included).
                raise LookupError("an event's author is not a device of its space")

    def _events_payload(self, space_id: SpaceId, batch: Sequence[NewEvent]) -> str:
        """``token:space:first:last[:envelopes]``: the envelopes ride along (base64)
        when they fit well within NOTIFY's 8,000-byte limit, which spares every other
        process a read for the common case of a few events."""
        first, last = min(r.seq for r in batch), max(r.seq for r in batch)
        payload = f"{self._token}:{space_id.hex()}:{first}:{last}"
        if sum(len(r.envelope) for r in batch) <= INLINE_NOTIFY_BYTES:
            ordered = sorted(batch, key=lambda r: r.seq)
            payload += ":" + ",".join(base64.b64encode(r.envelope).decode() for r in ordered)
        return payload

    async def create_space(self, genesis: NewEvent, created_at_ms: int) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            space = await conn.fetchval(
                "INSERT INTO spaces (space_id, created_at, head, bytes) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (space_id) DO NOTHING RETURNING id",
                genesis.space_id,
                created_at_ms,
                genesis.seq,
                len(genesis.envelope),
            )
            if space is None:
                return False
            author = await conn.fetchval(
                "INSERT INTO devices (space, device_id, status, added_at, member_group) "
                "VALUES ($1, $2, $3, $4, $2) RETURNING id",
                space,
                genesis.author,
                DeviceStatus.ACTIVE.value,
                created_at_ms,
            )
            await conn.execute(
                "INSERT INTO events (space, seq, author, author_seq, envelope, received_at) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                space,
                genesis.seq,
                author,
                genesis.author_seq,
                stored_form(genesis.envelope, genesis.space_id, genesis.author),
                genesis.received_at_ms,
            )
        self._epochs[genesis.space_id] = 0
        return True

    async def create_invite(self, invite: InviteRecord) -> bool:
        result = await self.pool.execute(
            "INSERT INTO invites (invite_id, space, verify_key, wrapped_keys, kind, expires_at, "
            "created_by, created_at, for_device) SELECT $1, id, $3, $4, $5, $6, $7, $8, $9 "
            "FROM spaces WHERE space_id = $2 ON CONFLICT (invite_id) DO NOTHING",
            invite.invite_id,
            invite.space_id,
            invite.verify_key,
            invite.wrapped_keys,
            invite.kind,
            invite.expires_at_ms,
            invite.created_by,
            invite.created_at_ms,
            invite.for_device,
        )
        return str(result) == "INSERT 0 1"

    async def redeem_invite(
        self, invite_id: InviteId, device_id: DeviceId, now_ms: int
    ) -> tuple[RedeemOutcome, SpaceId | None]:
        async with self.pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            try:
                outcome, space_id = await redeem_in_transaction(conn, invite_id, device_id, now_ms)
            except BaseException:
                await tx.rollback()
                raise
            if outcome is RedeemOutcome.REDEEMED:
                await tx.commit()
            else:
                await tx.rollback()
        return outcome, space_id

    async def revoke_device(
        self, space_id: SpaceId, by: DeviceId, target: DeviceId
    ) -> RevokeOutcome:
        async with self.pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            try:
                outcome = await revoke_in_transaction(conn, space_id, by, target)
            except BaseException:
                await tx.rollback()
                raise
            if outcome is RevokeOutcome.REVOKED:
                await self._notify_revoked(conn, space_id, [target])
                await tx.commit()
            else:
                await tx.rollback()
        return outcome

    async def _notify_revoked(
        self, conn: Conn, space_id: SpaceId, devices: Sequence[bytes]
    ) -> None:
        await conn.execute(
            "SELECT pg_notify($1, $2)",
            REVOKE_CHANNEL,
            f"{self._token}:{space_id.hex()}:{','.join(d.hex() for d in devices)}",
        )

    async def leave(self, space_id: SpaceId, by: DeviceId) -> LeaveOutcome:
        async with self.pool.acquire() as conn, conn.transaction():
            space = await lock_space(conn, space_id)
            group = None if space is None else await active_group(conn, space, by)
            if space is None or group is None:
                # Nothing changed but the epoch; harmless (writers just reload).
                return LeaveOutcome([], space_deleted=False, active=False)
            revoked = [
                DeviceId(bytes(r[0]))
                for r in await conn.fetch(
                    "UPDATE devices SET status = $3 WHERE space = $1 AND member_group = $2 "
                    "AND status = $4 RETURNING device_id",
                    space,
                    group,
                    DeviceStatus.REVOKED.value,
                    DeviceStatus.ACTIVE.value,
                )
            ]
            remaining = await conn.fetchval(
                "SELECT 1 FROM devices WHERE space = $1 AND status = $2 LIMIT 1",
                space,
                DeviceStatus.ACTIVE.value,
            )
            deleted = remaining is None
            if deleted:
                # Nobody remains who could read it: the relay keeps nothing of the space.
                await conn.execute("DELETE FROM events WHERE space = $1", space)
                await conn.execute("DELETE FROM invites WHERE space = $1", space)
                await conn.execute("DELETE FROM devices WHERE space = $1", space)
                await conn.execute("DELETE FROM spaces WHERE id = $1", space)
            await self._notify_revoked(conn, space_id, revoked)
        return LeaveOutcome(revoked, space_deleted=deleted)

    async def check_writable(self, now_ms: int) -> None:
        await self.pool.execute(
            "INSERT INTO relay_meta (key, value) VALUES ('ready_checked_at', $1) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            now_ms,
        )
