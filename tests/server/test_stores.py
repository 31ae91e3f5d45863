"""Which store the ``db`` setting selects (server/stores.py), and how it is logged."""

from __future__ import annotations

from server.cli import describe_db
from server.pg_store import PgStore
from server.settings import Settings, from_sources
from server.sqlite_store import SqliteStore
from server.stores import sqlite_path, store_for


def test_a_postgresql_url_selects_postgresql_and_anything_else_sqlite() -> None:
    assert isinstance(store_for(Settings(db="postgresql://relay@db.example/trellis")), PgStore)
    assert isinstance(store_for(Settings(db="postgres://relay@db.example/trellis")), PgStore)
    assert isinstance(store_for(Settings(db="./trellis-relay.db")), SqliteStore)
    assert isinstance(store_for(Settings(db="sqlite:/var/lib/relay.db")), SqliteStore)
    assert sqlite_path("sqlite:/var/lib/relay.db") == "/var/lib/relay.db"
    assert sqlite_path("relay.db") == "relay.db"


def test_the_environment_selects_postgresql_too() -> None:
    settings = from_sources({"TRELLIS_RELAY_DB": "postgresql://relay@127.0.0.1/trellis"}, {})
    assert isinstance(store_for(settings), PgStore)


def test_the_database_is_logged_without_its_password() -> None:
    shown = describe_db("postgresql://relay:s3cret-pass@db.example:5433/trellis")
    assert shown == "postgresql://relay@db.example:5433/trellis"
    assert "s3cret" not in shown
