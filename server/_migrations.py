"""Numbered SQL migrations (server/migrations/NNNN_name.sql), applied at start.

The version reached is kept in ``schema_version``; each file runs in its own
transaction together with the row that records it, so a crash mid-migration leaves
the database at the previous version. A database from a newer relay is refused rather
than guessed at. Before the first migration touches a database that already holds a
schema, ``before_upgrade`` runs (the SQLite store takes a backup there).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from importlib import resources

import aiosqlite

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """The database was written by a newer relay, or the migration files are misnumbered."""


def numbered_sql(folder: str, error: type[Exception]) -> list[tuple[int, str]]:
    """(version, SQL) of every ``NNNN_name.sql`` in ``server/<folder>``, in order; raises
    ``error`` unless they are numbered 1..n without gaps. Shared by both stores."""
    found = []
    for entry in (resources.files("server") / folder).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise error(f"migrations must be numbered 1..n without gaps, got {versions}")
    return found


def migrations() -> list[tuple[int, str]]:
    """(version, SQL) of every numbered file in server/migrations, in order."""
    return numbered_sql("migrations", MigrationError)


async def rollback_quietly(db: aiosqlite.Connection) -> None:
    if db.in_transaction:
        await db.execute("ROLLBACK")


async def apply_migrations(
    db: aiosqlite.Connection,
    before_upgrade: Callable[[int, int], Awaitable[None]] | None = None,
) -> int:
    """Bring the database to the newest schema; returns the version it is at.

    ``before_upgrade(current, newest)`` is awaited once, before any migration runs on a
    database that is at a version between 1 and newest - 1."""
    await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    async with db.execute("SELECT MAX(version) FROM schema_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row is not None and row[0] is not None else 0
    known = migrations()
    if current > len(known):
        raise MigrationError(
            f"the database is at schema version {current} but this relay only knows "
            f"{len(known)}; run a newer relay"
        )
    if 0 < current < len(known) and before_upgrade is not None:
        await before_upgrade(current, len(known))
    for version, sql in known[current:]:
        try:
            await db.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\n"
                f"INSERT INTO schema_version (version) VALUES ({version});\nCOMMIT;"
            )
        except BaseException:
            await rollback_quietly(db)
            raise
    return len(known)
