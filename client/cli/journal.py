"""``trellis journal``: the shared journal. Nothing is edited in place: an amendment keeps
the earlier text in the history, and a retraction hides an entry from the journal only."""

from __future__ import annotations

import argparse

from client.cli.common import (
    open_space,
    parse_when,
    print_json,
    read_text,
    resolve_entry,
    tell_delivery,
)
from client.views.present import journal_json, journal_lines
from schemas.payloads import JournalAmended, JournalEntry, JournalRetracted


async def cmd_journal_add(args: argparse.Namespace) -> int:
    text = read_text(args.text)
    async with await open_space(args) as space:
        event = await space.append(
            JournalEntry(text=text, mood=args.mood, tags=list(args.tag or [])),
            occurred_at=parse_when(args.occurred),
        )
        await tell_delivery(space, args, f"Saved ({event.event_id.hex()[:8]}).")
    return 0


async def cmd_journal_amend(args: argparse.Namespace) -> int:
    text = read_text(args.text)
    async with await open_space(args) as space:
        entry = resolve_entry(space, args.id)
        # What is not given is kept: an amendment replaces the whole entry, so the mood
        # and tags of the current version are carried over unless new ones are given.
        current = next(i for i in space.journal(include_retracted=True) if i.id == entry)
        mood = current.mood if args.mood is None else args.mood
        tags = list(current.tags) if args.tag is None else list(args.tag)
        await space.append(JournalAmended(entry=entry, text=text, mood=mood, tags=tags))
        await tell_delivery(space, args, "Updated. The earlier text stays in the history.")
    return 0


async def cmd_journal_retract(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        entry = resolve_entry(space, args.id)
        await space.append(JournalRetracted(entry=entry, reason=args.reason))
        await tell_delivery(
            space,
            args,
            "Hidden from the journal. The history still shows it: your partner can still "
            "read it there, because what was shared cannot be unsent.",
        )
    return 0


async def cmd_journal_list(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        items = space.journal(include_retracted=args.all)
        if args.json:
            print_json([journal_json(i, space) for i in items])
            return 0
        if not items:
            print("The journal is empty.")
        for item in items:
            print("\n".join(journal_lines(item, space)))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    journal = sub.add_parser("journal", help="the shared journal").add_subparsers(
        dest="journal_command", required=True, metavar="ACTION"
    )
    p = journal.add_parser("add", help="write an entry ('-' reads it from stdin)")
    p.add_argument("text")
    p.add_argument(
        "--mood",
        type=int,
        choices=range(1, 6),
        metavar="1-5",
        help="how you feel, 1 (very low) to 5 (very good)",
    )
    p.add_argument("--tag", action="append", help="a tag; repeat for more")
    p.add_argument(
        "--occurred", metavar="DATE", help="when it happened, if not now (e.g. 2026-11-26T18:30)"
    )
    p.set_defaults(handler=cmd_journal_add)
    p = journal.add_parser("amend", help="update one of your entries; the old text is kept")
    p.add_argument("id", help="the entry id, or its first characters")
    p.add_argument("text", help="the new text ('-' reads it from stdin)")
    p.add_argument(
        "--mood",
        type=int,
        choices=range(1, 6),
        metavar="1-5",
        help="a new mood, 1 (very low) to 5 (very good); kept as it was if not given",
    )
    p.add_argument(
        "--tag", action="append", help="a tag; repeat for more; kept as they were if not given"
    )
    p.set_defaults(handler=cmd_journal_amend)
    p = journal.add_parser(
        "retract", help="hide one of your entries from the journal (the history still shows it)"
    )
    p.add_argument("id", help="the entry id, or its first characters")
    p.add_argument("--reason", help="an optional note for your partner")
    p.set_defaults(handler=cmd_journal_retract)
    p = journal.add_parser("list", help="show the journal")
    p.add_argument("--json", action="store_true", help="print one JSON array")
    p.add_argument("--all", action="store_true", help="include withdrawn entries")
    p.set_defaults(handler=cmd_journal_list)
