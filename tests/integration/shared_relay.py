"""One relay process per test module, a fresh space per test: the ``relay`` fixture.

Starting ``python -m server`` costs ~1-3 s (imports, migrations, the health poll) and
stopping it ~0.5 s; per test, that was most of the integration suites' time. Tests keep
apart on a shared relay the way real couples do: each creates its own space. A test
that needs the relay to itself (it counts everything the relay stores, or reads its
whole log) says so with ``@pytest.mark.own_relay`` and gets a private process, started
and stopped around it as before.

A test may stop, kill or restart the shared relay (to test what clients do while it is
away); if it leaves it stopped, the next test gets a new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.relay_process import RelayProcess

SHARED_ARGS = [
    # Every test dials from 127.0.0.1: one test's invite look-ups and connections must
    # not count against the next test's (the limits are tested on relays of their own,
    # in tests/relay_ops and tests/server).
    "--redeem-attempts-per-address",
    "0",
    "--max-connections-per-address",
    "0",
]


class SharedRelay:
    """The module's relay, started on first use and again if a test left it stopped."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: RelayProcess | None = None
        self._started = 0

    def running(self) -> RelayProcess:
        process = self.process
        if process is None or process.proc is None or process.proc.poll() is not None:
            if process is not None:
                process.stop()
            self._started += 1
            process = RelayProcess(self.folder / f"relay-{self._started}.db", list(SHARED_ARGS))
            self.process = process.start()
        return process

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


def relay_fixture(
    request: pytest.FixtureRequest, shared: SharedRelay, tmp_path: Path
) -> Iterator[RelayProcess]:
    """The body of each suite's ``relay`` fixture (see the module docstring)."""
    if request.node.get_closest_marker("own_relay") is None:
        yield shared.running()
        return
    process = RelayProcess(tmp_path / "relay.db").start()
    try:
        yield process
    finally:
        process.stop()
