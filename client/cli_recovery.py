"""``trellis`` commands for the recovery practices: disclosures and acknowledgements,
FANOS check-ins, sobriety, milestones, gratitude, safety signals and profiles.

Words matter here: a slip is a slip, never a failure, and the totals say so."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

from client.cli_common import (
    UsageError,
    open_space,
    parse_date,
    parse_when,
    print_json,
    read_optional,
)
from client.errors import ClientErrorCode, TrellisError
from client.present import iso_utc, local_time, plain
from client.recovery import DisclosureView, SignalView, active_signals
from client.space import Space
from client.views import Moment
from schemas.practices import (
    DISCLOSURE_KINDS,
    CheckIn,
    DisclosureAcknowledged,
    DisclosureMade,
    GratitudeNoted,
    MilestoneMarked,
    ProfileUpdated,
    SignalCleared,
    SignalSent,
    SlipReport,
    SobrietyStarted,
)

SAVED = "It is shared at the next 'trellis sync'."
SIGNAL_SYNC_TIMEOUT_S = 10.0


def _by_prefix(items: list[Any], prefix: str, what: str) -> Any:
    text = prefix.strip().lower()
    matches = [i for i in items if i.id.hex().startswith(text)] if len(text) >= 4 else []
    if not matches:
        raise TrellisError(
            f"No {what} has an id starting with '{prefix}'.", code=ClientErrorCode.NOT_FOUND
        )
    if len(matches) > 1:
        raise TrellisError(
            f"More than one {what} starts with '{prefix}'.", code=ClientErrorCode.AMBIGUOUS_ID
        )
    return matches[0]


# -- profile ----------------------------------------------------------------------


async def cmd_profile(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        me = space.me()
        if me is None:
            raise TrellisError(
                "This device is not a member yet; run 'trellis sync'.",
                code=ClientErrorCode.JOIN_INCOMPLETE,
            )
        if args.name is not None or args.in_recovery is not None:
            await space.append(ProfileUpdated(name=args.name, in_recovery=args.in_recovery))
            print(f"Profile updated. {SAVED}")
        profile = space.profiles()[me.member_id]
        if args.json:
            print_json({"name": profile.name, "in_recovery": profile.in_recovery})
        else:
            role = "in recovery" if profile.in_recovery else "supporting partner"
            print(f"{profile.name} ({role})")
    return 0


# -- disclosures ------------------------------------------------------------------


async def cmd_disclose(args: argparse.Namespace) -> int:
    slip = None
    if args.kind in ("slip", "relapse"):
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
    elif any((args.circle, args.place, args.halt, args.trigger, args.warning_sign)):
        raise UsageError(
            "The slip details (--circle, --place, ...) are for --kind slip or relapse."
        )
    async with await open_space(args) as space:
        event = await space.append(
            DisclosureMade(
                kind=args.kind,
                summary=args.summary.strip(),
                details=read_optional(args.details),
                slip=slip,
            ),
            occurred_at=parse_when(args.when),
        )
        print(f"Shared ({event.event_id.hex()[:8]}). Thank you for your honesty. {SAVED}")
    return 0


def disclosure_json(space: Space, d: DisclosureView) -> dict[str, Any]:
    return {
        "id": d.id.hex(),
        "author": space.member_name(d.author),
        "kind": d.kind,
        "summary": d.summary,
        "details": d.details,
        "slip": plain(d.slip) if d.slip else None,
        "occurred_at": iso_utc(d.occurred_at),
        "recorded_at": iso_utc(d.recorded_at),
        "acknowledged": d.acknowledged,
        "acknowledgements": [
            {"by": space.member_name(a.member), "at": iso_utc(a.at), "response": a.response}
            for a in d.acknowledgements
        ],
    }


async def cmd_disclosures(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        items = space.views().disclosures
        if args.json:
            print_json([disclosure_json(space, d) for d in items])
            return 0
        if not items:
            print("No disclosures yet.")
        for d in items:
            ack = "acknowledged" if d.acknowledged else "not yet acknowledged"
            print(
                f"{local_time(d.occurred_at)}  [{d.id.hex()[:8]}] {space.member_name(d.author)}, "
                f"{d.kind.replace('_', ' ')}: {d.summary} ({ack})"
            )
    return 0


async def cmd_acknowledge(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        target = _by_prefix(space.views().disclosures, args.id, "disclosure")
        await space.append(
            DisclosureAcknowledged(disclosure=target.id, response=read_optional(args.response))
        )
        print(f"Acknowledged. {SAVED}")
    return 0


# -- check-ins, sobriety, milestones, gratitude -----------------------------------


async def cmd_checkin(args: argparse.Namespace) -> int:
    fields = {
        k: read_optional(getattr(args, k))
        for k in ("feelings", "affirmation", "needs", "ownership", "sobriety")
    }
    if not any(fields.values()) and args.mood is None:
        raise UsageError(
            "A check-in needs at least one of --feelings, --affirmation, --needs, "
            "--ownership, --sobriety or --mood."
        )
    async with await open_space(args) as space:
        await space.append(CheckIn(mood=args.mood, **fields))
        print(f"Checked in. {SAVED}")
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
        for c in items:
            print(
                f"{local_time(c.recorded_at)}  {space.member_name(c.author)} checked in"
                + (f", mood {c.mood}/5" if c.mood else "")
            )
            for label in ("feelings", "affirmation", "needs", "ownership", "sobriety"):
                value = getattr(c, label)
                if value:
                    print(f"    {label}: {value}")
    return 0


async def cmd_sobriety_start(args: argparse.Namespace) -> int:
    start = parse_date(args.date) or ""
    async with await open_space(args) as space:
        await space.append(SobrietyStarted(date=start, label=args.label or ""))
        print(f"Sobriety counted from {start}. {SAVED}")
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
    return 0


async def cmd_milestone_add(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        await space.append(
            MilestoneMarked(title=args.title.strip(), note=read_optional(args.note)),
            occurred_at=parse_when(args.when),
        )
        print(f"Milestone marked. {SAVED}")
    return 0


async def cmd_gratitude_add(args: argparse.Namespace) -> int:
    text = read_optional(args.text)
    if not text:
        raise UsageError("The note is empty; nothing was saved.")
    async with await open_space(args) as space:
        await space.append(GratitudeNoted(text=text))
        print(f"Noted. {SAVED}")
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
                    {"title": i.title, "note": i.note}
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


# -- safety signals ---------------------------------------------------------------


async def _send_now(space: Space) -> bool:
    """Signals are urgent: try to deliver at once, but never fail the local save."""
    with contextlib.suppress(TrellisError, TimeoutError):
        await asyncio.wait_for(space.sync(), SIGNAL_SYNC_TIMEOUT_S)
        return True
    return False


async def cmd_signal(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        if args.level == "clear":
            me = space.me()
            mine = [
                s
                for s in active_signals(space.views().signals)
                if me is not None and s.sender == me.member_id
            ]
            if args.id:
                mine = [_by_prefix(mine, args.id, "active signal of yours")]
            if not mine:
                raise TrellisError(
                    "You have no active signal to clear.", code=ClientErrorCode.NOT_FOUND
                )
            for signal in mine:
                await space.append(SignalCleared(signal=signal.id))
            text = "Cleared."
        else:
            until = parse_when(args.until)
            await space.append(
                SignalSent(level=args.level, until=until, note=read_optional(args.note))
            )
            text = {"pause": "Pause sent.", "slow": "Slow-down sent.", "stop": "Stop sent."}[
                args.level
            ]
        sent = await _send_now(space)
        print(f"{text} {'Delivered to the relay.' if sent else SAVED}")
    return 0


def signal_json(space: Space, s: SignalView, now_ms: int) -> dict[str, Any]:
    return {
        "id": s.id.hex(),
        "sender": space.member_name(s.sender),
        "level": s.level,
        "until": iso_utc(s.until) if s.until else None,
        "note": s.note,
        "sent_at": iso_utc(s.sent_at),
        "active": s.active,
        "cleared_at": iso_utc(s.cleared_at) if s.cleared_at else None,
        "return_time_reached": s.return_time_reached(now_ms),
    }


async def cmd_signals(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        moment = Moment.now()
        signals = space.views(moment).signals
        shown = signals if args.all else active_signals(signals)
        if args.json:
            print_json([signal_json(space, s, moment.now_ms) for s in shown])
            return 0
        if not shown:
            print("No active signals.")
        for s in shown:
            until = f" until {local_time(s.until)}" if s.until else ""
            state = "active" if s.active else "cleared"
            print(
                f"{local_time(s.sent_at)}  {space.member_name(s.sender)}: "
                f"{s.level}{until} ({state})"
            )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("profile", help="your name and whether you are the partner in recovery")
    p.add_argument("--name")
    p.add_argument("--in-recovery", dest="in_recovery", action="store_const", const=True)
    p.add_argument("--not-in-recovery", dest="in_recovery", action="store_const", const=False)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_profile, in_recovery=None)

    p = sub.add_parser("disclose", help="share something with your partner")
    p.add_argument("--kind", required=True, choices=DISCLOSURE_KINDS)
    p.add_argument("--summary", required=True, help="one line")
    p.add_argument("--details", help="more, if you want ('-' reads stdin)")
    p.add_argument("--when", metavar="DATE", help="when it happened, if not now")
    slip = p.add_argument_group("for a slip or relapse")
    slip.add_argument("--circle", choices=("inner", "middle", "outer"))
    slip.add_argument("--place")
    slip.add_argument("--mood", type=int, choices=range(1, 6), metavar="1-5")
    slip.add_argument("--halt", action="append", choices=("hungry", "angry", "lonely", "tired"))
    slip.add_argument("--trigger", action="append")
    slip.add_argument("--warning-sign", action="append")
    slip.add_argument("--coping", action="append", help="what you tried")
    slip.add_argument("--support", action="append", help="who you reached out to")
    slip.add_argument("--next-step", action="append")
    p.set_defaults(handler=cmd_disclose)
    p = sub.add_parser("disclosures", help="list disclosures and their acknowledgements")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_disclosures)
    p = sub.add_parser("acknowledge", help="acknowledge your partner's disclosure")
    p.add_argument("id")
    p.add_argument("--response", help="optional words back")
    p.set_defaults(handler=cmd_acknowledge)

    p = sub.add_parser("checkin", help="a FANOS check-in")
    for name, text in (
        ("feelings", "how you feel"),
        ("affirmation", "something you appreciate"),
        ("needs", "what you need"),
        ("ownership", "what you own"),
        ("sobriety", "sobriety or struggles"),
    ):
        p.add_argument(f"--{name}", help=text)
    p.add_argument("--mood", type=int, choices=range(1, 6), metavar="1-5")
    p.set_defaults(handler=cmd_checkin)
    p = sub.add_parser("checkins", help="list check-ins")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_checkins)

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
            p.add_argument("title")
            p.add_argument("--note")
            p.add_argument("--when", metavar="DATE")
            p.set_defaults(handler=cmd_milestone_add)
        else:
            p.add_argument("text", help="('-' reads stdin)")
            p.set_defaults(handler=cmd_gratitude_add)
        p = group.add_parser("list")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=cmd_simple_list, family=family)

    p = sub.add_parser("signal", help="pause, slow down or stop; or clear your signal")
    p.add_argument("level", choices=("pause", "slow", "stop", "clear"))
    p.add_argument("id", nargs="?", help="with clear: which signal (default: all of yours)")
    p.add_argument("--until", metavar="TIME", help="agreed return time, e.g. 2026-11-27T09:00")
    p.add_argument("--note")
    p.set_defaults(handler=cmd_signal)
    p = sub.add_parser("signals", help="active signals")
    p.add_argument("--all", action="store_true", help="include cleared ones")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_signals)
