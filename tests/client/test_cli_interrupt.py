"""``trellis`` ends on a Ctrl-C with one calm line and 130, also when asyncio surfaces
the Ctrl-C as the command task's CancelledError (client/cli/__init__.py)."""

from __future__ import annotations

import asyncio

import pytest

import client.cli
from client.cli import INTERRUPTED
from client.cli import parser as full_parser


def _raising(exc: BaseException) -> object:
    def run(_args: list[str]) -> int:
        raise exc

    return run


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), asyncio.CancelledError()])
def test_an_interrupt_or_its_cancellation_is_one_calm_line_and_130(
    exc: BaseException, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(full_parser, "main", _raising(exc))
    assert client.cli.main(["status"]) == 130
    assert capsys.readouterr().err.strip() == INTERRUPTED


def test_any_other_failure_is_not_taken_for_an_interrupt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(full_parser, "main", _raising(RuntimeError("a bug")))
    with pytest.raises(RuntimeError):
        client.cli.main(["status"])
