"""Intimacy practices, part two: the shared language (words and cues, in use once both
accept), personal boundaries ("if X happens, I will Y": nobody's consent needed; the
partner can mark one read) and the preparation for a formal disclosure (what the
betrayed partner wants to know, and not to hear). Words from
client/views/present_intimacy.py; the rules are the folds' and the write rules'."""

from __future__ import annotations

from typing import Annotated, Any, cast

from litestar import Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect

from client.app.screen import App, Form, Screen, delivery, done, page, read_form
from client.app.screens.agreements import review_date
from client.app.screens.intimacy import app_lines
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.views.intimacy.language import redefines_stop
from client.views.present import plain_error
from client.views.present_intimacy import boundary_lines, language_lines, preparation_lines
from schemas.intimacy import (
    BOUNDARY_AREAS,
    TERM_KINDS,
    BoundaryAcknowledged,
    BoundarySet,
    BoundaryWithdrawn,
    DisclosurePrepared,
    DisclosureQuestionsMarked,
    QuestionMark,
    TermAccepted,
    TermProposed,
    TermWithdrawn,
)

IdPath = Annotated[str, PathParameter(pattern="^[0-9a-f]{64}$")]
ActionPath = Annotated[str, PathParameter(pattern="^(withdraw|read)$")]
PAGE = "/intimacy/words"
DETAIL = (("overview", "an overview"), ("some", "some detail"), ("full", "full detail"))


@get(PAGE)
async def words(app: App) -> Response[Any]:
    space = app.require()
    views = current_views(space)
    me = space.me()
    mine = me.member_id if me else b""
    terms = views.intimacy.language
    return page(
        app,
        "intimacy/words.html",
        views=views,
        current="/intimacy",
        language=app_lines(language_lines(terms, space)),
        to_accept=[
            t.latest
            for t in terms
            if t.in_use is None
            and t.withdrawn_by is None
            and not t.latest.closed
            and mine not in t.latest.accepted_by
        ],
        in_use=[t.in_use for t in terms if t.in_use is not None],
        kinds=TERM_KINDS,
        areas=BOUNDARY_AREAS,
        boundaries=[
            {
                "b": b,
                "lines": boundary_lines(b, space),
                "mine": b.owner == mine,
                "read": mine in b.current.acknowledged_by,
            }
            for b in views.intimacy.boundaries
            if b.withdrawn_at is None
        ],
        preparations=[
            {"p": p, "lines": preparation_lines(p, space), "mine": p.owner == mine}
            for p in views.intimacy.preparations
        ],
        detail=DETAIL,
    )


def _lines(form: Form, name: str) -> list[str]:
    return [line.strip() for line in form.get(name).splitlines() if line.strip()]


@post(f"{PAGE}/language")
async def term_propose(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        kind = form.get("kind")
        if kind not in TERM_KINDS:
            raise TrellisError("Choose what the word or cue is for.", code=ClientErrorCode.USAGE)
        term, meaning = form.get("term"), form.get("meaning")
        if not term or not meaning:
            raise TrellisError(
                "Give the word (or a short name for the gesture) and what it means.",
                code=ClientErrorCode.USAGE,
            )
        if redefines_stop(term, kind):
            raise TrellisError(
                f"'{term}' always means stop; it cannot mean anything else.",
                code=ClientErrorCode.USAGE,
            )
        await space.append(
            TermProposed(
                term=term,
                meaning=meaning,
                kind=cast(Any, kind),
                gesture=form.get("gesture") == "yes",
            )
        )
    except TrellisError as exc:
        return done(app, PAGE, plain_error(exc.message), problem=True)
    return done(
        app,
        PAGE,
        f"Proposed. It is in use once your partner accepts it. {await delivery(app, space)}",
    )


def _term_version(app: App, ident: str) -> Any:
    versions = [v for t in current_views(app.require()).intimacy.language for v in t.versions]
    found = next((v for v in versions if v.id.hex() == ident), None)
    if found is None:
        raise TrellisError(
            "That word is not in your shared language.", code=ClientErrorCode.NOT_FOUND
        )
    return found


@post(f"{PAGE}/language/{{ident:str}}/accept")
async def term_accept(app: App, ident: IdPath) -> Redirect:
    space = app.require()
    try:
        await space.append(TermAccepted(version=_term_version(app, ident).id))
    except TrellisError as exc:
        return done(app, PAGE, plain_error(exc.message), problem=True)
    return done(app, PAGE, f"Accepted. {await delivery(app, space)}")


@post(f"{PAGE}/language/{{ident:str}}/withdraw")
async def term_withdraw(app: App, ident: IdPath) -> Redirect:
    space = app.require()
    try:
        await space.append(TermWithdrawn(version=_term_version(app, ident).id))
    except TrellisError as exc:
        return done(app, PAGE, plain_error(exc.message), problem=True)
    return done(app, PAGE, f"Withdrawn: no longer in use, from now. {await delivery(app, space)}")


@post(f"{PAGE}/boundaries")
async def boundary_set(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        area = form.get("area")
        if area not in BOUNDARY_AREAS:
            raise TrellisError("Choose the area of the boundary.", code=ClientErrorCode.USAGE)
        i_will = form.get("i_will")
        if not i_will:
            raise TrellisError("Say what you will do.", code=ClientErrorCode.USAGE)
        payload = BoundarySet(
            area=cast(Any, area),
            i_will=i_will,
            when=form.get("when"),
            why=form.optional("why"),
            non_negotiable=form.get("non_negotiable") == "yes",
            review_on=review_date(form.get("review_on"), required=False),
        )
        await space.append(payload)
    except TrellisError as exc:
        return done(app, PAGE, plain_error(exc.message), problem=True)
    text = "Saved. It needs nobody's consent; your partner can mark it as read."
    if payload.i_will.lower().startswith(("you must", "you will", "you have to")):
        text += (
            " Note: this reads like a request of your partner. A boundary says what you "
            "will do, e.g. 'If X happens, I will ...'."
        )
    return done(app, PAGE, f"{text} {await delivery(app, space)}")


@post(f"{PAGE}/boundaries/{{ident:str}}/{{action:str}}")
async def boundary_answer(app: App, ident: IdPath, action: ActionPath) -> Redirect:
    """``withdraw`` one's own boundary, or ``read``: mark the partner's as read."""
    space = app.require()
    try:
        me = space.me()
        mine = me.member_id if me else b""
        found = next(
            (b for b in current_views(space).intimacy.boundaries if b.current.id.hex() == ident),
            None,
        )
        if found is None or action not in ("withdraw", "read"):
            raise TrellisError("That boundary is not here.", code=ClientErrorCode.NOT_FOUND)
        if action == "withdraw":
            if found.owner != mine:
                raise TrellisError(
                    "Only the person whose boundary it is can withdraw it.",
                    code=ClientErrorCode.NOT_YOURS,
                )
            await space.append(BoundaryWithdrawn(version=found.current.id))
            text = "Withdrawn. Its history stays."
        else:
            if found.owner == mine:
                raise TrellisError(
                    "This boundary is yours; your partner can mark it as read.",
                    code=ClientErrorCode.NOT_YOURS,
                )
            await space.append(BoundaryAcknowledged(version=found.current.id))
            text = "Marked as read. Reading it is not agreeing to anything."
    except TrellisError as exc:
        return done(app, PAGE, plain_error(exc.message), problem=True)
    return done(app, PAGE, f"{text} {await delivery(app, space)}")


@post(f"{PAGE}/preparation")
async def prep_set(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        me = space.me()
        mine = [
            p
            for p in current_views(space).intimacy.preparations
            if me is not None and p.owner == me.member_id
        ]
        detail = form.get("detail")
        await space.append(
            DisclosurePrepared(
                questions=_lines(form, "questions"),
                detail_wanted=cast(Any, detail if detail in dict(DETAIL) else "overview"),
                topics_not_to_hear=_lines(form, "not_to_hear"),
                safety_needs=_lines(form, "safety_needs"),
                support_plan=form.optional("support_plan"),
                revises=mine[-1].version_id if mine else None,
            )
        )
    except TrellisError as exc:
        return done(app, PAGE, plain_error(exc.message), problem=True)
    return done(
        app,
        PAGE,
        "Saved. Your partner can read it; the disclosure then refers to it. You decide how "
        f"much to hear, and you can change this at any time. {await delivery(app, space)}",
    )


@post(f"{PAGE}/preparation/{{ident:str}}/mark")
async def prep_mark(app: App, ident: IdPath, request: Request[Any, Any, Any]) -> Redirect:
    """Mark each question answered or not, after the formal disclosure."""
    space = app.require()
    form = await read_form(request)
    try:
        prep = next(
            (p for p in current_views(space).intimacy.preparations if p.version_id.hex() == ident),
            None,
        )
        if prep is None:
            raise TrellisError(
                "There is no disclosure preparation to mark.", code=ClientErrorCode.NOT_FOUND
            )
        marks = []
        for index in range(len(prep.current.questions)):
            choice = form.get(f"q{index}")
            if choice in ("yes", "no"):
                marks.append(QuestionMark(index=index, answered=choice == "yes"))
        if not marks:
            raise TrellisError(
                "Say for at least one question whether it was answered.",
                code=ClientErrorCode.USAGE,
            )
        await space.append(DisclosureQuestionsMarked(preparation=prep.version_id, marks=marks))
    except TrellisError as exc:
        return done(app, PAGE, plain_error(exc.message), problem=True)
    return done(app, PAGE, f"Marked. {await delivery(app, space)}")


SCREEN = Screen(
    handlers=[
        words,
        term_propose,
        term_accept,
        term_withdraw,
        boundary_set,
        boundary_answer,
        prep_set,
        prep_mark,
    ]
)
