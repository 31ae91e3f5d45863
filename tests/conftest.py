"""Fixtures every suite may use: one private PostgreSQL server for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg_server import PgServer


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """Started on first use only, so suites that never touch PostgreSQL never pay."""
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database of this test's own."""
    return pg_server.database()
