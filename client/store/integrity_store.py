"""The device's record of its relay, kept in its SQLite file (docs/PROTOCOL.md §9.6).

A thin shell: :class:`IntegrityStore` reads and writes the tables of
``migrations/0002_integrity.sql``; :class:`RelayTracker` is what the Space feeds during
a sync (what was served, acknowledged, challenged) and keeps the findings that stand.
The rules live in client/core/relay_view.py and client/core/integrity/.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

import aiosqlite
import msgspec

from client.core.integrity import Finding, FindingCode, Refusal, Severity
from client.core.relay_view import RelaySlot, RelayView, Sighting, SightingKind
from client.store.localstore import now_ms
from client.store.writes import settle_writes, write_behind, write_lock
from schemas.envelope import event_id_of
from schemas.protocol import Ack

_META_BASE = "relay_view_base"
_META_COMPLETE = "relay_view_complete"
_META_CURSOR = "cursor"
MAX_CHALLENGES_KEPT = 1000


class IntegrityStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @asynccontextmanager
    async def _transaction(self, *, behind: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """One transaction that a cancelled task (a watch being stopped) never leaves
        open: the BEGIN runs in SQLite's thread even if its awaiter is cancelled, so it
        is awaited to the end before rolling back. ``behind``: this is the write running
        behind (client/store/localstore.py, ``write_behind``), which does not wait for
        itself."""
        # One transaction at a time on the connection.
        async with write_lock(self._db, settle=not behind):
            begin = asyncio.ensure_future(self._db.execute("BEGIN IMMEDIATE"))
            try:
                await asyncio.shield(begin)
                yield self._db
                await self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    await begin
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        await self._db.execute("ROLLBACK")
                raise

    async def _meta(self, key: str) -> bytes | None:
        async with self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return None if row is None else bytes(row[0])

    # -- the relay's numbering ----------------------------------------------------

    async def load_view(self) -> tuple[RelayView, bool]:
        """The record and whether it was read completely from the relay's first seq."""
        base = await self._meta(_META_BASE)
        complete = await self._meta(_META_COMPLETE)
        async with self._db.execute(
            "SELECT relay_seq, digest, valid, seen_at, settled FROM relay_view"
        ) as cur:
            rows = await cur.fetchall()
        slots = {int(r[0]): RelaySlot(bytes(r[1]), bool(r[2]), int(r[3]), bool(r[4])) for r in rows}
        view = RelayView(base=int(base.decode()) if base else 0, slots=slots)
        return view, complete != b"0"

    async def save(self, view: RelayView, *, cursor: int | None, resolved: Iterable[bytes]) -> None:
        """The changed slots, events found again, and the cursor, in one transaction:
        the record always covers every seq the stored cursor has passed."""
        dirty, view.dirty = view.dirty, {}
        found = [(e,) for e in resolved]
        if not dirty and not found and cursor is None:
            return
        try:
            await self._write_view(dirty, cursor, found)
        except BaseException:
            # Not written (a watch stopped mid-save): the next save writes these slots,
            # before a later cursor can cover their seqs. Newer readings win.
            view.dirty = {**dirty, **view.dirty}
            raise

    def save_behind(
        self,
        view: RelayView,
        *,
        cursor: int,
        resolved: Iterable[bytes],
        then: Callable[[], None],
    ) -> None:
        """:meth:`save` written behind the caller (after the page of events it covers,
        written behind too), then ``then()``; on failure the slots stay to be written."""
        dirty, view.dirty = view.dirty, {}
        found = [(e,) for e in resolved]

        async def write() -> None:
            await self._write_view(dirty, cursor, found, behind=True)
            then()

        def kept(written: asyncio.Future[None]) -> None:
            # Not written (this save, or the page before it, failed): the next save
            # writes these slots. Newer readings win.
            if written.cancelled() or written.exception() is not None:
                view.dirty = {**dirty, **view.dirty}

        write_behind(self._db, write).add_done_callback(kept)

    async def _write_view(
        self,
        dirty: dict[int, RelaySlot],
        cursor: int | None,
        found: list[tuple[bytes]],
        *,
        behind: bool = False,
    ) -> None:
        async with self._transaction(behind=behind) as db:
            await db.executemany(
                "INSERT INTO relay_view (relay_seq, digest, valid, seen_at, settled) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (relay_seq) DO UPDATE SET "
                "digest = excluded.digest, valid = excluded.valid, seen_at = excluded.seen_at, "
                "settled = excluded.settled",
                [(s, v.digest, int(v.valid), v.seen_at, int(v.settled)) for s, v in dirty.items()],
            )
            await db.executemany("DELETE FROM relay_lost WHERE event_id = ?", found)
            if cursor is not None:
                await db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (_META_CURSOR, str(cursor).encode()),
                )

    async def restart(self, lost: Iterable[bytes], *, forget_lost: bool) -> None:
        """The relay's numbering starts over; ``lost`` are events it held before."""
        at = now_ms()
        async with self._transaction() as db:
            if forget_lost:
                await db.execute("DELETE FROM relay_lost")
            await db.executemany(
                "INSERT OR IGNORE INTO relay_lost (event_id, since) VALUES (?, ?)",
                [(e, at) for e in lost],
            )
            await db.execute("DELETE FROM relay_view")
            await db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [(_META_BASE, b"0"), (_META_COMPLETE, b"0")],
            )

    async def mark_complete(self) -> None:
        await settle_writes(self._db)
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_META_COMPLETE, b"1"),
        )

    async def served_before_record(self, base: int) -> set[bytes]:
        """Events stored with a relay seq from before the record began (at or below
        ``base``): the relay held them then, as far as this device knows."""
        async with self._db.execute(
            "SELECT event_id FROM events WHERE relay_seq IS NOT NULL AND relay_seq <= ?", (base,)
        ) as cur:
            return {bytes(r[0]) for r in await cur.fetchall()}

    async def lost(self) -> set[bytes]:
        async with self._db.execute("SELECT event_id FROM relay_lost") as cur:
            return {bytes(r[0]) for r in await cur.fetchall()}

    # -- sightings and challenges -------------------------------------------------

    async def add_sightings(self, sightings: Iterable[Sighting]) -> None:
        rows = [
            (s.kind.value, msgspec.msgpack.encode(list(s.events)), s.relay_seq, s.earlier_seq)
            for s in sightings
        ]
        if not rows:
            return
        at = now_ms()
        async with self._transaction() as db:
            await db.executemany(
                "INSERT INTO relay_sightings (kind, events, relay_seq, earlier_seq, seen_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(*r, at) for r in rows],
            )

    async def sightings(self) -> list[Sighting]:
        async with self._db.execute(
            "SELECT kind, events, relay_seq, earlier_seq FROM relay_sightings ORDER BY id"
        ) as cur:
            rows = await cur.fetchall()
        return [
            Sighting(
                SightingKind(str(r[0])),
                tuple(msgspec.msgpack.decode(bytes(r[1]), type=list[bytes])),
                r[2],
                r[3],
            )
            for r in rows
        ]

    async def challenge_seen_before(self, nonce: bytes) -> bool:
        """Record a challenge; True if this device had answered it before."""
        async with self._db.execute(
            "SELECT 1 FROM relay_challenges WHERE nonce = ?", (nonce,)
        ) as cur:
            seen = await cur.fetchone() is not None
        async with self._transaction() as db:
            await db.execute(
                "INSERT OR REPLACE INTO relay_challenges (nonce, seen_at) VALUES (?, ?)",
                (nonce, now_ms()),
            )
            await db.execute(
                "DELETE FROM relay_challenges WHERE nonce NOT IN (SELECT nonce FROM "
                "relay_challenges ORDER BY seen_at DESC LIMIT ?)",
                (MAX_CHALLENGES_KEPT,),
            )
        return seen

    # -- refusals and findings ----------------------------------------------------

    async def refusals(self) -> list[Refusal]:
        async with self._db.execute(
            "SELECT event_id, envelope, code, reason, relay_seq FROM rejected ORDER BY id"
        ) as cur:
            rows = await cur.fetchall()
        return [
            Refusal(None if r[0] is None else bytes(r[0]), bytes(r[1]), str(r[2]), str(r[3]), r[4])
            for r in rows
        ]

    async def save_findings(self, findings: Iterable[Finding]) -> None:
        async with self._transaction() as db:
            await db.execute("DELETE FROM integrity_findings")
            await db.executemany(
                "INSERT INTO integrity_findings (position, code, severity, message, events) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (i, f.code.value, f.severity.value, f.message, json.dumps(list(f.events)))
                    for i, f in enumerate(findings)
                ],
            )

    async def findings(self) -> list[Finding]:
        async with self._db.execute(
            "SELECT code, severity, message, events FROM integrity_findings ORDER BY position"
        ) as cur:
            rows = await cur.fetchall()
        return [
            Finding(
                FindingCode(str(r[0])),
                Severity(str(r[1])),
                str(r[2]),
                tuple(str(e) for e in json.loads(str(r[3]))),
            )
            for r in rows
        ]


class RelayTracker:
    """What one device keeps about its relay across syncs; the Space feeds it."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.store = IntegrityStore(db)
        self.view = RelayView()
        self.complete = True
        self.findings: list[Finding] = []
        self._lost: set[bytes] = set()
        self._sending: set[bytes] = set()
        self._sightings: list[Sighting] = []
        self._read_from = 0
        self.changed_since_published = True
        """Anything observed since the findings were last computed."""

    async def load(self) -> None:
        self.view, self.complete = await self.store.load_view()
        self._lost = await self.store.lost()
        self.findings = await self.store.findings()

    # -- during a session ---------------------------------------------------------

    def begin_session(self, sending: Iterable[bytes], *, read_from: int) -> None:
        """A new session will push these envelopes and pull after ``read_from``."""
        self._sending = {event_id_of(e) for e in sending}
        self._read_from = read_from
        self.view.begin_read()

    def sending(self, event_ids: Iterable[bytes]) -> None:
        self._sending.update(event_ids)

    def served(self, seq: int | None, data: bytes, event_id: bytes | None, *, valid: bool) -> None:
        if seq is None:
            return
        self.changed_since_published = True
        digest = event_id if event_id is not None else event_id_of(data)
        sighting = self.view.observe(seq, digest, valid=valid, at=now_ms())
        if sighting is not None:
            self._sightings.append(sighting)

    def acked(self, acks: Iterable[Ack]) -> None:
        self.changed_since_published = True
        at = now_ms()
        for ack in acks:
            if ack.event_id not in self._sending:
                self._sightings.append(Sighting(SightingKind.FOREIGN_ACK, (ack.event_id,), ack.seq))
                continue
            sighting = self.view.observe(ack.seq, ack.event_id, valid=True, at=at)
            if sighting is not None:
                self._sightings.append(sighting)

    async def challenged(self, nonce: bytes | None) -> None:
        if nonce is not None and await self.store.challenge_seen_before(nonce):
            self._sightings.append(Sighting(SightingKind.REUSED_CHALLENGE))
            self.changed_since_published = True

    async def save(self, cursor: int | None = None) -> None:
        resolved = [e for e in self._lost if self.view.seq_of(e) is not None]
        await self.store.save(self.view, cursor=cursor, resolved=resolved)
        self._lost.difference_update(resolved)
        sightings, self._sightings = self._sightings, []
        await self.store.add_sightings(sightings)

    def save_behind(self, cursor: int) -> None:
        """:meth:`save` with the cursor, written behind the caller (a new device goes on
        admitting the next page meanwhile); every later write waits for it. What it
        resolves and the sightings it writes count as saved once it is on disk."""
        resolved = [e for e in self._lost if self.view.seq_of(e) is not None]
        # Sightings (rare: the relay misbehaved) wait for the next save, not behind.

        def saved() -> None:
            self._lost.difference_update(resolved)

        self.store.save_behind(self.view, cursor=cursor, resolved=resolved, then=saved)

    async def relay_lost_data(self, held: Iterable[bytes]) -> None:
        """The relay no longer holds what it served: remember what it had (of the events
        this device holds) and read its numbering afresh."""
        await self.save()
        known = self.view.holds()
        if self.view.base:
            known |= await self.store.served_before_record(self.view.base)
        had = known.intersection(held)
        await self.store.restart(had, forget_lost=False)
        self._lost |= had
        self.view.restart()
        self.complete = False
        self.changed_since_published = True
        self._read_from = 0

    async def new_relay(self) -> None:
        """Another relay: a new numbering, and nothing it could have lost."""
        await self.store.restart((), forget_lost=True)
        self._lost = set()
        self.view.restart()
        self.complete = False
        self.changed_since_published = True
        self._read_from = 0

    async def read_complete(self, cursor: int) -> None:
        """A session read up to the relay's head. Since the relay's numbering last
        started over, the stored cursor went back to 0 and only ever moved over seqs
        read, so the first such session completes a reading from the start."""
        self.view.finish_read(self._read_from, cursor, now_ms())
        self.changed_since_published = True
        if not self.complete:
            self.complete = True
            await self.store.mark_complete()
        await self.save()

    def lost(self) -> list[bytes]:
        """Events the relay lost and does not hold again, once it was read in full."""
        return sorted(self._lost) if self.complete else []

    async def publish(self, findings: list[Finding]) -> None:
        self.changed_since_published = False
        if findings != self.findings:
            await self.store.save_findings(findings)
        self.findings = findings
