"""Which Store a relay runs on, from its ``db`` setting (docs/OPERATIONS.md).

``postgresql://user@host/dbname`` (or ``postgres://``) selects PostgreSQL
(pg_store.py); anything else is a SQLite file, named by its path or by ``sqlite:PATH``.

With PostgreSQL, several relay processes may serve one database: ``link_processes``
has this process deliver, to its own connections, the events other processes commit
and end the connections of devices other processes revoke (LISTEN/NOTIFY).
"""

from __future__ import annotations

from schemas.protocol import Stored
from server._pg_migrations import is_postgres_url
from server.hub import Hub
from server.pg_store import EventsNotice, Notice, PgStore, RevokeNotice
from server.settings import Settings
from server.sqlite_store import SqliteStore
from server.store import Store

SQLITE_PREFIX = "sqlite:"


def sqlite_path(db: str) -> str:
    """The file a SQLite ``db`` setting names (``sqlite:`` prefix optional)."""
    return db[len(SQLITE_PREFIX) :] if db.startswith(SQLITE_PREFIX) else db


def store_for(settings: Settings) -> Store:
    if is_postgres_url(settings.db):
        return PgStore(settings.db)
    return SqliteStore(sqlite_path(settings.db), settings.read_connections)


def link_processes(store: Store, hub: Hub) -> None:
    """Fan-out and revocation across relay processes sharing a PostgreSQL database."""
    if not isinstance(store, PgStore):
        return
    pg = store

    async def on_notice(notice: Notice) -> None:
        if isinstance(notice, RevokeNotice):
            hub.revoke(notice.space_id, set(notice.devices))
            return
        if isinstance(notice, EventsNotice) and hub.subscriber_count(notice.space_id):
            if notice.envelopes is not None:
                events = [
                    Stored(notice.first + n, envelope)
                    for n, envelope in enumerate(notice.envelopes)
                ]
            else:
                rows = await pg.events_between(notice.space_id, notice.first, notice.last)
                events = [Stored(r.seq, r.envelope) for r in rows]
            hub.publish(notice.space_id, [(None, stored) for stored in events])

    pg.listen(on_notice)
