"""``trellis``: the whole command line, built from one module per command group.

Every command exits 0 on success and, on failure, prints one line to stderr that says
what happened and what to do, then exits non-zero (1 for a problem, 2 for a mistyped
command, 130 when interrupted). A write is saved on this device first, then delivered to
the relay at once if it can be (within client/cli/common.py DELIVER_TIMEOUT_S): it exits
0 when delivered and 3 when saved here but not delivered yet (the words say why).
Passphrases come from ``TRELLIS_PASSPHRASE`` or a prompt, never from an argument, so
they do not end up in shell history.

This module only assembles the parser (:data:`GROUPS`, in the order of the light entry
point's ``COMMANDS`` table, client/cli/__init__.py) and turns errors into words and exit
codes; each command lives in its group's module, imported only when one of its commands
runs (or the full help is asked for).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from client.cli import CA_FILE_HELP, DESCRIPTION, EPILOG, home_help
from client.cli.common import Handler, UsageError, exit_code
from client.cli.help_texts import fill_help, point_every_help_to_not_safe
from client.cli.terminal import shown_only
from client.errors import TrellisError
from client.store.relay_http import CA_FILE_ENV
from client.views.present import plain_error

#: The reader of stdout went away (a closed pipe): 128 + SIGPIPE, as a shell reports it.
EXIT_CLOSED_PIPE = 141

#: The command groups, each a module of client/cli with ``register(sub)``, in the order of
#: the help, with the commands (and aliases) each registers. To run a command only its
#: group's module is imported (:func:`build_parser`): ``trellis journal list`` does not
#: load the web app (``trellis app``: litestar, uvicorn, jinja) or the export renderer.
#: A test checks each group registers exactly the commands named here.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pairing", ("init", "invite", "join", "safety-number", "profile")),
    ("journal", ("journal",)),
    ("sync", ("sync", "status")),
    ("agreements", ("agreement",)),
    ("plan", ("plan",)),
    ("windows", ("windows",)),
    ("disclosures", ("disclose", "disclosures", "seen", "acknowledge")),
    ("checkins", ("checkin", "checkins")),
    ("sobriety", ("sobriety", "milestone", "gratitude")),
    ("signals", ("signal", "signals")),
    ("audit", ("timeline", "verify", "export", "verify-export")),
    ("consent", ("export-consent",)),
    ("devices", ("device", "devices", "leave", "passphrase")),
    ("relay", ("relay",)),
    ("pacing", ("pacing",)),
    ("intimacy", ("intimacy",)),
    ("language", ("language",)),
    ("boundaries", ("boundary", "boundaries")),
    ("disclosure_prep", ("disclosure-prep",)),
    ("private", ("private", "not-safe")),
    ("local_app", ("app",)),
)


def group_module(name: str) -> ModuleType:
    """The command group ``name`` (a key of :data:`GROUPS`), imported on first use."""
    return importlib.import_module(f"client.cli.{name}")


class _NotACommand(Exception):
    """The light pre-parse of :func:`chosen_command` could not tell the command."""


class _QuietParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NotACommand(message)


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, read with the same top-level options as the full
    parser (``--home``, ``--ca-file``, their abbreviations and ``=`` forms), so it is the
    word the full parser would hand to a command; None when that is not a known command
    (a typo, ``--help``, nothing): then the full parser answers, with every choice."""
    pre = _QuietParser(prog="trellis", add_help=False)
    pre.add_argument("-h", "--help", action="store_true")  # the top level's help lists all
    pre.add_argument("--home")
    pre.add_argument("--ca-file")
    pre.add_argument("command", nargs="?")
    try:
        known, _ = pre.parse_known_args(list(argv))
    except _NotACommand:
        return None
    if known.help:  # anywhere: a command's own --help is the same from the full parser
        return None
    command = known.command
    return command if any(command in names for _, names in GROUPS) else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; given ``command``, only the group that has it.

    Parsing an argv whose command is ``command`` gives the same result, the same
    errors and the same help with either parser: the top level parses the same
    options, and the command's own parser is built by the same ``register``."""
    parser = argparse.ArgumentParser(
        prog="trellis",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the table of exit codes
    )
    parser.add_argument("--home", metavar="DIR", help=home_help())
    parser.add_argument("--ca-file", metavar="FILE", help=CA_FILE_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, commands in GROUPS:
        if command is None or command in commands:
            group_module(name).register(sub)
    point_every_help_to_not_safe(parser)
    parser.epilog = EPILOG  # the top level also documents the exit codes
    fill_help(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(chosen_command(argv))
    args = parser.parse_args(argv)
    if args.ca_file:
        os.environ[CA_FILE_ENV] = args.ca_file  # read where the relay is dialled
    handler: Handler = args.handler
    with shown_only():  # partners' words never drive the terminal (client/cli/terminal.py)
        return _run(args, handler)


def _run(args: argparse.Namespace, handler: Handler) -> int:
    try:
        return exit_code(args, asyncio.run(handler(args)))
    except TrellisError as exc:
        print(f"trellis: {plain_error(exc.message)}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            print("trellis: stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`trellis timeline --json | head`): nothing to say to it.
        # Point stdout at /dev/null so the interpreter's final flush is quiet too.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    except TimeoutError:
        print(
            "trellis: the relay took too long to answer; nothing was lost. Try again.",
            file=sys.stderr,
        )
        return 1
    except Exception:  # the outermost shell: one calm line, never a traceback
        print(
            "trellis: something unexpected went wrong. What was already saved on this "
            "device is kept; please report this, with the command you ran.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
