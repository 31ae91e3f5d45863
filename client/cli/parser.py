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
codes; each command lives in its group's module.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence

from client.cli import (
    CA_FILE_HELP,
    DESCRIPTION,
    EPILOG,
    agreements,
    audit,
    boundaries,
    checkins,
    consent,
    devices,
    disclosure_prep,
    disclosures,
    home_help,
    intimacy,
    journal,
    language,
    local_app,
    pacing,
    pairing,
    plan,
    private,
    relay,
    signals,
    sobriety,
    sync,
    windows,
)
from client.cli.common import Handler, UsageError, exit_code
from client.cli.help_texts import fill_help
from client.cli.terminal import shown_only
from client.errors import TrellisError
from client.store.relay_http import CA_FILE_ENV
from client.views.present import plain_error

#: The reader of stdout went away (a closed pipe): 128 + SIGPIPE, as a shell reports it.
EXIT_CLOSED_PIPE = 141

#: The command groups, each a module with ``register(sub)``, in the order of the help.
GROUPS = (
    pairing,
    journal,
    sync,
    agreements,
    plan,
    windows,
    disclosures,
    checkins,
    sobriety,
    signals,
    audit,
    consent,
    devices,
    relay,
    pacing,
    intimacy,
    language,
    boundaries,
    disclosure_prep,
    private,
    local_app,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trellis",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the table of exit codes
    )
    parser.add_argument("--home", metavar="DIR", help=home_help())
    parser.add_argument("--ca-file", metavar="FILE", help=CA_FILE_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    private.point_every_help_to_not_safe(parser)
    parser.epilog = EPILOG  # the top level also documents the exit codes
    fill_help(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
