"""Fixtures every suite may use: one private PostgreSQL server for the whole session;
the Hypothesis settings every property test starts from; and the ``cli_process`` marker
(every ``trellis`` command of the test runs as a real process, tests/integration/cli.py)."""

from __future__ import annotations

import time
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


@pytest.fixture(autouse=True)
def _cli_as_real_processes(request: pytest.FixtureRequest) -> Iterator[None]:
    """``@pytest.mark.cli_process``: the test's ``run`` calls start real processes.

    Afterwards the C library's zone is read again from ``TZ``: a command run in-process
    under a test's ``TZ`` (tests/integration/cli.py) must not leave this worker on that
    zone once the test has put ``TZ`` back."""
    if request.node.get_closest_marker("cli_process") is None:
        yield
    else:
        from tests.integration.cli import real_processes  # loads the client: only if asked

        with real_processes():
            yield
    time.tzset()
