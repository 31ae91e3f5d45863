"""Disclosures: the structured slip report (the partner in recovery writes it), and
the partner's own mark on it: "seen", "I need time", with words back if they want.
Nothing nags: no "not yet acknowledged", no reminders (issue #17). The kind and circle
rules are client/views/practice_forms.py's; who may mark what is the write rules'."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, cast

from litestar import Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect

from client.app.screen import App, Form, Screen, delivery, done, page, read_form
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.views.practice_forms import (
    DISCLOSED_THANKS,
    MARK_WORDS,
    NEED_TIME_DONE,
    RISK_NOTE,
    SEEN_DONE,
    report_kind,
)
from client.views.present import calendar_date_ms, disclosure_detail_lines, plain_error
from schemas.practices import (
    DISCLOSURE_KINDS,
    DisclosureAcknowledged,
    DisclosureMade,
    DisclosureMark,
    SlipReport,
)

IdPath = Annotated[str, PathParameter(pattern="^[0-9a-f]{64}$")]

KIND_WORDS = {
    "therapy_session": "a therapy session",
    "meeting": "a meeting",
    "sobriety_milestone": "a sobriety milestone",
    "risk": "a risk (middle circle)",
    "slip": "a slip",
    "relapse": "a relapse",
    "other": "something else",
}
"""The kinds a person can write here (a formal disclosure is a milestone, not this)."""
HALT = ("hungry", "angry", "lonely", "tired")
LISTS = (
    ("triggers", "Triggers"),
    ("warning_signs", "Warning signs"),
    ("coping_tried", "What you tried"),
    ("support_contacted", "Who you reached out to"),
    ("next_steps", "Next steps"),
)


NEWEST = 100
"""The newest shown on the page; the timeline lists every event."""


@get("/disclosures")
async def disclosures(app: App) -> Response[Any]:
    space = app.require()
    me = space.me()
    mine = me.member_id if me else None
    items = [
        {
            "d": d,
            "who": space.member_name(d.author),
            "kind": d.kind.replace("_", " "),
            "lines": disclosure_detail_lines(d, space.member_name),
            "marks": [
                f"{space.member_name(a.member)}: {MARK_WORDS.get(a.mark, a.mark)}"
                for a in d.acknowledgements
            ],
            "mine": d.author == mine,
            # My own latest mark: once seen, the page says so instead of asking again.
            "my_mark": next(
                (a.mark for a in reversed(d.acknowledgements) if a.member == mine), None
            ),
        }
        for d in list(reversed(current_views(space).disclosures))[:NEWEST]
    ]
    return page(
        app,
        "disclosures/disclosures.html",
        current="/disclosures",
        items=items,
        kinds=[(k, KIND_WORDS[k]) for k in DISCLOSURE_KINDS if k in KIND_WORDS],
        halt=HALT,
        lists=LISTS,
        today=date.today().isoformat(),
    )


def _lines(form: Form, name: str) -> list[str]:
    return [line.strip() for line in form.get(name).splitlines() if line.strip()]


def _when(value: str) -> int | None:
    """When it happened, if not now: a date or a date and time, not in the future."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if len(value) == len("2026-11-26"):
            # A calendar date, as the CLI keeps one (client/views/present.py).
            if moment.date() > date.today():
                raise ValueError
            return calendar_date_ms(value)
    except ValueError:
        raise TrellisError(
            f"'{value}' is not a date; use a form like 2026-11-26.", code=ClientErrorCode.USAGE
        ) from None
    ms = int(moment.astimezone().timestamp() * 1000)
    if moment.date() > date.today() or ms > int(datetime.now().timestamp() * 1000) + 60_000:
        raise TrellisError(
            f"'{value}' is in the future; what is disclosed cannot be in the future.",
            code=ClientErrorCode.USAGE,
        )
    return ms


@post("/disclosures")
async def disclose(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        asked = form.get("kind")
        if asked not in DISCLOSURE_KINDS:
            raise TrellisError("Choose what kind of disclosure it is.", code=ClientErrorCode.USAGE)
        summary = form.get("summary")
        if not summary:
            raise TrellisError(
                "Say in one line what it is about; specific, not graphic.",
                code=ClientErrorCode.USAGE,
            )
        circle = form.get("circle") or None
        mood = form.get("mood")
        halt = [h for h in form.all("halt") if h in HALT]
        lists = {name: _lines(form, name) for name, _ in LISTS}
        place = form.optional("place")
        has_details = bool(circle or place or mood or halt or any(lists.values()))
        kind, with_slip = report_kind(asked, circle, has_details)
        slip = (
            SlipReport(
                circle=cast(Any, circle),
                place=place,
                mood=int(mood) if mood in {"1", "2", "3", "4", "5"} else None,
                halt=cast(Any, halt),
                **lists,
            )
            if with_slip
            else None
        )
        await space.append(
            DisclosureMade(
                kind=cast(Any, kind),
                summary=summary,
                details=form.optional("details"),
                slip=slip,
            ),
            occurred_at=_when(form.get("when")),
        )
    except TrellisError as exc:
        return done(app, "/disclosures", plain_error(exc.message), problem=True)
    note = f" {RISK_NOTE}" if kind == "risk" and asked != "risk" else ""
    return done(
        app, "/disclosures", f"Saved.{note} {DISCLOSED_THANKS} {await delivery(app, space)}"
    )


@post("/disclosures/{ident:str}/mark")
async def mark(app: App, ident: IdPath, request: Request[Any, Any, Any]) -> Redirect:
    """The partner's mark: "seen" or "I need time", with words back if they want."""
    space = app.require()
    form = await read_form(request)
    chosen: DisclosureMark = "need_time" if form.get("mark") == "need_time" else "seen"
    try:
        target = next((d for d in current_views(space).disclosures if d.id.hex() == ident), None)
        if target is None:
            raise TrellisError("That disclosure is not here.", code=ClientErrorCode.NOT_FOUND)
        await space.append(
            DisclosureAcknowledged(
                disclosure=target.id, response=form.optional("response"), mark=chosen
            )
        )
    except TrellisError as exc:
        return done(app, "/disclosures", plain_error(exc.message), problem=True)
    words = SEEN_DONE if chosen == "seen" else NEED_TIME_DONE
    return done(app, "/disclosures", f"{words} {await delivery(app, space)}")


SCREEN = Screen(
    handlers=[disclosures, disclose, mark], nav_label="Disclosures", nav_path="/disclosures"
)
