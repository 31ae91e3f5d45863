"""Fixtures for end-to-end tests: a real relay process and real client homes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.relay_process import RelayProcess
from tests.integration.shared_relay import SharedRelay, relay_fixture


@pytest.fixture(scope="module")
def shared_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedRelay]:
    shared = SharedRelay(tmp_path_factory.mktemp("relay"))
    try:
        yield shared
    finally:
        shared.stop()


@pytest.fixture
def relay(
    request: pytest.FixtureRequest, shared_relay: SharedRelay, tmp_path: Path
) -> Iterator[RelayProcess]:
    """This module's relay (a fresh space per test), or one of the test's own when it is
    marked ``own_relay`` (tests/integration/shared_relay.py)."""
    yield from relay_fixture(request, shared_relay, tmp_path)
