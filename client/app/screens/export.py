"""Export: choose what to export (agreements, the pacing plan, the recovery records
with the first page's start), declare for whom, why and until when (as ``trellis
export`` requires), and download the HTML report or the JSON. What each part brings
is client/export/choice.py, what may leave (the partner's own words only with their
consent for this recipient and purpose) and the declaration written to the shared
history are client/space/exporting.py: the same code as the CLI's.
Also: give one's own consent to the partner's export (``trellis export-consent``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Form, Screen, delivery, done, page, read_form
from client.app.views_cache import current_views
from client.errors import TrellisError, UsageError
from client.export import render_html
from client.export.choice import PACING_TYPES, ExportChoice, export_choice
from client.export.consent import left_out_sentence
from client.space import Space
from client.space.exporting import give_export_consent, make_export, withdraw_export_consent
from client.views import Moment
from client.views.practice_forms import (
    DECLARATION_WORDS,
    export_declaration,
    export_since_ms,
    status_words,
)
from client.views.present import plain_error
from schemas.practices import MAX_PURPOSE_CHARS, MAX_RECIPIENT_CHARS, ExportConsented

EXPORT_NOTE = (
    "The file holds the chosen events' decrypted text and the keys that open them: whoever "
    "holds it can read those events and no others. Keep it private and share it only with "
    "someone you both chose; it can be checked with 'trellis verify-export'."
)
CHOOSE_SOMETHING = (
    "Choose what to export: one or more agreements, the pacing plan, the recovery "
    "records, or more than one."
)
"""The CLI's "Say what to export" (client/cli/audit.py), naming the page's choices."""
PACING_CHOICE = "The pacing plan and every move in it"
RECOVERY_CHOICE = "Recovery records: slips and disclosures, check-ins, signals and windows"
SINCE_LABEL = "The report's first page covers from (optional, e.g. the last appointment)"
"""The words of ``trellis export --pacing``, ``--recovery`` and ``--since``."""


def _today() -> date:
    return datetime.now().astimezone().date()


def _declared(form: Form) -> ExportConsented:
    """Recipient, purpose and last day, as the CLI's --for, --purpose and --until."""
    return export_declaration(
        form.get("recipient"), form.get("purpose"), form.get("until"), _today()
    )


@get("/export")
async def export_page(app: App) -> Response[Any]:
    space = app.require()
    items = [a for a in current_views(space).agreements.agreements]
    return page(
        app,
        "export/export.html",
        current="/export",
        items=[(a, status_words(a)) for a in items],
        has_pacing=any(isinstance(e.payload, PACING_TYPES) for e in space.events()),
        pacing_choice=PACING_CHOICE,
        recovery_choice=RECOVERY_CHOICE,
        since_label=SINCE_LABEL,
        max_recipient=MAX_RECIPIENT_CHARS,
        max_purpose=MAX_PURPOSE_CHARS,
        note=EXPORT_NOTE,
    )


def _choice(space: Space, form: Form, since_ms: int | None) -> ExportChoice:
    """The parts ticked on the form (each as ``trellis export`` chooses it)."""
    wanted = set(form.all("agreement"))
    pacing, recovery = form.get("pacing") == "yes", form.get("recovery") == "yes"
    if not wanted and not pacing and not recovery:
        raise UsageError(CHOOSE_SOMETHING)
    agreements = [a for a in current_views(space).agreements.agreements if a.id.hex() in wanted]
    if wanted and not agreements:
        raise UsageError("Those agreements are not in this space; choose again.")
    return export_choice(
        space.events(),
        agreements=agreements if wanted else None,
        pacing=pacing,
        recovery=recovery,
        since_ms=since_ms,
    )


@post("/export")
async def export(app: App, request: Request[Any, Any, Any]) -> Response[Any] | Redirect:
    """The export file itself, as a download (or back to the form with why not)."""
    space = app.require()
    form = await read_form(request)
    try:
        since_ms = export_since_ms(form.get("since"), Moment.now().now_ms)
        choice = _choice(space, form, since_ms)
        fmt = "json" if form.get("format") == "json" else "html"
        made = await make_export(space, choice, _declared(form), since_ms=since_ms)
    except TrellisError as exc:
        return done(app, "/export", plain_error(exc.message), problem=True)
    for item in made.left_out:
        app.flash(left_out_sentence(item.kind, "They can, on their Export page.", about=item.about))
    return _download(made.document, fmt)


def _download(document: bytes, fmt: str) -> Response[Any]:
    """The export as a file to save, never shown in the page."""
    day = _today().isoformat()
    body = render_html(document).encode("utf-8") if fmt == "html" else document
    return Response(
        content=body,
        status_code=200,
        media_type="text/html; charset=utf-8" if fmt == "html" else "application/json",
        headers={
            "Content-Disposition": f'attachment; filename="trellis-export-{day}.{fmt}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@post("/export/consent")
async def consent(app: App, request: Request[Any, Any, Any]) -> Redirect:
    """My yes to my own words being in my partner's export for one recipient and purpose."""
    space = app.require()
    form = await read_form(request)
    try:
        declaration = _declared(form)
        await give_export_consent(space, declaration)
    except TrellisError as exc:
        return done(app, "/export", plain_error(exc.message), problem=True)
    return done(
        app,
        "/export",
        f"Your consent is saved: what you wrote in your own words may be in your partner's "
        f"export for {declaration.recipient} ({declaration.purpose}) made before "
        f"{form.get('until')} ends. An export already handed over cannot be taken back. "
        + await delivery(app, space),
    )


@post("/export/consent/withdraw")
async def withdraw(app: App, request: Request[Any, Any, Any]) -> Redirect:
    """End my consent for one recipient and purpose now (``trellis export-consent
    --withdraw``): my partner's exports made once their device has it leave my words
    out."""
    space = app.require()
    form = await read_form(request)
    try:
        ended = await withdraw_export_consent(
            space, form.get("recipient"), form.get("purpose"), DECLARATION_WORDS
        )
    except TrellisError as exc:
        return done(app, "/export", plain_error(exc.message), problem=True)
    return done(
        app,
        "/export",
        f"Your consent for {ended.recipient} ({ended.purpose}) has ended: your partner's "
        "exports leave your own words out once their device has this. An export already "
        "made cannot be taken back. " + await delivery(app, space),
    )


SCREEN = Screen(
    handlers=[export_page, export, consent, withdraw], nav_label="Export", nav_path="/export"
)
