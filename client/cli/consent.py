"""``trellis export-consent`` and the consent part of ``trellis export``: a partner's
words leave in the other's export only with their signed yes for that export
(docs/PROTOCOL.md "Exports", "Consent")."""

from __future__ import annotations

import argparse
from datetime import datetime

from client.cli.common import UsageError, open_space
from client.errors import ClientErrorCode, TrellisError
from client.export import choose_with_consent
from client.export.consent import WORD_LABELS
from client.space import Space
from client.views.practice_forms import consent_until_ms
from schemas.ids import EventId
from schemas.practices import MAX_PURPOSE_CHARS, MAX_RECIPIENT_CHARS, ExportConsented


def _text(value: str | None, what: str, limit: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise UsageError(f"Say {what}.")
    if len(text) > limit:
        raise UsageError(f"Keep {what} under {limit} characters.")
    return text


UNTIL_MISSING = "Say until when, with --until DATE (for example 2027-01-31)."
"""practice_forms.SAY_UNTIL_WHEN, naming the flag."""


def asked(args: argparse.Namespace) -> ExportConsented:
    """The recipient, purpose and end given on the command line."""
    return ExportConsented(
        recipient=_text(args.recipient, "who it is for, with --for", MAX_RECIPIENT_CHARS),
        purpose=_text(args.purpose, "why, with --purpose", MAX_PURPOSE_CHARS),
        expires_at=consent_until_ms(
            args.until, datetime.now().astimezone().date(), missing=UNTIL_MISSING
        ),
    )


async def declare(
    space: Space, chosen: set[EventId], args: argparse.Namespace, created_at_ms: int
) -> tuple[set[EventId], list[str]]:
    """Leave out the partner's words their consent does not cover, write this device's
    declaration (recipient, purpose, end, what was left out) and choose it too. Returns
    what to export and sentences about what was left out."""
    declaration = asked(args)
    kept, left_out = choose_with_consent(
        space_id=space.space_id,
        events=space.events(),
        chosen=chosen,
        exporter=space.device.device_id,
        declaration=declaration,
        created_at_ms=created_at_ms,
    )
    written = await space.append(
        ExportConsented(
            recipient=declaration.recipient,
            purpose=declaration.purpose,
            expires_at=declaration.expires_at,
            left_out=left_out,
        )
    )
    notes = [
        f"Left out {WORD_LABELS.get(item.kind, 'something your partner wrote')} "
        f"({item.event.hex()[:8]}): your partner has not consented to share their own words "
        "with this recipient for this purpose. They can with 'trellis export-consent'."
        for item in left_out
    ]
    return kept | {written.event_id}, notes


async def cmd_export_consent(args: argparse.Namespace) -> int:
    consent = asked(args)
    async with await open_space(args) as space:
        if space.me() is None:
            raise TrellisError(
                "This device is not a member of a space yet.", code=ClientErrorCode.NOT_FOUND
            )
        await space.append(consent)
    print(
        f"Your consent is saved: what you wrote in your own words may be in your partner's "
        f"export for {consent.recipient} ({consent.purpose}) made before "
        f"{args.until.strip()} ends. An export already handed over cannot be taken back. "
        "It is shared at the next 'trellis sync'."
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
    p.set_defaults(handler=cmd_export_consent)
