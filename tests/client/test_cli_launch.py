"""``trellis --help`` answers without loading the library (client/cli/), and a command
loads only its own group (client/cli/parser.py GROUPS).

Before, the first line of help took about a second: every command module, and with them
asyncio, websockets, SQLite and libsodium, was imported first. And every command loaded
every group, the web app (litestar, uvicorn, jinja) included: ~0.3 s more per command.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from collections.abc import Iterator

import pytest

from client.cli import COMMANDS, help_parser
from client.cli.parser import GROUPS, build_parser, chosen_command

PROBE = (
    "import sys\n"
    "from client.cli import main\n"
    "main(['--help'])\n"
    "print(sorted(m for m in sys.modules if m == 'client' or m.startswith('client.')))\n"
    "print(sorted(m for m in ('asyncio', 'nacl', 'websockets', 'aiosqlite') if m in sys.modules))\n"
)


def test_the_light_help_is_exactly_the_full_parsers_help() -> None:
    # A command added to the full parser but not to COMMANDS fails here.
    assert help_parser().format_help() == build_parser().format_help()


def test_help_loads_no_command_and_none_of_the_heavy_libraries() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()

    assert out[0].startswith("usage: trellis")
    assert out[-2] == "['client', 'client.cli']"
    assert out[-1] == "[]"


LIGHT_COMMAND_PROBE = (
    "import sys\n"
    "from client.cli.parser import build_parser\n"
    "build_parser(sys.argv[1]).parse_args(sys.argv[1:])\n"
    "heavy = ('litestar', 'uvicorn', 'jinja2', 'segno', 'webbrowser', 'client.app')\n"
    "print(sorted(m for m in heavy if m in sys.modules))\n"
    "print(sorted(m for m in sys.modules if m.startswith('client.cli.')))\n"
)


def commands_of(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def every_parser(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, str]]:
    """Each parser under ``parser`` (itself included) by its path, with its help."""
    yield path, parser.format_help()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from every_parser(child, f"{path} {name}".strip())


def test_each_group_registers_exactly_the_commands_named_for_it() -> None:
    for _, names in GROUPS:
        assert set(commands_of(build_parser(names[0]))) == set(names)
    everything = [name for _, names in GROUPS for name in names]
    assert len(everything) == len(set(everything))  # no command in two groups
    assert set(commands_of(build_parser())) == set(everything)
    # ... and the groups are in the order of the help (the light table, client/cli).
    aliases = {"acknowledge"}
    assert [n for n in everything if n not in aliases] == [name for name, _ in COMMANDS]


@pytest.mark.parametrize("command", [name for _, names in GROUPS for name in names])
def test_a_command_parses_and_helps_the_same_with_only_its_group_loaded(command: str) -> None:
    full = dict(every_parser(commands_of(build_parser())[command]))
    light = dict(every_parser(commands_of(build_parser(command))[command]))
    assert light == full


@pytest.mark.parametrize(
    "argv",
    [
        ["journal", "list", "--json"],
        ["--home", "/tmp/h", "journal", "add", "-"],
        ["--home=/tmp/h", "--ca-file", "ca.pem", "signal", "stop", "--note", "later"],
        ["--ho", "/tmp/h", "acknowledge", "abcd"],
        ["sobriety", "start", "2026-01-02"],
    ],
)
def test_an_argv_parses_to_the_same_values_with_only_its_group_loaded(argv: list[str]) -> None:
    command = chosen_command(argv)
    assert command is not None
    assert vars(build_parser(command).parse_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["journal", "list"], "journal"),
        (["--home", "/tmp/h", "status", "--json"], "status"),
        (["--home=/tmp/h", "sync"], "sync"),
        (["--ho", "/tmp/h", "acknowledge", "abcd"], "acknowledge"),
        (["--ca-file", "x.pem", "--home", "h", "not-safe"], "not-safe"),
        # Not a known command: the full parser answers (its help, or its list of choices).
        (["--home", "journal", "list"], None),  # "journal" is the folder here
        (["jurnal", "list"], None),
        (["--help"], None),
        (["-h", "journal"], None),
        (["--home"], None),
        ([], None),
    ],
)
def test_the_command_is_read_as_the_full_parser_reads_it(
    argv: list[str], command: str | None
) -> None:
    assert chosen_command(argv) == command


@pytest.mark.parametrize(
    ("argv", "groups"),
    [
        (["journal", "list"], {"journal"}),
        (["status"], {"sync", "devices", "relay"}),  # sync.py uses the other two
        (["app", "--no-browser"], {"local_app"}),
    ],
)
def test_a_command_loads_only_its_group_and_never_the_web_app_to_parse(
    argv: list[str], groups: set[str]
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", LIGHT_COMMAND_PROBE, *argv],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()

    assert out[0] == "[]"  # litestar, uvicorn, jinja: only when `trellis app` runs
    loaded = {m.removeprefix("client.cli.") for m in ast.literal_eval(out[1])}
    assert loaded & {name for name, _ in GROUPS} == groups
