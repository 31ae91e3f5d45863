"""What the request handlers share for the life of the app (built in app.py's lifespan)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from server.hub import Hub
from server.settings import Settings
from server.store import Store
from server.writer import Writer

Clock = Callable[[], int]
"""Unix time in milliseconds; injectable so tests can move time."""


@dataclass(frozen=True, slots=True)
class Relay:
    settings: Settings
    store: Store
    writer: Writer
    hub: Hub
    clock_ms: Clock
