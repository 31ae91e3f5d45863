"""``trellis sobriety``, ``milestone`` and ``gratitude``: days and dates to mark. A slip is
a slip, never a failure: only an inner-circle slip shortens the run, and the total keeps
every sober day."""

from __future__ import annotations

import argparse
from typing import Any

from client.cli.common import (
    UsageError,
    open_space,
    parse_past_date,
    parse_past_when,
    print_json,
    read_optional,
    tell_delivery,
)
from client.views import Moment
from client.views.present import iso_utc, local_time
from schemas.practices import GratitudeNoted, MilestoneMarked, SobrietyStarted


async def cmd_sobriety_start(args: argparse.Namespace) -> int:
    start = parse_past_date(args.date, "a sober run's start") or ""
    async with await open_space(args) as space:
        await space.append(SobrietyStarted(date=start, label=args.label or ""))
        await tell_delivery(space, args, f"Sobriety counted from {start}.")
    return 0


async def cmd_sobriety_show(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        counters = space.views(Moment.now()).sobriety
        if args.json:
            print_json(
                [
                    {
                        "member": space.member_name(s.member),
                        "label": s.label,
                        "start": s.start.isoformat() if s.start else None,
                        "current_run_days": s.current_run_days,
                        "total_sober_days": s.total_sober_days,
                        "slips": [d.isoformat() for d in s.slips],
                        "risks": [d.isoformat() for d in s.risks],
                    }
                    for s in counters.values()
                ]
            )
            return 0
        if not counters:
            print("No sobriety date set yet: 'trellis sobriety start DATE'.")
        for s in counters.values():
            label = f" ({s.label})" if s.label else ""
            print(
                f"{space.member_name(s.member)}{label}: {s.current_run_days} days in the current "
                f"run, {s.total_sober_days} sober days in all"
            )
            if s.risks:
                print(
                    f"    {len(s.risks)} middle-circle risk report(s) shared; honesty about "
                    "risks never shortens the run."
                )
    return 0


async def cmd_milestone_add(args: argparse.Namespace) -> int:
    if args.formal_disclosure:
        if args.title or args.note:
            raise UsageError(
                "A formal disclosure milestone carries no words: the disclosure itself "
                "happens in the therapist's office. Give only --when."
            )
        payload = MilestoneMarked(title="Formal disclosure", kind="formal_disclosure")
    elif not (args.title or "").strip():
        raise UsageError("A milestone needs a title, e.g. trellis milestone add 'Six months'.")
    else:
        payload = MilestoneMarked(title=args.title.strip(), note=read_optional(args.note))
    async with await open_space(args) as space:
        await space.append(payload, occurred_at=parse_past_when(args.when, "a milestone"))
        await tell_delivery(space, args, "Milestone marked.")
    return 0


async def cmd_gratitude_add(args: argparse.Namespace) -> int:
    text = read_optional(args.text)
    if not text:
        raise UsageError("The note is empty; nothing was saved.")
    async with await open_space(args) as space:
        await space.append(GratitudeNoted(text=text))
        await tell_delivery(space, args, "Noted.")
    return 0


async def cmd_simple_list(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        views = space.views()
        items: list[Any] = views.milestones if args.family == "milestone" else views.gratitude
        rows = [
            {
                "id": i.id.hex(),
                "author": space.member_name(i.author),
                "recorded_at": iso_utc(i.recorded_at),
                "occurred_at": iso_utc(i.occurred_at),
                **(
                    {"title": i.title, "note": i.note, "kind": i.kind}
                    if args.family == "milestone"
                    else {"text": i.text}
                ),
            }
            for i in items
        ]
        if args.json:
            print_json(rows)
            return 0
        if not rows:
            print("Nothing here yet.")
        for item, row in zip(items, rows, strict=True):
            print(
                f"{local_time(item.occurred_at)}  {row['author']}: "
                f"{row.get('title') or row.get('text')}"
            )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sobriety = sub.add_parser("sobriety", help="sober days").add_subparsers(
        dest="sobriety_command", required=True, metavar="ACTION"
    )
    p = sobriety.add_parser("start", help="set the date your sober run counts from")
    p.add_argument("date")
    p.add_argument("--label", help="what it is about, if you like")
    p.set_defaults(handler=cmd_sobriety_start)
    p = sobriety.add_parser("show", help="current run and total sober days")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sobriety_show)

    for family, text in (("milestone", "milestones"), ("gratitude", "gratitude notes")):
        group = sub.add_parser(family, help=text).add_subparsers(
            dest=f"{family}_command", required=True, metavar="ACTION"
        )
        p = group.add_parser("add")
        if family == "milestone":
            p.add_argument("title", nargs="?")
            p.add_argument("--note")
            p.add_argument("--when", metavar="DATE")
            p.add_argument(
                "--formal-disclosure",
                action="store_true",
                help="mark that a formal disclosure took place (the date only, no words)",
            )
            p.set_defaults(handler=cmd_milestone_add)
        else:
            p.add_argument("text", help="('-' reads stdin)")
            p.set_defaults(handler=cmd_gratitude_add)
        p = group.add_parser("list")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=cmd_simple_list, family=family)
