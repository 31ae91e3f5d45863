"""``trellis pacing``: the pacing plan (docs/PROTOCOL.md §5.11). Moving forward needs both
of you; stepping back needs one, at once, and no explanation."""

from __future__ import annotations

import argparse
from typing import Any

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
from client.views import Moment
from client.views.intimacy import PacingView
from client.views.present import local_time
from client.views.present_intimacy import (
    BACK_WORDS,
    DEFAULT_STAGES,
    pacing_json,
    pacing_lines,
    stage_name,
)
from schemas.ids import MemberId
from schemas.intimacy import (
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingStage,
    PacingSteppedBack,
)


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
        me = my_member_id(space)
        pending = [
            v for v in space.views().intimacy.pacing.pending_versions() if me not in v.accepted_by
        ]
        if args.id:
            pending = [by_prefix(pending, args.id, "pacing plan waiting for you")]
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
        me = my_member_id(space)
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
        offer = _partner_offer(
            space.views(moment).intimacy.pacing, my_member_id(space), moment.now_ms
        )
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pacing = sub.add_parser(
        "pacing", help="your pacing plan: stages you move through together"
    ).add_subparsers(dest="pacing_command", required=True, metavar="ACTION")
    p = pacing.add_parser("show", help="where you are, the stages and every move")
    json_flag(p)
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
