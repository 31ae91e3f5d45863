"""Issue #12 for the command line: one module per command group, none over ~400 lines,
and every group registered (client/cli/parser.py GROUPS)."""

from __future__ import annotations

import ast
from pathlib import Path

import client.cli
from client.cli.parser import GROUPS

CLI = Path(client.cli.__file__).parent
MAX_LINES = 400


def test_no_command_line_module_is_over_400_lines() -> None:
    long = {
        path.name: lines
        for path in CLI.glob("*.py")
        if (lines := len(path.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_module_with_commands_is_a_registered_group() -> None:
    with_commands = {
        path.stem
        for path in CLI.glob("*.py")
        if any(
            isinstance(node, ast.FunctionDef) and node.name == "register"
            for node in ast.parse(path.read_text("utf-8")).body
        )
    }
    assert with_commands == {name for name, _ in GROUPS}
