"""The three-circles recovery plan. It belongs to the partner who writes it (the
partner in recovery): they write and revise it, and the other partner reads it. Each
version is in use at once; nobody else can change or end it (the fold and the write
rules hold that; this page only offers the form to its writer)."""

from __future__ import annotations

from typing import Any, cast

from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Screen, delivery, done, page, read_form
from client.app.screens.agreements import review_date
from client.app.views_cache import current_views
from client.errors import TrellisError
from client.space import Space
from client.views.agreements import Agreement, AgreementVersion
from client.views.practice_forms import plan_circles, plan_in_use, plan_proposal
from client.views.present import plain_error
from schemas.practices import CircleItem

CIRCLES = (
    ("inner", "Inner circle", "behaviours you abstain from (one ends the sober run)"),
    ("middle", "Middle circle", "risks and warning signs (never end the run)"),
    ("outer", "Outer circle", "healthy behaviours"),
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _current_plan(space: Space, member: bytes) -> AgreementVersion | None:
    return plan_in_use(current_views(space).agreements, member)


@get("/plan")
async def plan(app: App) -> Response[Any]:
    space = app.require()
    me = space.me()
    mine = me.member_id if me else None
    profiles = space.profiles()
    plans: list[Agreement] = [
        a for a in current_views(space).agreements.agreements if a.kind == "recovery_plan"
    ]
    in_recovery = bool(mine and profiles.get(mine) and profiles[mine].in_recovery)
    partner_in_recovery = any(p.in_recovery for m, p in profiles.items() if m != mine)
    base = _current_plan(space, mine) if mine else None
    texts = {name: "" for name, _, _ in CIRCLES}
    if base is not None and base.circles is not None:
        for name, _, _ in CIRCLES:
            texts[name] = "\n".join(getattr(base.circles, name))
    return page(
        app,
        "agreements/plan.html",
        current="/plan",
        plans=plans,
        circles=CIRCLES,
        texts=texts,
        base=base,
        # The writer is the partner in recovery; with no profile saying so, either may
        # keep a plan of their own (as the CLI allows).
        may_write=in_recovery or not partner_in_recovery,
        name_of=space.member_name,
        mine=mine,
    )


@post("/plan")
async def write(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    me = space.me()
    try:
        circles = plan_circles(
            CircleItem(circle=cast(Any, name), text=text)
            for name, _, _ in CIRCLES
            for text in _lines(form.get(name))
        )
        base = _current_plan(space, me.member_id) if me else None
        await space.append(
            plan_proposal(
                circles,
                title=form.get("title") or "Recovery plan",
                base=base,
                review_on=review_date(form.get("review_on"), required=False),
            )
        )
    except TrellisError as exc:
        return done(app, "/plan", plain_error(exc.message), problem=True)
    number = base.number + 1 if base else 1
    return done(
        app,
        "/plan",
        f"Saved version {number} of your recovery plan. It is yours: your partner can read "
        f"it, and cannot change or end it. {await delivery(app, space)}",
    )


SCREEN = Screen(handlers=[plan, write])
