"""Export: choose agreements, declare for whom, why and until when (as ``trellis
export`` requires), and download the HTML report or the JSON. What may leave (the
partner's own words only with their consent for this recipient and purpose) is
client/export's rule; the declaration is written to the shared history like the CLI's.
Also: give one's own consent to the partner's export (``trellis export-consent``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Screen, delivery, done, page, read_form
from client.app.views_cache import current_views
from client.errors import ClientErrorCode, TrellisError
from client.export import build_export, choose_with_consent, render_html
from client.export.consent import WORD_LABELS
from client.space import Space
from client.views import Moment
from client.views.practice_forms import consent_until_ms, status_words
from client.views.present import plain_error
from schemas.ids import EventId
from schemas.payloads import MemberJoined, SpaceCreated
from schemas.practices import MAX_PURPOSE_CHARS, MAX_RECIPIENT_CHARS, ExportConsented

EXPORT_NOTE = (
    "The file holds the chosen events' decrypted text and the keys that open them: whoever "
    "holds it can read those events and no others. Keep it private and share it only with "
    "someone you both chose; it can be checked with 'trellis verify-export'."
)


def _declared(form_get: Any) -> ExportConsented:
    """Recipient, purpose and last day, as the CLI's --for, --purpose and --until."""
    recipient = " ".join(form_get("recipient").split())
    purpose = " ".join(form_get("purpose").split())
    if not recipient:
        raise TrellisError("Say who it is for.", code=ClientErrorCode.USAGE)
    if not purpose:
        raise TrellisError("Say why it is shared.", code=ClientErrorCode.USAGE)
    if len(recipient) > MAX_RECIPIENT_CHARS:
        raise TrellisError(
            f"Keep who it is for under {MAX_RECIPIENT_CHARS} characters.",
            code=ClientErrorCode.USAGE,
        )
    if len(purpose) > MAX_PURPOSE_CHARS:
        raise TrellisError(
            f"Keep why under {MAX_PURPOSE_CHARS} characters.", code=ClientErrorCode.USAGE
        )
    today = datetime.now().astimezone().date()
    return ExportConsented(
        recipient=recipient, purpose=purpose, expires_at=consent_until_ms(form_get("until"), today)
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
        max_recipient=MAX_RECIPIENT_CHARS,
        max_purpose=MAX_PURPOSE_CHARS,
        note=EXPORT_NOTE,
    )


@post("/export")
async def export(app: App, request: Request[Any, Any, Any]) -> Response[Any] | Redirect:
    """The export file itself, as a download (or back to the form with why not)."""
    space = app.require()
    form = await read_form(request)
    try:
        chosen, title = _chosen(space, set(form.all("agreement")))
        fmt = "json" if form.get("format") == "json" else "html"
        declaration = _declared(form.get)
        created_at_ms = Moment.now().now_ms
        kept, left_out = choose_with_consent(
            space_id=space.space_id,
            events=space.events(),
            chosen=chosen,
            exporter=space.device.device_id,
            declaration=declaration,
            created_at_ms=created_at_ms,
        )
        written = await space.append(
            ExportConsented(
                recipient=declaration.recipient,
                purpose=declaration.purpose,
                expires_at=declaration.expires_at,
                left_out=left_out,
            )
        )
        document = build_export(
            space_id=space.space_id,
            events=space.events(),
            chosen=kept | {written.event_id},
            events_key_for_epoch=space.events_key_for_epoch,
            exporter=space.device,
            title=title,
            created_at_ms=created_at_ms,
        )
    except TrellisError as exc:
        return done(app, "/export", plain_error(exc.message), problem=True)
    for item in left_out:
        app.flash(
            f"Left out {WORD_LABELS.get(item.kind, 'something your partner wrote')}: your "
            "partner has not consented to share their own words with this recipient for this "
            "purpose. They can, on their Export page."
        )
    return _download(document, fmt)


def _chosen(space: Space, wanted: set[str]) -> tuple[set[EventId], str]:
    """The ticked agreements' events with the space's membership, and the title."""
    agreements = [a for a in current_views(space).agreements.agreements if a.id.hex() in wanted]
    if not agreements:
        raise TrellisError("Choose at least one agreement to export.", code=ClientErrorCode.USAGE)
    chosen: set[EventId] = {eid for a in agreements for eid in a.event_ids}
    chosen |= {
        e.event_id for e in space.events() if isinstance(e.payload, SpaceCreated | MemberJoined)
    }
    title = f"Agreement: {agreements[0].title}" if len(agreements) == 1 else "Agreements"
    return chosen, title


def _download(document: bytes, fmt: str) -> Response[Any]:
    """The export as a file to save, never shown in the page."""
    day = datetime.now().astimezone().date().isoformat()
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
        declaration = _declared(form.get)
        await space.append(declaration)
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


SCREEN = Screen(handlers=[export_page, export, consent], nav_label="Export", nav_path="/export")
