"""``trellis disclose``, ``disclosures`` and ``seen``: what the partner in recovery shares,
and the partner's "seen" or "I need time". Nothing nags: no "not yet acknowledged",
no read receipts, no reminders to the partner."""

from __future__ import annotations

import argparse
from typing import Any

from client.cli.common import (
    by_prefix,
    open_space,
    parse_past_when,
    print_json,
    read_optional,
    tell_delivery,
    writer_zones,
    writers_time,
)
from client.space import Space
from client.views.practice_forms import (
    DISCLOSED_THANKS,
    FORMAL_DISCLOSURE_PLACE,
    MARK_WORDS,
    NEED_TIME_DONE,
    RISK_NOTE,
    SEEN_DONE,
    ReportWords,
    report_kind,
)
from client.views.present import disclosure_detail_lines, iso_utc, plain
from client.views.recovery import DisclosureView
from schemas.practices import (
    DISCLOSURE_KINDS,
    DisclosureAcknowledged,
    DisclosureMade,
    DisclosureMark,
    SlipReport,
)

CLI_REPORT_WORDS = ReportWords(
    formal_not_here=(
        f"{FORMAL_DISCLOSURE_PLACE}: trellis milestone add --formal-disclosure --when DATE"
    ),
    slip_needs_circle=(
        "Which circle was it? --circle inner (it ends your sober run) or --circle middle "
        "(a risk: it is recorded as a risk and does not change your sober days)."
    ),
    risk_not_inner=(
        "A risk is a middle-circle report. Inner-circle behaviour is a slip: "
        "--kind slip --circle inner."
    ),
    details_only_for_slips=(
        "The slip details (--circle, --place, ...) are for --kind slip, relapse or risk."
    ),
)
"""The report rule's sentences naming the flags (the rule is practice_forms.report_kind)."""


async def cmd_disclose(args: argparse.Namespace) -> int:
    details = (
        *(args.circle, args.place, args.mood, args.halt, args.trigger, args.warning_sign),
        *(args.coping, args.support, args.next_step),
    )
    kind, has_slip = report_kind(args.kind, args.circle, any(details), CLI_REPORT_WORDS)
    slip = None
    if has_slip:
        slip = SlipReport(
            circle=args.circle,
            place=args.place,
            mood=args.mood,
            halt=list(args.halt or []),
            triggers=list(args.trigger or []),
            warning_signs=list(args.warning_sign or []),
            coping_tried=list(args.coping or []),
            support_contacted=list(args.support or []),
            next_steps=list(args.next_step or []),
        )
    async with await open_space(args) as space:
        event = await space.append(
            DisclosureMade(
                kind=kind,
                summary=args.summary.strip(),
                details=read_optional(args.details),
                slip=slip,
            ),
            occurred_at=parse_past_when(args.when, "what is disclosed"),
        )
        note = f" {RISK_NOTE}" if kind == "risk" and args.kind != "risk" else ""
        await tell_delivery(
            space, args, f"Saved ({event.event_id.hex()[:8]}).{note} {DISCLOSED_THANKS}"
        )
    return 0


def disclosure_json(space: Space, d: DisclosureView, zone: str | None = None) -> dict[str, Any]:
    """One disclosure for apps; ``writer_zone`` is its writer's IANA zone, if it has one."""
    return {
        "id": d.id.hex(),
        "author": space.member_name(d.author),
        "kind": d.kind,
        "written_kind": d.written_kind,
        "breaks_sobriety": d.breaks_sobriety,
        "summary": d.summary,
        "details": d.details,
        "slip": plain(d.slip) if d.slip else None,
        "occurred_at": iso_utc(d.occurred_at),
        "recorded_at": iso_utc(d.recorded_at),
        "writer_zone": zone,
        "mark": d.mark,
        "acknowledgements": [
            {
                "by": space.member_name(a.member),
                "at": iso_utc(a.at),
                "mark": a.mark,
                "response": a.response,
            }
            for a in d.acknowledgements
        ],
    }


async def cmd_disclosures(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        items = space.views().disclosures
        zones = writer_zones(space)
        if args.json:
            print_json([disclosure_json(space, d, zones.get(d.id)) for d in items])
            return 0
        if not items:
            print("No disclosures yet.")
        for d in items:
            # Only a mark the partner chose to make is shown; no mark means nothing.
            mark = ""
            if d.acknowledgements:
                last = d.acknowledgements[-1]
                mark = f" ({space.member_name(last.member)}: {MARK_WORDS[last.mark]})"
            print(
                f"{writers_time(space, d.occurred_at, d.author, zones.get(d.id))}  "
                f"[{d.id.hex()[:8]}] {space.member_name(d.author)}, "
                f"{d.kind.replace('_', ' ')}: {d.summary}{mark}"
            )
            for line in disclosure_detail_lines(d, space.member_name):
                print(f"    {line}")
    return 0


async def cmd_acknowledge(args: argparse.Namespace) -> int:
    mark: DisclosureMark = "need_time" if args.need_time else "seen"
    async with await open_space(args) as space:
        target = by_prefix(space.views().disclosures, args.id, "disclosure")
        await space.append(
            DisclosureAcknowledged(
                disclosure=target.id, response=read_optional(args.response), mark=mark
            )
        )
        if mark == "seen":
            await tell_delivery(space, args, SEEN_DONE)
        else:
            await tell_delivery(space, args, NEED_TIME_DONE)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "disclose",
        help="share something with your partner",
        description="Share something with your partner. Be specific, not graphic. For a "
        "therapy session, share what you learned, not what was said there. A formal "
        "disclosure happens in the therapist's office: mark its date with 'trellis "
        "milestone add --formal-disclosure'.",
    )
    p.add_argument("--kind", required=True, choices=DISCLOSURE_KINDS)
    p.add_argument("--summary", required=True, help="one line; specific, not graphic")
    p.add_argument("--details", help="more, if you want: specific, not graphic ('-' reads stdin)")
    p.add_argument("--when", metavar="DATE", help="when it happened, if not now")
    slip = p.add_argument_group("for a slip, relapse or risk")
    slip.add_argument(
        "--circle",
        choices=("inner", "middle"),
        help="inner: ends the sober run; middle: recorded as a risk, never shortens it",
    )
    slip.add_argument("--place", help="where, in general terms: specific, not graphic")
    slip.add_argument("--mood", type=int, choices=range(1, 6), metavar="1-5")
    slip.add_argument("--halt", action="append", choices=("hungry", "angry", "lonely", "tired"))
    slip.add_argument("--trigger", action="append")
    slip.add_argument("--warning-sign", action="append")
    slip.add_argument("--coping", action="append", help="what you tried")
    slip.add_argument("--support", action="append", help="who you reached out to")
    slip.add_argument("--next-step", action="append")
    p.set_defaults(handler=cmd_disclose)
    p = sub.add_parser("disclosures", help="list disclosures and any marks your partner made")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_disclosures)
    p = sub.add_parser(
        "seen",
        aliases=["acknowledge"],
        help="mark your partner's disclosure as seen, or say you need time",
        description="Mark a disclosure as seen, or with --need-time say you need time. "
        "Either is your choice; nothing reminds you, and your partner is not told you "
        "have read anything unless you mark it.",
    )
    p.add_argument("id")
    p.add_argument("--need-time", action="store_true", help="I need time")
    p.add_argument("--response", help="optional words back")
    p.set_defaults(handler=cmd_acknowledge)
