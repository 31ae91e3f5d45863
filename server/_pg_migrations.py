"""PostgreSQL schema migrations (split from pg_store.py): numbered files in
server/pg_migrations, applied once under an advisory lock (docs/OPERATIONS.md, "More
than one machine")."""

from __future__ import annotations

import asyncpg

from server._log import logger
from server._migrations import numbered_sql

MIGRATION_LOCK = 0x7472656C6C6973  # pg_advisory_xact_lock key: "trellis"


class PgMigrationError(RuntimeError):
    """The database was written by a newer relay, or the migration files are misnumbered."""


def is_postgres_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def pg_migrations() -> list[tuple[int, str]]:
    """(version, SQL) of every numbered file in server/pg_migrations, in order."""
    return numbered_sql("pg_migrations", PgMigrationError)


async def apply_pg_migrations(conn: asyncpg.Connection) -> int:
    """Bring the database to the newest schema, one transaction per file, under an
    advisory lock so that relays starting together migrate once. A database at a newer
    version than this relay knows is refused before anything is changed; PostgreSQL has
    no file to copy, so the operator backs up with pg_dump (docs/OPERATIONS.md) and the
    relay stops with a clear message instead."""
    known = pg_migrations()
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
        if current > len(known):
            raise PgMigrationError(
                f"the database is at schema version {current} but this relay only knows "
                f"{len(known)}; run a newer relay"
            )
        for version, sql in known[current:]:
            logger.warning("upgrading the PostgreSQL schema to version %d", version)
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
    return len(known)
