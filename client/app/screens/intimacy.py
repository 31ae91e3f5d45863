"""Intimacy practices, part one: the pacing plan (moving forward needs both, stepping
back needs one and no explanation) and intimacy check-ins (information, never a
request; private unless shared). The rules are client/views/intimacy_pacing.py's and
the write rules'; the words are client/views/present_intimacy.py's, as the CLI's.
Part two (shared language, boundaries, disclosure preparation) is intimacy_words.py."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Screen, delivery, done, page, read_form
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.space import private_notes
from client.views import Moment
from client.views.present import plain_error
from client.views.present_intimacy import (
    AROUSAL_NOTE,
    BACK_WORDS,
    CHECKIN_REMINDER,
    DEFAULT_STAGES,
    FORWARD_WORDS,
    LEVEL_WORDS,
    NO_OBLIGATION,
    checkin_line,
    pacing_lines,
    stage_name,
)
from schemas.ids import MemberId
from schemas.intimacy import (
    IntimacyCheckIn,
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingStage,
    PacingSteppedBack,
)

DESIRES = ("none", "responsive", "curious", "wanting")
PRIVATE_SYNC_S = 5.0


def app_lines(lines: list[str]) -> list[str]:
    """The CLI's lines without the ones that name a command (the page has buttons)."""
    return [line for line in lines if "'trellis " not in line]


def _me(app: App) -> bytes:
    me = app.require().me()
    if me is None:
        raise TrellisError(
            "This device is not a member yet; it finishes joining at the next sync.",
            code=ClientErrorCode.NOT_MEMBER,
        )
    return me.member_id


@get("/intimacy")
async def intimacy(app: App) -> Response[Any]:
    space = app.require()
    moment = Moment.now()
    views = current_views(space)
    pacing = views.intimacy.pacing
    me = space.me()
    mine = me.member_id if me else b""
    offers = pacing.open_offers(moment.now_ms)
    return page(
        app,
        "intimacy/intimacy.html",
        views=views,
        current="/intimacy",
        pacing_lines=app_lines(pacing_lines(pacing, space, moment.now_ms)),
        has_plan=pacing.plan is not None,
        waiting=[v for v in pacing.pending_versions() if mine not in v.accepted_by],
        partner_offer=next((o for o in reversed(offers) if o.member != mine), None),
        own_offer=any(o.member == mine for o in offers),
        can_step_back=pacing.plan is not None and bool(pacing.stage),
        default_stages="\n".join(s.title for s in DEFAULT_STAGES),
        checkins=[checkin_line(c, space, private=False) for c in views.intimacy.checkins][-20:],
        levels=LEVEL_WORDS,
        desires=DESIRES,
        words={
            "forward": FORWARD_WORDS,
            "back": BACK_WORDS,
            "no_obligation": NO_OBLIGATION,
            "reminder": CHECKIN_REMINDER,
            "arousal": AROUSAL_NOTE,
        },
    )


@post("/intimacy/pacing/propose")
async def pacing_propose(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        titles = [t.strip() for t in form.get("stages").splitlines() if t.strip()]
        stages = [PacingStage(title=t) for t in titles] if titles else list(DEFAULT_STAGES)
        if titles == [s.title for s in DEFAULT_STAGES]:
            stages = list(DEFAULT_STAGES)  # the suggested stages, with what each includes
        view = current_views(space).intimacy.pacing
        await space.append(
            PacingPlanProposed(stages=stages, revises=None if view.plan is None else view.plan.id)
        )
    except TrellisError as exc:
        return done(app, "/intimacy", plain_error(exc.message), problem=True)
    return done(
        app,
        "/intimacy",
        f"Proposed a pacing plan of {len(stages)} stages. It is in use once your partner "
        f"accepts it. {await delivery(app, space)}",
    )


@post("/intimacy/pacing/accept")
async def pacing_accept(app: App) -> Redirect:
    space = app.require()
    try:
        me = _me(app)
        pending = [
            v
            for v in current_views(space).intimacy.pacing.pending_versions()
            if me not in v.accepted_by
        ]
        if not pending:
            raise TrellisError(
                "No pacing plan is waiting for your answer.", code=ClientErrorCode.NOT_FOUND
            )
        await space.append(PacingPlanAccepted(version=pending[-1].id))
    except TrellisError as exc:
        return done(app, "/intimacy", plain_error(exc.message), problem=True)
    return done(app, "/intimacy", f"Accepted. {await delivery(app, space)}")


@post("/intimacy/pacing/forward")
async def pacing_forward(app: App) -> Redirect:
    """Offer to move forward, or accept the partner's offer: it needs both."""
    space = app.require()
    moment = Moment.now()
    try:
        me = _me(app)
        view = current_views(space).intimacy.pacing
        if view.plan is None or view.stage is None:
            raise TrellisError(
                "There is no pacing plan in use yet.", code=ClientErrorCode.NO_PACING_PLAN
            )
        offers = view.open_offers(moment.now_ms)
        theirs = [o for o in offers if o.member != me]
        if theirs:
            await space.append(PacingForwardAccepted(offer=theirs[-1].id))
            text = (
                f"You both chose to move forward, to {stage_name(view, view.stage + 1)}. You "
                "can step back at any time."
            )
        else:
            if view.stage + 1 >= len(view.plan.stages):
                raise TrellisError(
                    "You are at the plan's last stage.", code=ClientErrorCode.NO_NEXT_STAGE
                )
            again_at = view.next_offer_at(MemberId(me))
            if again_at is not None and moment.now_ms < again_at:
                raise TrellisError(
                    "Your partner said not now. You can offer again later; there is no "
                    "hurry, and stepping back is always possible.",
                    code=ClientErrorCode.OFFER_COOLING_DOWN,
                )
            if any(o.member == me for o in offers):
                raise TrellisError(
                    "You have already offered; your partner may answer within 48 hours, or "
                    "not at all. Silence is not a yes.",
                    code=ClientErrorCode.OFFER_OPEN,
                )
            await space.append(PacingForwardProposed(version=view.plan.id, from_stage=view.stage))
            text = (
                "Offered to move forward (needs both of you). Your partner may accept within "
                "48 hours or let it pass; silence is not a yes."
            )
    except TrellisError as exc:
        return done(app, "/intimacy", plain_error(exc.message), problem=True)
    return done(app, "/intimacy", f"{text} {await delivery(app, space)}")


@post("/intimacy/pacing/decline")
async def pacing_decline(app: App) -> Redirect:
    space = app.require()
    try:
        me = _me(app)
        offers = current_views(space).intimacy.pacing.open_offers(Moment.now().now_ms)
        theirs = [o for o in offers if o.member != me]
        if not theirs:
            raise TrellisError("There is no offer waiting for you.", code=ClientErrorCode.NOT_FOUND)
        await space.append(PacingForwardDeclined(offer=theirs[-1].id))
    except TrellisError as exc:
        return done(app, "/intimacy", plain_error(exc.message), problem=True)
    return done(
        app, "/intimacy", f"Noted: not now. No reason is needed. {await delivery(app, space)}"
    )


@post("/intimacy/pacing/back")
async def pacing_back(app: App) -> Redirect:
    """One stage back: one partner, no explanation."""
    space = app.require()
    try:
        view = current_views(space).intimacy.pacing
        if view.plan is None or view.stage is None:
            raise TrellisError(
                "There is no pacing plan in use yet.", code=ClientErrorCode.NO_PACING_PLAN
            )
        if view.stage == 0:
            raise TrellisError(
                "You are at the first stage; there is no stage before it.",
                code=ClientErrorCode.USAGE,
            )
        target = view.stage - 1
        await space.append(PacingSteppedBack(to_stage=target))
    except TrellisError as exc:
        return done(app, "/intimacy", plain_error(exc.message), problem=True)
    return done(
        app,
        "/intimacy",
        f"Stepped back to {stage_name(view, target)}. {await delivery(app, space)}",
    )


def _level(value: str) -> int | None:
    return int(value) if value in {"0", "1", "2", "3", "4"} else None


@post("/intimacy/checkins")
async def checkin(app: App, request: Request[Any, Any, Any]) -> Redirect:
    """Shared with the partner, or kept in this device's private space (which needs the
    passphrase again: its key is sealed apart from the shared space's)."""
    space = app.require()
    form = await read_form(request)
    desire = form.get("desire")
    payload = IntimacyCheckIn(
        comfort=_level(form.get("comfort")),
        desire=cast(Any, desire) if desire in DESIRES else None,
        arousal=_level(form.get("arousal")),
        fatigue=_level(form.get("fatigue")),
        note=form.optional("note"),
    )
    try:
        if all(
            v is None
            for v in (
                payload.comfort,
                payload.desire,
                payload.arousal,
                payload.fatigue,
                payload.note,
            )
        ):
            raise TrellisError(
                "A check-in needs at least one of comfort, desire, arousal, tiredness or a note.",
                code=ClientErrorCode.USAGE,
            )
        if form.get("share") == "yes":
            await space.append(payload)
            text = f"Saved for your partner. {CHECKIN_REMINDER} {await delivery(app, space)}"
        else:
            passphrase = form.raw("passphrase")
            if not passphrase:
                raise TrellisError(
                    "To keep it private, give your passphrase: your private notes are "
                    "locked with it. Or choose to share it.",
                    code=ClientErrorCode.USAGE,
                )
            private = await private_notes.open_private(space, passphrase, create=True)
            async with private:
                await private.append(payload)
                with contextlib.suppress(TrellisError, TimeoutError):
                    await asyncio.wait_for(private.sync(), PRIVATE_SYNC_S)
            text = "Kept private: only your own devices can read it."
    except TrellisError as exc:
        return done(app, "/intimacy", plain_error(exc.message), problem=True)
    if payload.arousal is not None:
        text += f" {AROUSAL_NOTE}"
    return done(app, "/intimacy", text)


SCREEN = Screen(
    handlers=[
        intimacy,
        pacing_propose,
        pacing_accept,
        pacing_forward,
        pacing_decline,
        pacing_back,
        checkin,
    ],
    nav_label="Intimacy",
    nav_path="/intimacy",
)
