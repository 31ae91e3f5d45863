"""Journal: write (text, mood, tags), amend or withdraw one's own entries, read both
partners' entries. The rules (who may amend, what withdrawing means) are the folds'
(client/views/fold.py) and the words are the CLI's."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect

from client.app.screen import App, Screen, delivery, done, page, read_form
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.space import Space
from client.views.present import plain_error
from schemas.ids import EventId
from schemas.payloads import MAX_TEXT_CHARS, JournalAmended, JournalEntry, JournalRetracted

EntryPath = Annotated[str, PathParameter(pattern="^[0-9a-f]{64}$")]
"""A journal entry's full id: 64 hex digits."""
ShowQuery = Annotated[str, QueryParameter()]
"""``all`` shows withdrawn entries too."""

NEWEST = 200
"""Entries on the page; the timeline has every one."""
MOODS = ((1, "very low"), (2, "low"), (3, "okay"), (4, "good"), (5, "very good"))


@get("/journal")
async def journal(app: App, show: ShowQuery = "") -> Response[Any]:
    space = app.require()
    me = space.me()
    # The shared fold (client/app/views_cache.py) and the newest entries only: a page
    # must answer quickly for a home of 10,000 events (bench/app.py).
    folded = current_views(space).journal
    items = [i for i in reversed(folded) if show == "all" or not i.retracted][:NEWEST]
    return page(
        app,
        "journal/journal.html",
        current="/journal",
        items=items,
        mine=me.member_id if me else None,
        moods=MOODS,
        show_all=show == "all",
        undelivered=await space.undelivered(),
        max_chars=MAX_TEXT_CHARS,
        name_of=space.member_name,
    )


def _text(value: str) -> str:
    if not value:
        raise TrellisError("The entry is empty; nothing was saved.", code=ClientErrorCode.USAGE)
    if len(value) > MAX_TEXT_CHARS:
        raise TrellisError(
            f"The entry is longer than {MAX_TEXT_CHARS} characters.", code=ClientErrorCode.USAGE
        )
    return value


def _mood(value: str) -> int | None:
    if value in {"1", "2", "3", "4", "5"}:
        return int(value)
    return None


def _tags(values: list[str]) -> list[str]:
    """Tags from one field, separated by commas or spaces, '#' optional."""
    out: list[str] = []
    for value in values:
        for tag in value.replace(",", " ").split():
            tag = tag.lstrip("#")
            if tag and tag not in out:
                out.append(tag)
    return out


def _entry(space: Space, entry_hex: str) -> EventId:
    """An entry by its full id. Whose it is, and so whether it may be changed, is
    decided where every write is checked (client/views/write_rules.py), as for the CLI."""
    for item in space.journal(include_retracted=True):
        if item.id.hex() == entry_hex:
            return item.id
    raise TrellisError("That entry is not in the journal.", code=ClientErrorCode.NOT_FOUND)


@post("/journal")
async def write(app: App, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        await space.append(
            JournalEntry(
                text=_text(form.get("text")),
                mood=_mood(form.get("mood")),
                tags=_tags(form.all("tags")),
            )
        )
    except TrellisError as exc:
        return done(app, "/journal", plain_error(exc.message), problem=True)
    return done(app, "/journal", f"Saved. {await delivery(app, space)}")


@get("/journal/{entry:str}/amend")
async def amend_page(app: App, entry: EntryPath) -> Response[Any]:
    space = app.require()
    try:
        entry_id = _entry(space, entry)
    except TrellisError as exc:
        return done(app, "/journal", plain_error(exc.message), problem=True)
    item = next(i for i in space.journal(include_retracted=True) if i.id == entry_id)
    return page(app, "journal/amend.html", current="/journal", item=item, moods=MOODS)


@post("/journal/{entry:str}/amend")
async def amend(app: App, entry: EntryPath, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        entry_id = _entry(space, entry)
        await space.append(
            JournalAmended(
                entry=entry_id,
                text=_text(form.get("text")),
                mood=_mood(form.get("mood")),
                tags=_tags(form.all("tags")),
            )
        )
    except TrellisError as exc:
        return done(app, f"/journal/{entry}/amend", plain_error(exc.message), problem=True)
    sentence = await delivery(app, space)
    return done(app, "/journal", f"Updated. The earlier text stays in the history. {sentence}")


@post("/journal/{entry:str}/withdraw")
async def withdraw(app: App, entry: EntryPath, request: Request[Any, Any, Any]) -> Redirect:
    space = app.require()
    form = await read_form(request)
    try:
        entry_id = _entry(space, entry)
        await space.append(JournalRetracted(entry=entry_id, reason=form.optional("reason")))
    except TrellisError as exc:
        return done(app, "/journal", plain_error(exc.message), problem=True)
    return done(
        app,
        "/journal",
        "Hidden from the journal. The history still shows it: your partner can still read it "
        "there, because what was shared cannot be unsent. " + await delivery(app, space),
    )


SCREEN = Screen(
    handlers=[journal, write, amend_page, amend, withdraw], nav_label="Journal", nav_path="/journal"
)
