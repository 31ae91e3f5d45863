"""``trellis`` commands for the intimacy practices: ``pacing``, ``intimacy``,
``language``, ``boundary`` and ``disclosure-prep`` (docs/PROTOCOL.md §5.11-§5.15).

Nothing here obliges anyone to anything, and the words say so where it matters:
moving forward needs both, stepping back needs one and no explanation, a check-in is
information and not a request."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

from client.cli.common import (
    DELIVER_TIMEOUT_S,
    UsageError,
    open_space,
    parse_review_date,
    passphrase,
    print_json,
    tell_delivery,
)
from client.errors import ClientErrorCode, TrellisError
from client.space import Space, private_notes
from client.views import Moment
from client.views.intimacy import PacingView
from client.views.present import local_time
from client.views.present_intimacy import (
    AROUSAL_NOTE,
    BACK_WORDS,
    CHECKIN_REMINDER,
    DEFAULT_STAGES,
    boundary_json,
    boundary_lines,
    checkin_json,
    checkin_line,
    language_json,
    language_lines,
    pacing_json,
    pacing_lines,
    preparation_json,
    preparation_lines,
    stage_name,
)
from schemas.ids import EventId, MemberId
from schemas.intimacy import (
    BOUNDARY_AREAS,
    TERM_KINDS,
    BoundaryAcknowledged,
    BoundarySet,
    BoundaryWithdrawn,
    DisclosurePrepared,
    DisclosureQuestionsMarked,
    IntimacyCheckIn,
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingStage,
    PacingSteppedBack,
    QuestionMark,
    TermAccepted,
    TermProposed,
    TermWithdrawn,
)
from schemas.payloads import MemberJoined, SpaceCreated


def _by_prefix(items: list[Any], prefix: str, what: str, key: str = "id") -> Any:
    text = prefix.strip().lower()
    matches = [i for i in items if getattr(i, key).hex().startswith(text)] if len(text) >= 4 else []
    if not matches:
        raise TrellisError(
            f"No {what} has an id starting with '{prefix}'.", code=ClientErrorCode.NOT_FOUND
        )
    if len(matches) > 1:
        raise TrellisError(
            f"More than one {what} starts with '{prefix}'.", code=ClientErrorCode.AMBIGUOUS_ID
        )
    return matches[0]


def _me(space: Space) -> bytes:
    me = space.me()
    if me is None:
        raise TrellisError(
            "This device is not a member yet; run 'trellis sync'.", code=ClientErrorCode.NOT_MEMBER
        )
    return me.member_id


# -- pacing -----------------------------------------------------------------------


PACING_TYPES = (
    PacingPlanProposed,
    PacingPlanAccepted,
    PacingForwardProposed,
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingSteppedBack,
)


def pacing_export_choice(space: Space) -> tuple[set[EventId], str]:
    """The events ``trellis export --pacing`` reveals: the plan's versions and every
    move (with who made it and when), and the partners' joining events for their
    names. Nothing else: no check-in, boundary, preparation or private note."""
    chosen = {e.event_id for e in space.events() if isinstance(e.payload, PACING_TYPES)}
    if not chosen:
        raise TrellisError("There is no pacing plan to export yet.", code=ClientErrorCode.NOT_FOUND)
    chosen |= {
        e.event_id for e in space.events() if isinstance(e.payload, SpaceCreated | MemberJoined)
    }
    return chosen, "Pacing plan"


async def cmd_pacing_show(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        moment = Moment.now()
        view = space.views(moment).intimacy.pacing
        if args.json:
            print_json(pacing_json(view, space, moment.now_ms))
        else:
            print("\n".join(pacing_lines(view, space, moment.now_ms)))
    return 0


async def cmd_pacing_propose(args: argparse.Namespace) -> int:
    stages = (
        [PacingStage(title=t.strip()) for t in args.stage if t.strip()]
        if args.stage
        else list(DEFAULT_STAGES)
    )
    async with await open_space(args) as space:
        view = space.views().intimacy.pacing
        revises = None if view.plan is None else view.plan.id
        event = await space.append(PacingPlanProposed(stages=stages, revises=revises))
        await tell_delivery(
            space,
            args,
            f"Proposed a pacing plan of {len(stages)} stages ({event.event_id.hex()[:8]}). It "
            f"is in use once your partner accepts it: 'trellis pacing accept'.",
        )
        if not args.stage:
            print("These are suggested stages; propose your own words with --stage, in order.")
    return 0


async def cmd_pacing_accept(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        me = _me(space)
        pending = [
            v for v in space.views().intimacy.pacing.pending_versions() if me not in v.accepted_by
        ]
        if args.id:
            pending = [_by_prefix(pending, args.id, "pacing plan waiting for you")]
        if not pending:
            raise TrellisError(
                "No pacing plan is waiting for your answer.", code=ClientErrorCode.NOT_FOUND
            )
        await space.append(PacingPlanAccepted(version=pending[-1].id))
        await tell_delivery(space, args, "Accepted.")
    return 0


def _partner_offer(view: PacingView, me: bytes, now_ms: int) -> Any:
    offers = [o for o in view.open_offers(now_ms) if o.member != me]
    return offers[-1] if offers else None


async def cmd_pacing_forward(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        me = _me(space)
        moment = Moment.now()
        view = space.views(moment).intimacy.pacing
        if view.plan is None or view.stage is None:
            raise TrellisError(
                "There is no pacing plan in use yet.", code=ClientErrorCode.NO_PACING_PLAN
            )
        offer = _partner_offer(view, me, moment.now_ms)
        if offer is not None:
            await space.append(PacingForwardAccepted(offer=offer.id))
            await tell_delivery(
                space,
                args,
                f"You both chose to move forward, to {stage_name(view, view.stage + 1)}. You "
                f"can step back at any time.",
            )
            return 0
        if view.stage + 1 >= len(view.plan.stages):
            raise TrellisError(
                "You are at the plan's last stage.", code=ClientErrorCode.NO_NEXT_STAGE
            )
        again_at = view.next_offer_at(MemberId(me))
        if again_at is not None and moment.now_ms < again_at:
            raise TrellisError(
                f"Your partner said not now. You can offer again from {local_time(again_at)}; "
                "there is no hurry, and stepping back is always possible.",
                code=ClientErrorCode.OFFER_COOLING_DOWN,
            )
        if any(o.member == me for o in view.open_offers(moment.now_ms)):
            raise TrellisError(
                "You have already offered; your partner may answer within 48 hours, or not "
                "at all. Silence is not a yes.",
                code=ClientErrorCode.OFFER_OPEN,
            )
        await space.append(PacingForwardProposed(version=view.plan.id, from_stage=view.stage))
        await tell_delivery(
            space,
            args,
            "Offered to move forward (needs both of you). Your partner may accept within 48 "
            "hours or let it pass; silence is not a yes.",
        )
    return 0


async def cmd_pacing_decline(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        moment = Moment.now()
        offer = _partner_offer(space.views(moment).intimacy.pacing, _me(space), moment.now_ms)
        if offer is None:
            raise TrellisError("There is no offer waiting for you.", code=ClientErrorCode.NOT_FOUND)
        await space.append(PacingForwardDeclined(offer=offer.id))
        await tell_delivery(space, args, "Noted: not now. No reason is needed.")
    return 0


async def cmd_pacing_back(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        view = space.views().intimacy.pacing
        if view.plan is None or view.stage is None:
            raise TrellisError(
                "There is no pacing plan in use yet.", code=ClientErrorCode.NO_PACING_PLAN
            )
        if args.to is not None:
            target = args.to - 1
            if not 0 <= target < len(view.plan.stages):
                raise UsageError(f"--to takes a stage from 1 to {len(view.plan.stages)}.")
        else:
            target = view.stage - args.stages
        if target >= view.stage or target < 0:
            raise UsageError(
                f"You are at stage {view.stage + 1}; a step back goes to a stage before it."
                if view.stage > 0
                else "You are at the first stage; there is no stage before it."
            )
        await space.append(PacingSteppedBack(to_stage=target))
        await tell_delivery(space, args, f"Stepped back to {stage_name(view, target)}.")
    return 0


# -- intimacy check-ins -----------------------------------------------------------


async def cmd_intimacy_checkin(args: argparse.Namespace) -> int:
    note = (args.note or "").strip() or None
    checkin = IntimacyCheckIn(
        comfort=args.comfort,
        desire=args.desire,
        arousal=args.arousal,
        fatigue=args.fatigue,
        note=note,
    )
    if all(v is None for v in (args.comfort, args.desire, args.arousal, args.fatigue, note)):
        raise UsageError(
            "A check-in needs at least one of --comfort, --desire, --arousal, --fatigue or --note."
        )
    async with await open_space(args) as space:
        if args.share:
            await space.append(checkin)
            await tell_delivery(space, args, f"Saved for your partner. {CHECKIN_REMINDER}")
        else:
            private = await private_notes.open_private(space, passphrase(new=False), create=True)
            async with private:
                await private.append(checkin)
                with contextlib.suppress(TrellisError, TimeoutError):
                    await asyncio.wait_for(private.sync(), DELIVER_TIMEOUT_S)
            print("Kept private: only your own devices can read it.")
        if args.arousal is not None:
            print(AROUSAL_NOTE)
    return 0


async def cmd_intimacy_checkins(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        shared = space.views().intimacy.checkins
        mine: list[Any] = []
        if private_notes.has_private_space(space.home):
            async with await private_notes.open_private(
                space, passphrase(new=False), create=False
            ) as private:
                mine = private_notes.fold_private(private).checkins
        if args.json:
            print_json(
                {
                    "reminder": CHECKIN_REMINDER,
                    "shared": [checkin_json(c, space, private=False) for c in shared],
                    "private": [checkin_json(c, space, private=True) for c in mine],
                }
            )
            return 0
        if not shared and not mine:
            print("No intimacy check-ins yet.")
            return 0
        print(f"{CHECKIN_REMINDER} {AROUSAL_NOTE}")
        for c in shared:
            print(checkin_line(c, space, private=False))
        for c in mine:
            print(checkin_line(c, space, private=True))
    return 0


# -- shared language --------------------------------------------------------------


async def cmd_language_show(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        terms = space.views().intimacy.language
        if args.json:
            print_json(language_json(terms, space))
        else:
            print("\n".join(language_lines(terms, space)))
    return 0


async def cmd_language_propose(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        revises = None
        if args.revise:
            versions = [v for t in space.views().intimacy.language for v in t.versions]
            revises = _by_prefix(versions, args.revise, "word of your shared language").id
        payload = TermProposed(
            term=args.term.strip(),
            meaning=args.means.strip(),
            kind=args.kind,
            gesture=args.gesture,
            revises=revises,
        )
        if payload.term.lower() in ("stop", "no") and payload.kind != "stop":
            raise UsageError(f"'{payload.term}' always means stop; it cannot mean anything else.")
        event = await space.append(payload)
        await tell_delivery(
            space,
            args,
            f"Proposed ({event.event_id.hex()[:8]}). It is in use once your partner accepts it.",
        )
    return 0


async def cmd_language_answer(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        versions = [v for t in space.views().intimacy.language for v in t.versions]
        target = _by_prefix(versions, args.id, "word of your shared language")
        if args.language_command == "accept":
            await space.append(TermAccepted(version=target.id))
            await tell_delivery(space, args, "Accepted.")
        else:
            await space.append(TermWithdrawn(version=target.id))
            await tell_delivery(space, args, "Withdrawn: no longer in use, from now.")
    return 0


# -- boundaries -------------------------------------------------------------------


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
        me = _me(space)
        revises = None
        if args.revise:
            mine = [b.current for b in space.views().intimacy.boundaries if b.owner == me]
            revises = _by_prefix(mine, args.revise, "boundary of yours").id
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
        me = _me(space)
        views = space.views().intimacy.boundaries
        if args.boundary_command == "withdraw":
            target = _by_prefix(
                [b.current for b in views if b.owner == me], args.id, "boundary of yours"
            )
            await space.append(BoundaryWithdrawn(version=target.id))
            await tell_delivery(space, args, "Withdrawn. Its history stays.")
        else:
            theirs = [b.current for b in views if b.owner != me]
            target = _by_prefix(theirs, args.id, "boundary of your partner's")
            await space.append(BoundaryAcknowledged(version=target.id))
            await tell_delivery(
                space, args, "Marked as read. Reading it is not agreeing to anything."
            )
    return 0


# -- disclosure preparation -------------------------------------------------------


async def cmd_prep_set(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        me = _me(space)
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
        prep = _by_prefix(preps, args.id, "preparation", key="version_id") if args.id else preps[-1]
        count = len(prep.current.questions)
        marks = [QuestionMark(index=i, answered=True) for i in _indexes(args.answered, count)]
        marks += [QuestionMark(index=i, answered=False) for i in _indexes(args.not_answered, count)]
        if not marks:
            raise UsageError("Say which questions: --answered 1,2 and/or --not-answered 3.")
        disclosure = None
        if args.disclosure:
            disclosure = _by_prefix(views.disclosures, args.disclosure, "disclosure").id
        await space.append(
            DisclosureQuestionsMarked(
                preparation=prep.version_id, marks=marks, disclosure=disclosure
            )
        )
        await tell_delivery(space, args, "Marked.")
    return 0


# -- parser -----------------------------------------------------------------------


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")


def _level(p: argparse.ArgumentParser, name: str, words: str) -> None:
    p.add_argument(f"--{name}", type=int, choices=range(5), metavar="0-4", help=words)


def register(sub: Any) -> None:
    """Add the intimacy commands to the ``trellis`` parser."""
    pacing = sub.add_parser(
        "pacing", help="your pacing plan: stages you move through together"
    ).add_subparsers(dest="pacing_command", required=True, metavar="ACTION")
    p = pacing.add_parser("show", help="where you are, the stages and every move")
    _json(p)
    p.set_defaults(handler=cmd_pacing_show)
    p = pacing.add_parser("propose", help="propose the plan (suggested stages unless --stage)")
    p.add_argument("--stage", action="append", help="a stage in your own words; repeat, in order")
    p.set_defaults(handler=cmd_pacing_propose)
    p = pacing.add_parser("accept", help="accept the plan your partner proposed")
    p.add_argument("id", nargs="?", help="the plan's id, if more than one waits")
    p.set_defaults(handler=cmd_pacing_accept)
    p = pacing.add_parser("forward", help="Move forward (needs both of you): offer, or accept")
    p.set_defaults(handler=cmd_pacing_forward)
    p = pacing.add_parser("decline", help="not now: let your partner's offer pass")
    p.set_defaults(handler=cmd_pacing_decline)
    p = pacing.add_parser("back", help=BACK_WORDS)
    p.add_argument("--stages", type=int, default=1, help="how many stages back (default 1)")
    p.add_argument("--to", type=int, metavar="STAGE", help="the stage number to go back to")
    p.set_defaults(handler=cmd_pacing_back)

    intimacy = sub.add_parser(
        "intimacy", help="intimacy check-ins: information, never a request"
    ).add_subparsers(dest="intimacy_command", required=True, metavar="ACTION")
    p = intimacy.add_parser("checkin", help="how you are; private unless --share")
    _level(p, "comfort", "0 very uneasy ... 4 very comfortable")
    p.add_argument("--desire", choices=("none", "responsive", "curious", "wanting"))
    _level(p, "arousal", "0 none ... 4 a lot (arousal is not a yes)")
    _level(p, "fatigue", "0 rested ... 4 exhausted")
    p.add_argument("--note", help="a few words, if you like")
    p.add_argument("--share", action="store_true", help="share it with your partner")
    p.set_defaults(handler=cmd_intimacy_checkin)
    p = intimacy.add_parser("checkins", help="shared check-ins, and your private ones")
    _json(p)
    p.set_defaults(handler=cmd_intimacy_checkins)

    language = sub.add_parser(
        "language", help="your shared words and cues for discomfort and desire"
    ).add_subparsers(dest="language_command", required=True, metavar="ACTION")
    p = language.add_parser("show", help="the words in use, and which signal each goes with")
    _json(p)
    p.set_defaults(handler=cmd_language_show)
    p = language.add_parser("propose", help="propose a word or cue, or a change to one")
    p.add_argument("term", help="the word, or a short name for a gesture")
    p.add_argument("--means", required=True, help="what it means, e.g. 'slow down'")
    p.add_argument(
        "--kind", required=True, choices=TERM_KINDS, help="stop, slow, check, ok or desire"
    )
    p.add_argument("--gesture", action="store_true", help="it is a gesture or sound, not a word")
    p.add_argument("--revise", metavar="ID", help="the entry this changes")
    p.set_defaults(handler=cmd_language_propose)
    for name, text in (
        ("accept", "accept a proposed word"),
        ("withdraw", "take a word out of use, at once (either of you)"),
    ):
        p = language.add_parser(name, help=text)
        p.add_argument("id", help="the entry's id, or its first characters")
        p.set_defaults(handler=cmd_language_answer)

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
    _json(p)
    p.add_argument("--all", action="store_true", help="include withdrawn ones")
    p.set_defaults(handler=cmd_boundaries)

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
    _json(p)
    p.set_defaults(handler=cmd_prep_show)
    p = prep.add_parser("mark", help="mark questions answered or not after a disclosure")
    p.add_argument("--answered", metavar="N,N", help="question numbers answered")
    p.add_argument("--not-answered", metavar="N,N", help="question numbers not answered")
    p.add_argument("--disclosure", metavar="ID", help="the formal disclosure this refers to")
    p.add_argument("--id", help="the preparation's id, if there is more than one")
    p.set_defaults(handler=cmd_prep_mark)
