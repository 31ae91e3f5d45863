"""``trellis``'s entry point, kept light: ``trellis --help`` answers from a table.

The commands (client/cli/parser.py and one module per command group) import the whole library:
websockets, SQLite, libsodium, asyncio. That took about a second before the first line of
help appeared. So this module imports only argparse; it prints the top-level help from
:data:`COMMANDS` and loads the commands only when one runs. A test checks that this help
is exactly the one the full parser prints, so a new command cannot be left out.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DESCRIPTION = "Trellis: a private, end-to-end encrypted space for two partners."
EXIT_CODES = """exit codes:
  0    done (for a write: saved and delivered to the relay)
  1    a problem (the message says what to do)
  2    a mistyped command or a value that makes no sense
  3    saved on this device but not delivered yet ('trellis sync' sends it later)
  130  interrupted
  141  the program reading the output closed it"""
INTERRUPTED = "trellis: stopped."
"""What Ctrl-C leaves on the terminal, wherever it comes (client/cli/parser.py too)."""
NOT_SAFE = "Not safe? Run 'trellis not-safe' (no passphrase needed; it sends nothing)."
EPILOG = f"{EXIT_CODES}\n\n{NOT_SAFE}"
"""The top-level help's closing words; every command's own help ends with NOT_SAFE."""
CA_FILE_HELP = (
    "also trust this PEM certificate authority for the relay's certificate "
    "(a relay with a private CA; default: $TRELLIS_CA_FILE)"
)


def home_help() -> str:
    """The --home help, naming the default folder as a path on this computer."""
    import platformdirs  # small; loaded only when help is printed

    folder = platformdirs.user_data_dir("trellis", appauthor=False)
    return f"folder holding this device's data (default: $TRELLIS_HOME, else {folder})"


#: Every top-level command and its one-line help, in the order the full parser lists them.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("init", "start a new shared space on this device"),
    ("invite", "make a one-time code for your partner to join"),
    ("join", "join your partner's space with their code"),
    ("safety-number", "the number to compare with your partner"),
    ("profile", "your name and whether you are the partner in recovery"),
    ("journal", "the shared journal"),
    ("sync", "send and receive until up to date"),
    ("status", "relay, members, devices and what is waiting to send"),
    ("agreement", "agreements you both consent to"),
    ("plan", "your three-circles recovery plan (yours to write; your partner reads it)"),
    ("windows", "agreed times for hard conversations"),
    ("disclose", "share something with your partner"),
    ("disclosures", "list disclosures and any marks your partner made"),
    ("seen", "mark your partner's disclosure as seen, or say you need time"),
    ("checkin", "a FANOS check-in"),
    ("checkins", "list check-ins"),
    ("sobriety", "sober days"),
    ("milestone", "milestones"),
    ("gratitude", "gratitude notes"),
    ("signal", "a time-out, slow down or stop; or clear your signal"),
    ("signals", "active signals"),
    ("timeline", "every event, in the order both partners see"),
    ("verify", "check the whole local history; non-zero on problems"),
    ("export", "a verifiable export of agreements for a third party"),
    (
        "verify-export",
        "verify an export offline, with no account; given two, check them against each other",
    ),
    (
        "export-consent",
        "let your own words be in your partner's export for one recipient and purpose",
    ),
    ("device", "add or remove one of your devices"),
    ("devices", "every device of both partners"),
    ("leave", "leave the shared space (cannot be undone)"),
    ("passphrase", "this device's passphrase"),
    ("relay", "which relay this space syncs through"),
    ("pacing", "your pacing plan: stages you move through together"),
    ("intimacy", "intimacy check-ins: information, never a request"),
    ("language", "your shared words and cues for discomfort and desire"),
    ("boundary", "personal boundaries: what you will do (no consent needed)"),
    ("boundaries", "both partners' personal boundaries"),
    ("disclosure-prep", "prepare what you want to know from a formal disclosure"),
    ("private", "notes only your own devices can read; your partner never sees them"),
    ("not-safe", "if you feel afraid or pressured: guidance, your resources, leaving"),
    ("app", "open the app in your browser (served on this computer only)"),
)

ALIASES: dict[str, tuple[str, ...]] = {"seen": ("acknowledge",)}
"""Other names a command answers to (shown in the help as ``seen (acknowledge)``)."""


def help_parser() -> argparse.ArgumentParser:
    """The top level of the full parser (client/cli/parser.py build_parser), without commands."""
    parser = argparse.ArgumentParser(
        prog="trellis",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the table of exit codes
    )
    parser.add_argument("--home", metavar="DIR", help=home_help())
    parser.add_argument("--ca-file", metavar="FILE", help=CA_FILE_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in COMMANDS:
        sub.add_parser(name, help=text, aliases=ALIASES.get(name, ()))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--help"], ["-h"], []):  # `trellis` alone: the help, not an error
        help_parser().print_help()
        return 0
    if args == ["--version"]:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"trellis {version('trellis')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            print("trellis (version unknown: not installed)")
        return 0
    try:
        # The full command line, loaded only to run one. Loading it takes a few tenths
        # of a second: a Ctrl-C then (or while the parser is built, before a command's
        # own handling starts) is one calm line and 130, never a traceback.
        from client.cli.parser import main as run

        return run(args)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except BaseException as exc:
        if not _cancelled_by_interrupt(exc):
            raise
        print(INTERRUPTED, file=sys.stderr)
        return 130


def _cancelled_by_interrupt(exc: BaseException) -> bool:
    """A command's task cancelled by asyncio's Ctrl-C handling, surfacing as
    CancelledError rather than KeyboardInterrupt: asyncio.run turns a Ctrl-C into
    KeyboardInterrupt only when the task was cancelled exactly once, so a Ctrl-C that
    meets another cancellation (a timeout expiring at that moment) escapes as the task's
    CancelledError. Nothing else cancels a command's top-level task. Checked without
    importing asyncio, which a command that never loaded it cannot have raised."""
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)


if __name__ == "__main__":
    sys.exit(main())
