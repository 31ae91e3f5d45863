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


@pytest.fixture(autouse=True)
def _fast_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    """Library-level tests use the minimum Argon2id cost; CLI tests run the real one."""
    import nacl.pwhash.argon2id as argon2id

    from client import crypto

    monkeypatch.setattr(crypto, "VAULT_OPSLIMIT", argon2id.OPSLIMIT_MIN)
    monkeypatch.setattr(crypto, "VAULT_MEMLIMIT", argon2id.MEMLIMIT_MIN)
