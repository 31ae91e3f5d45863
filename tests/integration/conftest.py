"""Fixtures for end-to-end tests: a real relay process and real client homes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.relay_process import RelayProcess


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RelayProcess]:
    process = RelayProcess(tmp_path / "relay.db").start()
    try:
        yield process
    finally:
        process.stop()
