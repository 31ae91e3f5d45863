"""``trellis agreement``: agreements both partners consent to (docs/PROTOCOL.md §10). An
agreement is in force only when both accepted that version; either may withdraw at once."""

from __future__ import annotations

import argparse
from typing import cast

from client.cli.agreement_show import cmd_list, cmd_show
from client.cli.common import UsageError, parse_date, parse_review_date
from client.cli.versions import (
    AddItem,
    Describe,
    cmd_accept,
    cmd_decline,
    cmd_review,
    cmd_withdraw,
    given_items,
    propose_version,
)
from schemas.practices import AgreementProposed, Binds


async def cmd_propose(args: argparse.Namespace) -> int:
    clauses = given_items(args, "clause")
    if not clauses:
        raise UsageError("An agreement needs at least one --clause.")
    if not args.review_on:
        raise UsageError(
            "An agreement needs a date to review it together (--review-on DATE): "
            "trust-building steps are meant to be revisited, not to last for ever."
        )
    binds = [cast(Binds, c.get("binds", "both")) for c in clauses]
    return await propose_version(
        args,
        lambda revises: AgreementProposed(
            title=args.title.strip(),
            clauses=[c["text"] for c in clauses],
            revises=revises,
            review_on=parse_review_date(args.review_on),
            expires_on=parse_date(args.expires_on),
            binds=binds,
        ),
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agreement = sub.add_parser("agreement", help="agreements you both consent to").add_subparsers(
        dest="agreement_command", required=True, metavar="ACTION"
    )
    p = agreement.add_parser(
        "propose",
        help="propose an agreement, or a revision of one",
        description="Propose an agreement. Each --clause may be followed by --binds me, "
        "you or both (default both): whom it asks something of. Every agreement needs a "
        "--review-on date: trust-building steps are meant to be revisited.",
    )
    p.add_argument("--title", required=True)
    p.add_argument(
        "--clause", action=AddItem, const="clause", dest="items", help="one clause; repeat"
    )
    p.add_argument(
        "--binds",
        action=Describe,
        choices=("me", "you", "both"),
        help="whom the clause before it binds (default both)",
    )
    p.add_argument("--review-on", metavar="DATE", help="required: a date to review it together")
    p.add_argument("--expires-on", metavar="DATE", help="a date after which it no longer holds")
    p.add_argument("--revises", metavar="ID", help="the agreement (or version) this revises")
    p.set_defaults(handler=cmd_propose)
    for name, handler, text in (
        ("accept", cmd_accept, "accept a proposal"),
        ("decline", cmd_decline, "decline a proposal"),
        ("withdraw", cmd_withdraw, "withdraw your consent (takes effect at once)"),
    ):
        p = agreement.add_parser(name, help=text)
        p.add_argument("id", help="agreement or version id, or its first characters")
        if name == "accept":
            p.add_argument("--note")
        else:
            p.add_argument("--reason", help="optional; never required")
        p.set_defaults(handler=handler)
    p = agreement.add_parser("review", help="record a review of an agreement in force")
    p.add_argument("id")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--keep", action="store_true", help="keep it as it is (default)")
    group.add_argument("--revise", action="store_true", help="it needs a new version")
    p.add_argument("--note")
    p.add_argument("--next-review-on", metavar="DATE")
    p.set_defaults(handler=cmd_review)
    p = agreement.add_parser("list", help="every agreement and its status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list, family="agreement")
    p = agreement.add_parser("show", help="the full, verified history of one agreement")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)
