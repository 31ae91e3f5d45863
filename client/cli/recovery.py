"""``trellis`` commands for the recovery practices: disclosures and the partner's
"seen" / "I need time", FANOS check-ins, sobriety, milestones, gratitude, safety
signals and profiles.

Words matter here: a slip is a slip, never a failure, and the totals say so. Nothing
nags: no "not yet acknowledged", no read receipts, no reminders to the partner."""

from __future__ import annotations

import argparse
from typing import Any, cast

from client.cli.common import (
    UsageError,
    now_ms,
    open_space,
    parse_past_date,
    parse_past_when,
    parse_when,
    print_json,
    read_optional,
    tell_delivery,
)
from client.errors import ClientErrorCode, TrellisError
from client.space import Space
from client.views import Moment
from client.views.present import disclosure_detail_lines, iso_utc, local_time, plain
from client.views.present_signals import (
    RETURN_DUE,
    SIGNAL_NAMES,
    signal_given_sentence,
    timeout_return_ms,
)
from client.views.recovery import DisclosureView, SignalView, active_signals
from schemas.practices import (
    DISCLOSURE_KINDS,
    SIGNAL_PRESETS,
    TIMEOUT_DEFAULT_MIN,
    CheckIn,
    DisclosureAcknowledged,
    DisclosureMade,
    DisclosureMark,
    GratitudeNoted,
    MilestoneMarked,
    ProfileUpdated,
    SignalCleared,
    SignalLevel,
    SignalSent,
    SlipReport,
    SobrietyStarted,
)

_MINUTE_MS = 60_000

NOTHING_TO_ANSWER = (
    "A check-in is to hear, not to answer: there is nothing you need to reply or fix."
)
FANOS_PROMPTS: tuple[tuple[str, str], ...] = (
    ("feelings", "F, feelings: how you feel"),
    ("affirmation", "A, affirmation: something you appreciate in your partner"),
    ("needs", "N, needs: what you need (not necessarily met by your partner)"),
    ("ownership", "O, ownership: something I said or did, with an apology"),
    ("sobriety", "S, struggles and self-care (for either partner)"),
)
"""The FANOS letters as they are worded everywhere (docs/PROTOCOL.md §10.4)."""


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
            await tell_delivery(space, args, "Profile updated.")
        profile = space.profiles()[me.member_id]
        if args.json:
            print_json({"name": profile.name, "in_recovery": profile.in_recovery})
        else:
            role = "partner in recovery" if profile.in_recovery else "partner"
            print(f"{profile.name} ({role})")
    return 0


# -- disclosures ------------------------------------------------------------------


async def cmd_disclose(args: argparse.Namespace) -> int:
    if args.kind == "formal_disclosure":
        raise UsageError(
            "A formal disclosure happens in the therapist's office, not in the app. To mark "
            "that it took place: trellis milestone add --formal-disclosure --when DATE"
        )
    if args.kind == "slip" and args.circle is None:
        raise UsageError(
            "Which circle was it? --circle inner (it ends your sober run) or --circle middle "
            "(a risk: it is recorded as a risk and does not change your sober days)."
        )
    if args.kind == "risk" and args.circle == "inner":
        raise UsageError(
            "A risk is a middle-circle report. Inner-circle behaviour is a slip: "
            "--kind slip --circle inner."
        )
    details = (
        *(args.circle, args.place, args.mood, args.halt, args.trigger, args.warning_sign),
        *(args.coping, args.support, args.next_step),
    )
    kind = args.kind
    slip = None
    if args.kind in ("slip", "relapse") or (args.kind == "risk" and any(details)):
        if args.circle == "middle":
            kind = "risk"  # A middle-circle report is a risk, never a broken run.
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
    elif any(details):
        raise UsageError(
            "The slip details (--circle, --place, ...) are for --kind slip, relapse or risk."
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
        note = (
            " It is recorded as a risk (middle circle) and does not change your sober days."
            if kind == "risk" and args.kind != "risk"
            else ""
        )
        await tell_delivery(
            space, args, f"Saved ({event.event_id.hex()[:8]}).{note} Thank you for your honesty."
        )
    return 0


_MARK_WORDS = {"seen": "seen", "need_time": "needs time"}


def disclosure_json(space: Space, d: DisclosureView) -> dict[str, Any]:
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
        if args.json:
            print_json([disclosure_json(space, d) for d in items])
            return 0
        if not items:
            print("No disclosures yet.")
        for d in items:
            # Only a mark the partner chose to make is shown; no mark means nothing.
            mark = ""
            if d.acknowledgements:
                last = d.acknowledgements[-1]
                mark = f" ({space.member_name(last.member)}: {_MARK_WORDS[last.mark]})"
            print(
                f"{local_time(d.occurred_at)}  [{d.id.hex()[:8]}] {space.member_name(d.author)}, "
                f"{d.kind.replace('_', ' ')}: {d.summary}{mark}"
            )
            for line in disclosure_detail_lines(d, space.member_name):
                print(f"    {line}")
    return 0


async def cmd_acknowledge(args: argparse.Namespace) -> int:
    mark: DisclosureMark = "need_time" if args.need_time else "seen"
    async with await open_space(args) as space:
        target = _by_prefix(space.views().disclosures, args.id, "disclosure")
        await space.append(
            DisclosureAcknowledged(
                disclosure=target.id, response=read_optional(args.response), mark=mark
            )
        )
        if mark == "seen":
            await tell_delivery(
                space, args, "Marked as seen. There is nothing more you need to do."
            )
        else:
            await tell_delivery(
                space,
                args,
                "Noted: you need time. Nothing is expected of you until you are ready; "
                "you can mark it seen later.",
            )
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
            "--ownership, --struggles or --mood."
        )
    async with await open_space(args) as space:
        await space.append(CheckIn(mood=args.mood, **fields))
        await tell_delivery(space, args, "Checked in.")
    return 0


_FANOS_LABELS = {
    "feelings": "feelings",
    "affirmation": "affirmation",
    "needs": "needs",
    "ownership": "ownership",
    "sobriety": "struggles and self-care",
}


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
            for name, label in _FANOS_LABELS.items():
                value = getattr(c, name)
                if value:
                    print(f"    {label}: {value}")
    return 0


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


# -- safety signals ---------------------------------------------------------------


def _timeout_return(args: argparse.Namespace, sent_ms: int) -> int:
    """A time-out's return time: --until, or --for minutes (the rule, default 20 and at
    most 24 h, is client/views/present_signals.py timeout_return_ms, shared with the app)."""
    if args.until and args.minutes is not None:
        raise UsageError("Give a return time with --until or --for, not both.")
    until = parse_when(args.until) if args.until else None
    try:
        return timeout_return_ms(
            sent_ms,
            minutes=args.minutes,
            until_ms=sent_ms if args.until and until is None else until,
        )
    except TrellisError as exc:
        raise UsageError(exc.message) from None


async def cmd_signal(args: argparse.Namespace) -> int:
    level: str = "pause" if args.level == "timeout" else args.level
    if level != "clear" and args.note and args.preset:
        raise UsageError("Choose a preset note or write your own, not both.")
    if level != "pause" and (args.until or args.minutes is not None):
        raise UsageError(
            "Only a time-out has a return time. A stop owes no return; a slow-down has none."
        )
    async with await open_space(args) as space:
        if level == "clear":
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
            text = "Cleared." if len(mine) == 1 else f"Cleared {len(mine)} signals."
        else:
            until = _timeout_return(args, now_ms()) if level == "pause" else None
            await space.append(
                SignalSent(
                    level=cast(SignalLevel, level),
                    until=until,
                    note=read_optional(args.note),
                    preset=args.preset,
                )
            )
            # "given", never "sent": whether the partner can have it is said next.
            text = signal_given_sentence(level, until)
        await tell_delivery(space, args, text, signal=True)
    return 0


def signal_json(space: Space, s: SignalView, now_ms: int) -> dict[str, Any]:
    me = space.me()
    return {
        "id": s.id.hex(),
        "sender": space.member_name(s.sender),
        "level": s.level,
        "until": iso_utc(s.until) if s.until else None,
        "note": s.note,
        "preset": s.preset,
        "preset_text": s.preset_text,
        "sent_at": iso_utc(s.sent_at),
        "active": s.active,
        "cleared_at": iso_utc(s.cleared_at) if s.cleared_at else None,
        # Only ever true on the sender's own devices: the partner is never told "late".
        "return_due": s.return_due_for(me.member_id if me else None, now_ms),
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
        me = space.me()
        for s in shown:
            until = f", back around {local_time(s.until)}" if s.until else ""
            state = "active" if s.active else "cleared"
            words = s.preset_text or s.note
            said = f': "{words}"' if words else ""
            # The id is what 'trellis signal clear ID' takes.
            print(
                f"[{s.id.hex()[:8]}] {local_time(s.sent_at)}  {space.member_name(s.sender)}: "
                f"{SIGNAL_NAMES.get(s.level, s.level)}{until} ({state}){said}"
            )
            if s.return_due_for(me.member_id if me else None, moment.now_ms):
                print(f"    {RETURN_DUE[:-1]}; 'trellis signal clear' when you are back.")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("profile", help="your name and whether you are the partner in recovery")
    p.add_argument("--name")
    p.add_argument("--in-recovery", dest="in_recovery", action="store_const", const=True)
    p.add_argument("--not-in-recovery", dest="in_recovery", action="store_const", const=False)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_profile, in_recovery=None)

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

    p = sub.add_parser(
        "signal",
        help="a time-out, slow down or stop; or clear your signal",
        description="A time-out (timeout, or pause) steps out of a conversation and has a "
        f"return: {TIMEOUT_DEFAULT_MIN} minutes unless you say otherwise, at most 24 hours; "
        "only you are reminded when it is due. A stop owes no return.",
    )
    p.add_argument("level", choices=("timeout", "pause", "slow", "stop", "clear"))
    p.add_argument("id", nargs="?", help="with clear: which signal (default: all of yours)")
    p.add_argument(
        "--for",
        dest="minutes",
        type=int,
        metavar="MINUTES",
        help=f"time-out only: back in this many minutes (default {TIMEOUT_DEFAULT_MIN})",
    )
    p.add_argument("--until", metavar="TIME", help="time-out only: back at, e.g. 2026-11-27T09:00")
    p.add_argument(
        "--preset",
        choices=tuple(SIGNAL_PRESETS),
        help="a preset note: "
        + "; ".join(f"{key}: {text}" for key, text in SIGNAL_PRESETS.items()),
    )
    p.add_argument("--note", help="your own words instead of a preset")
    p.set_defaults(handler=cmd_signal)
    p = sub.add_parser("signals", help="active signals")
    p.add_argument("--all", action="store_true", help="include cleared ones")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_signals)
