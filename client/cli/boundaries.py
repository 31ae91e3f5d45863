"""``trellis boundary`` and ``boundaries``: personal boundaries (docs/PROTOCOL.md §5.14),
owned by one partner and acknowledged by the other; no consent needed."""

from __future__ import annotations

import argparse

from client.cli.common import (
    by_prefix,
    json_flag,
    my_member_id,
    open_space,
    parse_review_date,
    print_json,
    tell_delivery,
)
from client.views.present_intimacy import boundary_json, boundary_lines
from schemas.intimacy import BOUNDARY_AREAS, BoundaryAcknowledged, BoundarySet, BoundaryWithdrawn


async def cmd_boundaries(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        items = space.views().intimacy.boundaries
        if not args.all:
            items = [b for b in items if b.withdrawn_at is None]
        if args.json:
            print_json([boundary_json(b, space) for b in items])
            return 0
        if not items:
            print("No personal boundaries yet.")
        for b in items:
            print("\n".join(boundary_lines(b, space)))
    return 0


async def cmd_boundary_set(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        me = my_member_id(space)
        revises = None
        if args.revise:
            mine = [b.current for b in space.views().intimacy.boundaries if b.owner == me]
            revises = by_prefix(mine, args.revise, "boundary of yours").id
        payload = BoundarySet(
            area=args.area,
            i_will=args.i_will.strip(),
            when=(args.when or "").strip(),
            why=(args.why or "").strip() or None,
            non_negotiable=args.non_negotiable,
            review_on=parse_review_date(args.review_on),
            revises=revises,
        )
        await space.append(payload)
        await tell_delivery(
            space, args, "Saved. It needs nobody's consent; your partner can mark it as read."
        )
        if payload.i_will.lower().startswith(("you must", "you will", "you have to")):
            print(
                "Note: this reads like a request of your partner. A boundary says what "
                "you will do, e.g. 'If X happens, I will ...'."
            )
    return 0


async def cmd_boundary_ref(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        me = my_member_id(space)
        views = space.views().intimacy.boundaries
        if args.boundary_command == "withdraw":
            target = by_prefix(
                [b.current for b in views if b.owner == me], args.id, "boundary of yours"
            )
            await space.append(BoundaryWithdrawn(version=target.id))
            await tell_delivery(space, args, "Withdrawn. Its history stays.")
        else:
            theirs = [b.current for b in views if b.owner != me]
            target = by_prefix(theirs, args.id, "boundary of your partner's")
            await space.append(BoundaryAcknowledged(version=target.id))
            await tell_delivery(
                space, args, "Marked as read. Reading it is not agreeing to anything."
            )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    boundary = sub.add_parser(
        "boundary", help="personal boundaries: what you will do (no consent needed)"
    ).add_subparsers(dest="boundary_command", required=True, metavar="ACTION")
    p = boundary.add_parser("set", help="'If X happens, I will Y'; or a new version of one")
    p.add_argument("--area", required=True, choices=BOUNDARY_AREAS)
    p.add_argument("--when", help="X: what happens")
    p.add_argument("--i-will", required=True, help="Y: what you will do")
    p.add_argument("--why", help="why, if you want to say")
    p.add_argument("--non-negotiable", action="store_true")
    p.add_argument("--review-on", metavar="DATE", help="when to look at it again")
    p.add_argument("--revise", metavar="ID", help="the boundary of yours this replaces")
    p.set_defaults(handler=cmd_boundary_set)
    for name, text in (
        ("withdraw", "withdraw one of your boundaries (its history stays)"),
        ("ack", "mark your partner's boundary as read (not agreement)"),
    ):
        p = boundary.add_parser(name, help=text)
        p.add_argument("id", help="the boundary's id, or its first characters")
        p.set_defaults(handler=cmd_boundary_ref)
    p = sub.add_parser("boundaries", help="both partners' personal boundaries")
    json_flag(p)
    p.add_argument("--all", action="store_true", help="include withdrawn ones")
    p.set_defaults(handler=cmd_boundaries)
