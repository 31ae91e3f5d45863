"""Fixtures for the lying-relay tests: a real relay process, a proxy in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from client.space import Space
from tests.adversarial.proxy import AdversarialProxy
from tests.integration.relay_process import RelayProcess


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RelayProcess]:
    process = RelayProcess(tmp_path / "relay.db").start()
    try:
        yield process
    finally:
        process.stop()


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
