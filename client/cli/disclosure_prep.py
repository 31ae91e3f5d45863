"""``trellis disclosure-prep``: preparing what one wants to know from a formal disclosure
(docs/PROTOCOL.md §5.15): questions, detail wanted, topics not to hear."""

from __future__ import annotations

import argparse

from client.cli.common import (
    UsageError,
    by_prefix,
    json_flag,
    my_member_id,
    open_space,
    print_json,
    tell_delivery,
)
from client.errors import ClientErrorCode, TrellisError
from client.views.present_intimacy import preparation_json, preparation_lines
from schemas.intimacy import DisclosurePrepared, DisclosureQuestionsMarked, QuestionMark


async def cmd_prep_set(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        me = my_member_id(space)
        mine = [p for p in space.views().intimacy.preparations if p.owner == me]
        payload = DisclosurePrepared(
            questions=[q.strip() for q in args.question or [] if q.strip()],
            detail_wanted=args.detail,
            topics_not_to_hear=[t.strip() for t in args.not_to_hear or [] if t.strip()],
            safety_needs=[t.strip() for t in args.safety_need or [] if t.strip()],
            support_plan=(args.support_plan or "").strip() or None,
            revises=mine[-1].version_id if mine else None,
        )
        await space.append(payload)
        await tell_delivery(
            space,
            args,
            "Saved. Your partner can read it; the disclosure then refers to it. You decide "
            "how much to hear, and you can change this at any time.",
        )
    return 0


async def cmd_prep_show(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        preps = space.views().intimacy.preparations
        if args.json:
            print_json([preparation_json(p, space) for p in preps])
            return 0
        if not preps:
            print("No disclosure preparation yet.")
        for p in preps:
            print("\n".join(preparation_lines(p, space)))
    return 0


def _indexes(value: str | None, count: int) -> list[int]:
    if not value:
        return []
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"'{value}' is not a list of question numbers, e.g. 1,3,4.") from None
    bad = [n for n in numbers if not 1 <= n <= count]
    if bad:
        raise UsageError(f"There are {count} questions; {bad[0]} is not one of them.")
    return [n - 1 for n in numbers]


async def cmd_prep_mark(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        views = space.views()
        preps = views.intimacy.preparations
        if not preps:
            raise TrellisError(
                "There is no disclosure preparation to mark.", code=ClientErrorCode.NOT_FOUND
            )
        prep = by_prefix(preps, args.id, "preparation", key="version_id") if args.id else preps[-1]
        count = len(prep.current.questions)
        marks = [QuestionMark(index=i, answered=True) for i in _indexes(args.answered, count)]
        marks += [QuestionMark(index=i, answered=False) for i in _indexes(args.not_answered, count)]
        if not marks:
            raise UsageError("Say which questions: --answered 1,2 and/or --not-answered 3.")
        disclosure = None
        if args.disclosure:
            disclosure = by_prefix(views.disclosures, args.disclosure, "disclosure").id
        await space.append(
            DisclosureQuestionsMarked(
                preparation=prep.version_id, marks=marks, disclosure=disclosure
            )
        )
        await tell_delivery(space, args, "Marked.")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    prep = sub.add_parser(
        "disclosure-prep", help="prepare what you want to know from a formal disclosure"
    ).add_subparsers(dest="prep_command", required=True, metavar="ACTION")
    p = prep.add_parser("set", help="your questions, detail wanted, topics not to hear")
    p.add_argument("--question", action="append", help="a question; repeat for more")
    p.add_argument("--detail", choices=("overview", "some", "full"), default="overview")
    p.add_argument("--not-to-hear", action="append", help="a topic you do not want to hear")
    p.add_argument("--safety-need", action="append", help="e.g. STI testing; repeat for more")
    p.add_argument("--support-plan", help="who supports you, before and after")
    p.set_defaults(handler=cmd_prep_set)
    p = prep.add_parser("show", help="the preparation and which questions were answered")
    json_flag(p)
    p.set_defaults(handler=cmd_prep_show)
    p = prep.add_parser("mark", help="mark questions answered or not after a disclosure")
    p.add_argument("--answered", metavar="N,N", help="question numbers answered")
    p.add_argument("--not-answered", metavar="N,N", help="question numbers not answered")
    p.add_argument("--disclosure", metavar="ID", help="the formal disclosure this refers to")
    p.add_argument("--id", help="the preparation's id, if there is more than one")
    p.set_defaults(handler=cmd_prep_mark)
