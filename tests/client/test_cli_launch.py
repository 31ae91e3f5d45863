"""``trellis --help`` answers without loading the library (client/cli/).

Before, the first line of help took about a second: every command module, and with them
asyncio, websockets, SQLite and libsodium, was imported first.
"""

from __future__ import annotations

import subprocess
import sys

from client.cli import help_parser
from client.cli.parser import build_parser

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
