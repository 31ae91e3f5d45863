"""An old copy of the relay's database, restored later: the rollback a relay operator
gets by restoring last week's backup."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.integration.relay_process import RelayProcess

_SUFFIXES = ("", "-wal", "-shm")


def take_backup(relay: RelayProcess, into: Path) -> Path:
    """Stop the relay, copy its database files, start it again."""
    relay.stop()
    into.mkdir(parents=True, exist_ok=True)
    for suffix in _SUFFIXES:
        source = Path(f"{relay.db}{suffix}")
        if source.exists():
            shutil.copy2(source, into / (relay.db.name + suffix))
    relay.start()
    return into


def restore_backup(relay: RelayProcess, backup: Path) -> None:
    """Stop the relay, put the old copy in place of its database, start it again."""
    relay.stop()
    for suffix in _SUFFIXES:
        Path(f"{relay.db}{suffix}").unlink(missing_ok=True)
        copy = backup / (relay.db.name + suffix)
        if copy.exists():
            shutil.copy2(copy, Path(f"{relay.db}{suffix}"))
    relay.start()
