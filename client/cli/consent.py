"""``trellis export-consent`` and the consent part of ``trellis export``: a partner's
words leave in the other's export only with their signed yes for that export
(docs/PROTOCOL.md "Exports", "Consent")."""

from __future__ import annotations

import argparse
from datetime import datetime

from client.cli.common import open_space
from client.errors import UsageError
from client.export.choice import ExportChoice
from client.export.consent import left_out_sentence
from client.space import Space
from client.space.exporting import (
    ExportMade,
    give_export_consent,
    make_export,
    withdraw_export_consent,
)
from client.views.practice_forms import DeclarationWords, export_declaration
from schemas.practices import ExportConsented

UNTIL_MISSING = "Say until when, with --until DATE (for example 2027-01-31)."
"""practice_forms.SAY_UNTIL_WHEN, naming the flag."""

CLI_DECLARATION_WORDS = DeclarationWords(
    recipient="who it is for (--for)",
    purpose="why (--purpose)",
    say_purpose="Say why, with --purpose.",
    until_missing=UNTIL_MISSING,
)
"""practice_forms.DECLARATION_WORDS, naming the flags."""


def asked(args: argparse.Namespace) -> ExportConsented:
    """The recipient, purpose and end given on the command line."""
    return export_declaration(
        args.recipient,
        args.purpose,
        args.until,
        datetime.now().astimezone().date(),
        CLI_DECLARATION_WORDS,
    )


async def export_with_consent(
    space: Space, choice: ExportChoice, declaration: ExportConsented, since_ms: int | None
) -> tuple[ExportMade, list[str]]:
    """The export (client/space/exporting.py) and a sentence for each of the partner's
    words left out for want of their consent."""
    made = await make_export(space, choice, declaration, since_ms=since_ms)
    notes = [
        left_out_sentence(
            item.kind,
            "They can with 'trellis export-consent'.",
            ref=item.event.hex()[:8],
            about=item.about,
        )
        for item in made.left_out
    ]
    return made, notes


async def cmd_export_consent(args: argparse.Namespace) -> int:
    if args.withdraw:
        return await _withdraw(args)
    consent = asked(args)
    async with await open_space(args) as space:
        await give_export_consent(space, consent)
    print(
        f"Your consent is saved: what you wrote in your own words may be in your partner's "
        f"export for {consent.recipient} ({consent.purpose}) made before "
        f"{args.until.strip()} ends. An export already handed over cannot be taken back. "
        "It is shared at the next 'trellis sync'."
    )
    return 0


async def _withdraw(args: argparse.Namespace) -> int:
    """End this partner's consent for a recipient and purpose now
    (client/space/exporting.py ``withdraw_export_consent``)."""
    if args.until:
        raise UsageError("Give --until to consent, or --withdraw to end a consent; not both.")
    async with await open_space(args) as space:
        ended = await withdraw_export_consent(
            space, args.recipient, args.purpose, CLI_DECLARATION_WORDS
        )
    print(
        f"Your consent for {ended.recipient} ({ended.purpose}) has ended: exports your "
        "partner's device makes once it has this leave your own words out. An export "
        "already made cannot be taken back. It is shared at the next 'trellis sync'."
    )
    return 0


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--for",
        dest="recipient",
        metavar="NAME",
        help="who the export is for, e.g. 'Dr. Rivera' (must match your partner's consent)",
    )
    p.add_argument(
        "--purpose", help="why, e.g. 'our session on 12 January' (must match the consent)"
    )
    p.add_argument(
        "--until", metavar="DATE", help="the last day it may be used, YYYY-MM-DD, within a year"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export-consent",
        help="let your own words be in your partner's export for one recipient and purpose",
    )
    add_options(p)
    p.add_argument(
        "--withdraw",
        action="store_true",
        help="end your consent for this recipient and purpose now (with --for and --purpose)",
    )
    p.set_defaults(handler=cmd_export_consent)
