"""Fixtures for the operational tests: real relay processes with their own settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.relay_process import RelayProcess

RelayFactory = Callable[..., RelayProcess]


@pytest.fixture
def start_relay(tmp_path: Path) -> Iterator[RelayFactory]:
    """Start relays with extra flags, each with its own database; all stopped after."""
    started: list[RelayProcess] = []

    def start(*args: str, name: str = "relay") -> RelayProcess:
        process = RelayProcess(tmp_path / f"{name}.db", list(args))
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()
