"""``trellis plan``: the three-circles recovery plan. It is not mutual: it belongs to the
partner who writes it (in SAA each member defines their own abstinence, with a sponsor),
and the other partner reads it. What is mutual (what is told, and when) is an ordinary
agreement (docs/PROTOCOL.md §10)."""

from __future__ import annotations

import argparse
from typing import Any, cast

from client.cli.agreement_show import CIRCLES, cmd_list, cmd_show
from client.cli.common import UsageError, open_space, parse_review_date, tell_delivery
from client.cli.versions import (
    AddItem,
    Describe,
    cmd_withdraw,
    find_agreement,
    given_items,
    plan_not_yours,
)
from client.errors import ClientErrorCode, TrellisError
from client.views.agreements import AgreementVersion
from client.views.practice_forms import plan_circles, plan_in_use, plan_proposal
from schemas.practices import CircleItem, MiddleType, ReviewedWith

NO_ANSWER_NEEDED = (
    "A recovery plan needs no one's yes, so there is nothing to accept or decline. It "
    "belongs to the partner who writes it: it is in use as soon as they write it, and "
    "the other partner reads it ('trellis plan show'). Its writer changes it with 'trellis "
    "plan write' and retires it with 'trellis plan withdraw'. What you tell each other, "
    "and when, is an agreement you make together: 'trellis agreement propose'."
)
"""What ``plan accept`` and ``plan decline`` say (DOMAIN.md: the plan is the partner in
recovery's, read-only to the other; a partner's yes would make them its warden)."""


async def cmd_plan_answer(args: argparse.Namespace) -> int:
    """``plan accept`` / ``plan decline``: nothing is written, and the words say why."""
    raise TrellisError(NO_ANSWER_NEEDED, code=ClientErrorCode.NO_ANSWER_NEEDED)


def _circle_item(item: dict[str, Any]) -> CircleItem:
    if item.get("type") and item["kind"] != "middle":
        raise UsageError("--type describes a middle-circle item (after --middle).")
    return CircleItem(
        circle=item["kind"],
        text=item["text"],
        definition=(item.get("definition") or "").strip() or None,
        type=cast(MiddleType | None, item.get("type")),
        reviewed_with=cast(list[ReviewedWith], sorted(set(item.get("reviewed_with", [])))),
    )


async def cmd_plan_write(args: argparse.Namespace) -> int:
    circles = plan_circles(
        (_circle_item(i) for i in given_items(args, *CIRCLES)),
        missing="A recovery plan needs at least one --inner, --middle or --outer item.",
    )
    async with await open_space(args) as space:
        me = space.me()
        base: AgreementVersion | None = None
        if args.revises:
            agreement, version = find_agreement(space, args.revises)
            base = version or agreement.current
            if base is None or base.kind != "recovery_plan":
                raise TrellisError("That is not a recovery plan.", code=ClientErrorCode.NOT_FOUND)
            plan_not_yours(space, base)
        elif me is not None:
            # Writing again revises one's own current plan: one plan, versioned.
            base = plan_in_use(space.views().agreements, me.member_id)
        event = await space.append(
            plan_proposal(
                circles, title=args.title, base=base, review_on=parse_review_date(args.review_on)
            )
        )
        number = base.number + 1 if base else 1
        await tell_delivery(
            space,
            args,
            f"Saved version {number} of your recovery plan ({event.event_id.hex()[:8]}). It is "
            f"yours: your partner can read it, and cannot change or end it.",
        )
    return 0


def _register_write(plan: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = plan.add_parser(
        "write",
        aliases=["propose"],
        help="write your plan, or a new version of it",
        description="Write your three-circles plan. It is yours: each version is in use "
        "at once, your partner can read it and cannot change or end it. After an item, "
        "--definition says what exactly counts, --type (middle circle) what kind of "
        "risk it is, --reviewed-with sponsor or therapist who you went over it with.",
    )
    p.add_argument("--title", default="Recovery plan")
    for circle, text in (
        ("inner", "a behaviour you abstain from (it ends the sober run)"),
        ("middle", "a risk or warning sign (never ends the run)"),
        ("outer", "a healthy behaviour"),
    ):
        p.add_argument(f"--{circle}", action=AddItem, const=circle, dest="items", help=text)
    p.add_argument("--definition", action=Describe, help="what exactly counts, for the item")
    p.add_argument(
        "--type",
        action=Describe,
        choices=("trigger", "warning_sign", "risky_behaviour", "other"),
        help="for a middle-circle item",
    )
    p.add_argument(
        "--reviewed-with",
        action=Describe,
        choices=("sponsor", "therapist"),
        help="who you went over the item with (repeat for both)",
    )
    p.add_argument("--review-on", metavar="DATE", help="when you mean to look at it again")
    p.add_argument("--revises", metavar="ID", help="default: your current plan")
    p.set_defaults(handler=cmd_plan_write)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = sub.add_parser(
        "plan", help="your three-circles recovery plan (yours to write; your partner reads it)"
    ).add_subparsers(dest="plan_command", required=True, metavar="ACTION")
    _register_write(plan)
    p = plan.add_parser("list", help="recovery plans and their status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list, family="plan")
    p = plan.add_parser("show", help="a plan with every version and item")
    p.add_argument("id", nargs="?", help="which plan (default: the one in use)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show, family="plan")
    for name in ("accept", "decline"):
        p = plan.add_parser(
            name,
            help="a plan needs no yes: this says what you can do instead",
            description=NO_ANSWER_NEEDED,
        )
        p.add_argument("id", nargs="?", help="any plan id: the answer is the same for every plan")
        p.set_defaults(handler=cmd_plan_answer)
    p = plan.add_parser(
        "withdraw",
        help="retire your own plan (your partner's plan is theirs)",
        description="Retire your recovery plan: it is no longer in use from now on, and "
        "your partner sees that you retired it. Only its writer can; write a new one "
        "whenever you like with 'trellis plan write'.",
    )
    p.add_argument("id", nargs="?", help="which plan (default: your plan in use)")
    p.add_argument("--reason", help="optional; never required")
    p.set_defaults(handler=cmd_withdraw, family="plan")
