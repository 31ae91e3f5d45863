"""``trellis language``: the shared words and cues for discomfort and desire
(docs/PROTOCOL.md §5.13), versioned like agreements."""

from __future__ import annotations

import argparse

from client.cli.common import (
    UsageError,
    by_prefix,
    json_flag,
    open_space,
    print_json,
    tell_delivery,
)
from client.errors import ClientErrorCode, TrellisError
from client.views.intimacy.language import redefines_stop
from client.views.present_intimacy import language_json, language_lines
from schemas.intimacy import TERM_KINDS, TermAccepted, TermProposed, TermWithdrawn


async def cmd_language_show(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        terms = space.views().intimacy.language
        if args.json:
            print_json(language_json(terms, space))
        else:
            print("\n".join(language_lines(terms, space)))
    return 0


async def cmd_language_propose(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        revises = None
        if args.revise:
            versions = [v for t in space.views().intimacy.language for v in t.versions]
            revises = by_prefix(versions, args.revise, "word of your shared language").id
        payload = TermProposed(
            term=args.term.strip(),
            meaning=args.means.strip(),
            kind=args.kind,
            gesture=args.gesture,
            revises=revises,
        )
        if redefines_stop(payload.term, payload.kind):
            raise UsageError(f"'{payload.term}' always means stop; it cannot mean anything else.")
        event = await space.append(payload)
        await tell_delivery(
            space,
            args,
            f"Proposed ({event.event_id.hex()[:8]}). It is in use once your partner accepts it.",
        )
    return 0


async def cmd_language_answer(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        versions = [v for t in space.views().intimacy.language for v in t.versions]
        target = by_prefix(versions, args.id, "word of your shared language")
        if args.language_command == "accept":
            if target.closed:
                raise TrellisError(
                    "That version is closed: the word was withdrawn or changed since. "
                    "To use it again, propose it again ('trellis language propose').",
                    code=ClientErrorCode.NOTHING_OPEN,
                )
            await space.append(TermAccepted(version=target.id))
            await tell_delivery(space, args, "Accepted.")
        else:
            await space.append(TermWithdrawn(version=target.id))
            await tell_delivery(space, args, "Withdrawn: no longer in use, from now.")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    language = sub.add_parser(
        "language", help="your shared words and cues for discomfort and desire"
    ).add_subparsers(dest="language_command", required=True, metavar="ACTION")
    p = language.add_parser("show", help="the words in use, and which signal each goes with")
    json_flag(p)
    p.set_defaults(handler=cmd_language_show)
    p = language.add_parser("propose", help="propose a word or cue, or a change to one")
    p.add_argument("term", help="the word, or a short name for a gesture")
    p.add_argument("--means", required=True, help="what it means, e.g. 'slow down'")
    p.add_argument(
        "--kind", required=True, choices=TERM_KINDS, help="stop, slow, check, ok or desire"
    )
    p.add_argument("--gesture", action="store_true", help="it is a gesture or sound, not a word")
    p.add_argument("--revise", metavar="ID", help="the entry this changes")
    p.set_defaults(handler=cmd_language_propose)
    for name, text in (
        ("accept", "accept a proposed word"),
        ("withdraw", "take a word out of use, at once (either of you)"),
    ):
        p = language.add_parser(name, help=text)
        p.add_argument("id", help="the entry's id, or its first characters")
        p.set_defaults(handler=cmd_language_answer)
