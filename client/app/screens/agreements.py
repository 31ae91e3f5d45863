"""Agreements: propose, revise, accept, decline, withdraw, and each agreement's full
history. Whether an answer is allowed is the write rules' (client/views/write_rules.py,
checked inside ``Space.append``); the status words are the CLI's
(client/views/practice_forms.py). The plan and windows screens (plan.py, windows.py)
are agreements underneath and use the helpers here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, cast

from litestar import Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect

from client.app.screen import App, Screen, delivery, done, page, read_form
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.space import Space
from client.views.agreements import Agreement, AgreementVersion
from client.views.practice_forms import (
    binds_words,
    find_agreement,
    status_words,
    version_status_words,
)
from client.views.present import accepted_sentence, plain_error, without_effect_sentence
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
    Binds,
)

IdPath = Annotated[str, PathParameter(pattern="^[0-9a-f]{64}$")]
"""An agreement's or version's full id: 64 hex digits."""

CLAUSE_ROWS = 4
"""Clause fields a proposal form offers (empty ones are left out)."""
BINDS = (("both", "both of us"), ("me", "me"), ("you", "my partner"))
KIND_PAGES = {"agreement": "/agreements", "recovery_plan": "/plan", "window": "/windows"}


def find(space: Space, ident: str) -> tuple[Agreement, AgreementVersion | None]:
    """The agreement (and the version, when a version's id is given) with this id."""
    return find_agreement(current_views(space).agreements, ident)


def review_date(value: str, *, required: bool) -> str | None:
    """A review date: today or later (one already past is due from the start)."""
    if not value:
        if required:
            raise TrellisError(
                "An agreement needs a date to review it together: trust-building steps are "
                "meant to be revisited, not to last for ever.",
                code=ClientErrorCode.USAGE,
            )
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise TrellisError(
            f"'{value}' is not a date; use a form like 2026-11-26.", code=ClientErrorCode.USAGE
        ) from None
    if day < datetime.now().astimezone().date():
        raise TrellisError(
            f"{value} is already past; a review date is today or later.",
            code=ClientErrorCode.USAGE,
        )
    return day.isoformat()


def history(space: Space, a: Agreement) -> list[dict[str, Any]]:
    """Every version of ``a`` with every consent, decline, withdrawal and review, in
    the words ``trellis agreement show`` prints."""
    out: list[dict[str, Any]] = []
    for v in a.versions:
        verb = "written" if v.kind == "recovery_plan" else "proposed"
        lines = [(f"{verb} by {space.member_name(v.proposer)}", v.proposed_at)]
        read = "read" if v.kind == "recovery_plan" else "accepted"
        lines += [(f"{read} by {space.member_name(c.member)}", c.at) for c in v.accepted_by]
        lines += [(f"declined by {space.member_name(c.member)}", c.at) for c in v.declined_by]
        if v.withdrawn_by:
            who = space.member_name(v.withdrawn_by.member)
            lines.append((f"consent withdrawn by {who}", v.withdrawn_by.at))
        lines += [
            (f"reviewed by {space.member_name(r.member)}: {r.outcome}", r.at) for r in v.reviews
        ]
        lines += [(without_effect_sentence(w, space), w.at) for w in v.without_effect]
        notes = [
            f"{space.member_name(c.member)}: {c.note}"
            for c in [*v.accepted_by, *v.declined_by, *([v.withdrawn_by] if v.withdrawn_by else [])]
            if getattr(c, "note", None)
        ]
        out.append(
            {
                "v": v,
                "status": version_status_words(v.status),
                "clauses": [
                    (c, binds_words(v, i, space.profiles(), space.member_name))
                    for i, c in enumerate(v.clauses)
                ],
                "lines": sorted(lines, key=lambda line: line[1]),
                "notes": notes,
            }
        )
    return out


@get("/agreements")
async def agreements(app: App) -> Response[Any]:
    space = app.require()
    items = [a for a in current_views(space).agreements.agreements if a.kind == "agreement"]
    return page(
        app,
        "agreements/agreements.html",
        current="/agreements",
        items=[(a, status_words(a)) for a in items],
        rows=range(CLAUSE_ROWS),
        binds=BINDS,
        base=None,
        name_of=space.member_name,
    )


def _clauses(form_fields: list[tuple[str, str]]) -> tuple[list[str], list[Binds]]:
    clauses = [v.strip() for k, v in form_fields if k == "clause"]
    binds = [v.strip() for k, v in form_fields if k == "binds"]
    kept: list[str] = []
    kept_binds: list[Binds] = []
    for index, text in enumerate(clauses):
        if not text:
            continue
        choice = binds[index] if index < len(binds) else "both"
        kept.append(text)
        kept_binds.append(cast(Binds, choice if choice in ("me", "you", "both") else "both"))
    if not kept:
        raise TrellisError("An agreement needs at least one clause.", code=ClientErrorCode.USAGE)
    return kept, kept_binds


@post("/agreements")
async def propose(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    back = "/agreements"
    try:
        revises = None
        if form.get("revises"):
            agreement, version = find(space, form.get("revises"))
            back = f"/agreements/{agreement.id.hex()}"
            base = version or agreement.current
            if base is None:
                raise TrellisError(
                    "That agreement has no version to revise.", code=ClientErrorCode.NOT_FOUND
                )
            revises = base.id
        title = form.get("title")
        if not title:
            raise TrellisError("An agreement needs a title.", code=ClientErrorCode.USAGE)
        clauses, binds = _clauses(form.fields)
        event = await space.append(
            AgreementProposed(
                title=title,
                clauses=clauses,
                binds=binds,
                revises=revises,
                review_on=review_date(form.get("review_on"), required=True),
                expires_on=review_date(form.get("expires_on"), required=False),
            )
        )
    except TrellisError as exc:
        return done(app, back, plain_error(exc.message), problem=True)
    return done(
        app,
        f"/agreements/{event.event_id.hex() if revises is None else back.rsplit('/', 1)[1]}",
        f"Proposed. Your partner can accept or decline it. {await delivery(app, space)}",
    )


@get("/agreements/{ident:str}")
async def show(app: App, ident: IdPath) -> Response[Any]:
    space = app.require()
    try:
        agreement, _ = find(space, ident)
    except TrellisError as exc:
        return done(app, "/agreements", plain_error(exc.message), problem=True)
    me = space.me()
    mine = me.member_id if me else None
    current = agreement.current or agreement.versions[-1]
    open_versions = [v for v in agreement.versions if v.status == "proposed"]
    return page(
        app,
        "agreements/show.html",
        current=KIND_PAGES.get(agreement.kind, "/agreements"),
        a=agreement,
        status_text=status_words(agreement),
        versions=history(space, agreement),
        answerable=[v for v in open_versions if v.proposer != mine],
        own_open=[v for v in open_versions if v.proposer == mine],
        # A plan is retired only by its writer; an agreement by either partner.
        withdrawable=current
        if current.status in ("in_force", "expired")
        and (agreement.kind != "recovery_plan" or current.proposer == mine)
        else None,
        base=current,
        rows=range(max(CLAUSE_ROWS, len(current.clauses) + 1)),
        binds=BINDS,
        revisable=agreement.kind == "agreement",
        back=KIND_PAGES.get(agreement.kind, "/agreements"),
        name_of=space.member_name,
    )


@post("/agreements/{ident:str}/accept")
async def accept(app: App, ident: IdPath, request: Request[Any, Any, Any]) -> Redirect:
    return await _answer(app, ident, request, "accept")


@post("/agreements/{ident:str}/decline")
async def decline(app: App, ident: IdPath, request: Request[Any, Any, Any]) -> Redirect:
    return await _answer(app, ident, request, "decline")


@post("/agreements/{ident:str}/withdraw")
async def withdraw(app: App, ident: IdPath, request: Request[Any, Any, Any]) -> Redirect:
    return await _answer(app, ident, request, "withdraw")


@post("/agreements/{ident:str}/review")
async def review(app: App, ident: IdPath, request: Request[Any, Any, Any]) -> Redirect:
    return await _answer(app, ident, request, "review")


async def _answer(app: App, ident: str, request: Request[Any, Any, Any], action: str) -> Redirect:
    """Accept, decline or withdraw one version (``ident`` is the version's id). The
    write rules refuse what may not be done (accepting one's own proposal, a closed
    version, someone else's plan) with a plain sentence; nothing is written then."""
    space = app.require()
    form = await read_form(request)
    try:
        agreement, version = find(space, ident)
        target = version or agreement.current or agreement.versions[-1]
        back = f"/agreements/{agreement.id.hex()}"
        me = space.me()
        if agreement.kind == "recovery_plan" and me is not None and target.proposer != me.member_id:
            raise TrellisError(
                f"This recovery plan is {space.member_name(target.proposer)}'s: they write and "
                "revise it, and you can read it. What you tell each other, and when, is an "
                "agreement you make together.",
                code=ClientErrorCode.NOT_YOURS,
            )
        if action == "accept":
            await space.append(AgreementAccepted(version=target.id, note=form.optional("note")))
        elif action == "decline":
            await space.append(AgreementDeclined(version=target.id, reason=form.optional("reason")))
        elif action == "review":  # the CLI's 'trellis agreement review'
            await space.append(
                AgreementReviewed(
                    version=target.id,
                    outcome="revise" if form.get("outcome") == "revise" else "keep",
                    note=form.optional("note"),
                    next_review_on=review_date(form.get("next_review_on"), required=False),
                )
            )
        else:
            await space.append(
                AgreementWithdrawn(version=target.id, reason=form.optional("reason"))
            )
    except TrellisError as exc:
        return done(app, f"/agreements/{ident}", plain_error(exc.message), problem=True)
    sentence = await delivery(app, space)
    if action == "accept":
        status = next(
            (
                str(v.status)
                for a in current_views(space).agreements.agreements
                for v in a.versions
                if v.id == target.id
            ),
            "proposed",
        )
        return done(app, back, f"{accepted_sentence(status)} {sentence}")
    if action == "decline":
        return done(app, back, f"Declined. {sentence}")
    if action == "review":
        return done(app, back, f"Review recorded. {sentence}")
    return done(app, back, f"Consent withdrawn. This takes effect now. {sentence}")


SCREEN = Screen(
    handlers=[agreements, propose, show, accept, decline, withdraw, review],
    nav_label="Agreements",
    nav_path="/agreements",
)
