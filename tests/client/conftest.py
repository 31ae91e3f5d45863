"""Shared settings for the client's unit tests (no sockets, no relay)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Tests named test_bug_* demonstrate a defect in client/ that is reported, not yet
    # fixed; they fail until the fix lands. Deselect them with -m "not known_bug".
    config.addinivalue_line(
        "markers", "known_bug: demonstrates a reported defect in client/; fails until fixed"
    )
