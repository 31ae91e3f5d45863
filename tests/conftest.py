"""Fixtures every suite may use: one private PostgreSQL server for the whole session;
and the Hypothesis settings every property test starts from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.pg_server import PgServer

# Hypothesis times each example against the wall clock (a 200 ms deadline, a "generation
# is slow" health check). On a 2-core machine shared by test workers, relay processes and
# other people's runs, those clocks measure the machine's load, not the code: a property
# that held failed for a slow draw. What each test proves (its strategy, its assertions,
# its max_examples) is unchanged; a test wanting a deadline can still set one.
settings.register_profile("trellis", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("trellis")


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
