"""``trellis checkin`` and ``checkins``: FANOS check-ins, written down as preparation for
saying them to each other. The listener gives no feedback: there is nothing to answer."""

from __future__ import annotations

import argparse

from client.cli.common import UsageError, open_space, print_json, read_optional, tell_delivery
from client.views.practice_forms import FANOS_LABELS, FANOS_PROMPTS, NOTHING_TO_ANSWER
from client.views.present import iso_utc, local_time
from schemas.practices import CheckIn


async def cmd_checkin(args: argparse.Namespace) -> int:
    fields = {
        k: read_optional(getattr(args, k))
        for k in ("feelings", "affirmation", "needs", "ownership", "sobriety")
    }
    if not any(fields.values()) and args.mood is None:
        raise UsageError(
            "A check-in needs at least one of --feelings, --affirmation, --needs, "
            "--ownership, --struggles or --mood."
        )
    async with await open_space(args) as space:
        await space.append(CheckIn(mood=args.mood, **fields))
        await tell_delivery(space, args, "Checked in.")
    return 0


async def cmd_checkins(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        items = space.views().checkins
        if args.json:
            print_json(
                [
                    {
                        "id": c.id.hex(),
                        "author": space.member_name(c.author),
                        "recorded_at": iso_utc(c.recorded_at),
                        "occurred_at": iso_utc(c.occurred_at),
                        "feelings": c.feelings,
                        "affirmation": c.affirmation,
                        "needs": c.needs,
                        "ownership": c.ownership,
                        "sobriety": c.sobriety,
                        "mood": c.mood,
                    }
                    for c in items
                ]
            )
            return 0
        if not items:
            print("No check-ins yet.")
            return 0
        print(NOTHING_TO_ANSWER)
        for c in items:
            print(
                f"{local_time(c.recorded_at)}  {space.member_name(c.author)} checked in"
                + (f", mood {c.mood}/5" if c.mood else "")
            )
            for name, label in FANOS_LABELS.items():
                value = getattr(c, name)
                if value:
                    print(f"    {label}: {value}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "checkin",
        help="a FANOS check-in",
        description="A FANOS check-in, written down as preparation for saying it to each "
        "other. FANOS stands for Feelings, Affirmation (something you appreciate in your "
        "partner), Needs, Ownership (something you said or did, with an apology) and "
        "Struggles (with self-care). The listener gives no feedback: there is nothing to "
        "answer.",
    )
    for name, text in FANOS_PROMPTS:
        flags = ["--struggles", "--sobriety"] if name == "sobriety" else [f"--{name}"]
        p.add_argument(*flags, dest=name, help=text)
    p.add_argument(
        "--mood",
        type=int,
        choices=range(1, 6),
        metavar="1-5",
        help="how you feel, 1 (very low) to 5 (very good)",
    )
    p.set_defaults(handler=cmd_checkin)
    p = sub.add_parser("checkins", help="list check-ins")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_checkins)
