"""Fixtures for the lying-relay tests: a real relay process, a proxy in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from client.space import Space
from tests.adversarial.proxy import AdversarialProxy
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
    """This module's relay (a fresh space per test; a rollback test's restore turns back
    only spaces of tests already finished), or one of its own when marked ``own_relay``."""
    yield from relay_fixture(request, shared_relay, tmp_path)


@pytest.fixture
async def proxy(relay: RelayProcess) -> AsyncIterator[AdversarialProxy]:
    async with AdversarialProxy(relay.port) as running:
        yield running


@pytest.fixture
async def opened() -> AsyncIterator[list[Space]]:
    """Spaces a test opened, closed when it ends however it ends."""
    spaces: list[Space] = []
    yield spaces
    for space in reversed(spaces):
        await space.close()
