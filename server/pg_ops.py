"""``trellis-relay check`` on PostgreSQL and ``trellis-relay migrate-store`` (docs/
OPERATIONS.md §15).

* ``check_pg_database`` runs the same checks as ops.check_database (same queries, same
  rules, ops.check_*_rows) in one read-only REPEATABLE READ transaction, so every check
  sees one snapshot while relays keep serving.
* ``migrate_store`` copies a SQLite relay database into an empty PostgreSQL database:
  every space, device, invite and event with its relay seq and its internal numbers,
  in one transaction (all of it or nothing), then checks the result and compares its
  totals with the source's. The SQLite file is first brought to the newest schema by
  opening it as the relay would (which backs it up if it upgrades it) and is otherwise
  only read.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from server._pg_migrations import pg_migrations
from server.ops import (
    EVENTS_IN_CHAIN_ORDER,
    INVITES_OF_NO_DEVICE,
    SPACES_SUMMARY_POSTGRES,
    ChainPlace,
    CheckReport,
    OpsError,
    check_database,
    check_event_rows,
    check_invite_rows,
    check_space_rows,
)
from server.pg_store import CONNECT_TIMEOUT_S, PgStore
from server.sqlite_store import SqliteStore

CHUNK_ROWS = 2000


async def _chunks(
    conn: asyncpg.Connection, sql: str, *args: object
) -> AsyncIterator[list[asyncpg.Record]]:
    cursor = await conn.cursor(sql, *args)
    while rows := await cursor.fetch(CHUNK_ROWS):
        yield rows


async def _check(url: str, signatures: bool) -> CheckReport:
    report = CheckReport()
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    except (OSError, asyncpg.PostgresError) as exc:
        raise OpsError(f"cannot connect to the PostgreSQL database ({type(exc).__name__})") from exc
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            try:
                version = await conn.fetchval("SELECT MAX(version) FROM schema_version")
            except asyncpg.UndefinedTableError:
                report.problem("this is not a Trellis relay database (no schema_version table)")
                return report
            report.schema_version = int(version or 0)
            known = len(pg_migrations())
            if report.schema_version != known:
                report.problem(
                    f"schema version {report.schema_version}, but this relay knows {known}; "
                    "start the matching relay version first"
                )
                return report
            check_space_rows([tuple(r) for r in await conn.fetch(SPACES_SUMMARY_POSTGRES)], report)
            # One pass over every event, in chain order, a chunk at a time; the checker
            # keeps its place between chunks.
            place: ChainPlace | None = None
            async for chunk in _chunks(conn, EVENTS_IN_CHAIN_ORDER):
                place = check_event_rows(
                    [tuple(r) for r in chunk], report, signatures=signatures, previous=place
                )
            check_invite_rows([tuple(r) for r in await conn.fetch(INVITES_OF_NO_DEVICE)], report)
    finally:
        await conn.close()
    return report


def check_pg_database(url: str, *, signatures: bool = True) -> CheckReport:
    """Check a PostgreSQL relay database without changing it (safe while relays serve)."""
    return asyncio.run(_check(url, signatures))


@dataclass(frozen=True, slots=True)
class MigrateReport:
    spaces: int
    devices: int
    invites: int
    events: int
    check: CheckReport


_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("spaces", ("id", "space_id", "created_at", "head", "bytes")),
    ("devices", ("id", "space", "device_id", "status", "added_at", "member_group")),
    (
        "invites",
        (
            "invite_id",
            "space",
            "verify_key",
            "wrapped_keys",
            "kind",
            "expires_at",
            "created_by",
            "created_at",
            "redeemed_at",
            "redeemed_by",
            "for_device",
        ),
    ),
    ("events", ("space", "seq", "author", "author_seq", "envelope", "received_at")),
)
"""What moves, in an order that satisfies the foreign keys; the same columns exist on
both sides (SQLite schema 5, PostgreSQL schema 1)."""


def _plain(value: object) -> object:
    return bytes(value) if isinstance(value, memoryview) else value


async def _migrate(source: Path, source_uri: str, url: str) -> dict[str, int]:
    # Bring the SQLite file to the newest schema first (with its backup, if it upgrades).
    sqlite = SqliteStore(str(source))
    await sqlite.open()
    await sqlite.close()
    target = PgStore(url)
    try:
        await target.open()
    except (OSError, asyncpg.PostgresError) as exc:
        raise OpsError(f"cannot open the PostgreSQL database ({type(exc).__name__})") from exc
    await target.close()
    counts: dict[str, int] = {}
    db = sqlite3.connect(f"{source_uri}?mode=ro", uri=True)
    conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    try:
        db.execute("BEGIN")  # one snapshot of the source
        async with conn.transaction():
            if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM spaces)"):
                raise OpsError(
                    "the PostgreSQL database already holds spaces; migrate into a new, "
                    "empty database"
                )
            for table, columns in _TABLES:
                cursor = db.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608
                counts[table] = 0
                while chunk := cursor.fetchmany(CHUNK_ROWS):
                    records = [tuple(_plain(v) for v in row) for row in chunk]
                    await conn.copy_records_to_table(table, records=records, columns=columns)
                    counts[table] += len(records)
            # New spaces and devices are numbered after the copied ones.
            for table in ("spaces", "devices"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
    finally:
        db.close()
        await conn.close()
    return counts


def migrate_store(source: str, url: str, *, signatures: bool = True) -> MigrateReport:
    """Copy the SQLite relay database at ``source`` into the empty PostgreSQL database
    at ``url``, then check the copy and compare it with the source."""
    path = Path(source)
    if not path.is_file():
        raise OpsError(f"there is no database at {path}")
    counts = asyncio.run(_migrate(path, path.resolve().as_uri(), url))
    report = check_pg_database(url, signatures=signatures)
    before = check_database(str(path), signatures=False)
    if (before.spaces, before.events, before.envelope_bytes) != (
        report.spaces,
        report.events,
        report.envelope_bytes,
    ):
        report.problem(
            f"the copy holds {report.spaces} spaces, {report.events} events and "
            f"{report.envelope_bytes} bytes, the source {before.spaces}, {before.events} "
            f"and {before.envelope_bytes}"
        )
    return MigrateReport(
        counts["spaces"], counts["devices"], counts["invites"], counts["events"], report
    )
