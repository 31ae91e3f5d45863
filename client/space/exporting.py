"""Making an export from the open space, and consenting to the partner's (docs/PROTOCOL.md
"Exports", "Consent"). One implementation for ``trellis export`` / ``export-consent``
and the app's Export screen: the other partner's own words are left out unless their
signed consent covers this recipient, purpose and time; this device's declaration
(recipient, purpose, last day, what was left out) is written to the shared history and
revealed with the export; the document is built and signed.

What each part brings (agreements, pacing plan, recovery records) is
client/export/choice.py; the declaration's form checks are
client/views/practice_forms.py :func:`export_declaration`.
"""

from __future__ import annotations

from dataclasses import dataclass

from client.core.verify import VerifiedEvent
from client.errors import ClientErrorCode, TrellisError
from client.export import build_export, choose_with_consent
from client.export.choice import ExportChoice
from client.export.consent import WITHDRAWN_AT
from client.export.dating import not_before_partner
from client.space.ports import SpaceLike
from client.views import Moment
from client.views.practice_forms import DeclarationWords, export_declaration
from schemas.practices import ExportConsented, LeftOut


@dataclass(frozen=True)
class ExportMade:
    """An export's canonical JSON, how many events it reveals, and what was left out
    for want of the partner's consent (for the front end to say)."""

    document: bytes
    revealed: int
    left_out: list[LeftOut]


async def make_export(
    space: SpaceLike,
    choice: ExportChoice,
    declaration: ExportConsented,
    *,
    since_ms: int | None = None,
) -> ExportMade:
    """Apply the consent rule to ``choice``, write the declaration, and build the
    export (its first page from ``since_ms``; by default the start of what is shown)."""
    # Never dated before an event of the partner's it shows (a clock ahead of ours).
    created_at_ms = not_before_partner(
        space.space_id,
        space.events(),
        space.device.device_id,
        Moment.now().now_ms,
        chosen=set(choice.chosen),
    )
    kept, left_out = choose_with_consent(
        space_id=space.space_id,
        events=space.events(),
        chosen=set(choice.chosen),
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
    chosen = kept | {written.event_id}
    document = build_export(
        space_id=space.space_id,
        events=space.events(),
        chosen=chosen,
        events_key_for_epoch=space.events_key_for_epoch,
        exporter=space.device,
        title=choice.title,
        created_at_ms=created_at_ms,
        since_ms=since_ms,
    )
    return ExportMade(document=document, revealed=len(chosen), left_out=left_out)


async def give_export_consent(space: SpaceLike, consent: ExportConsented) -> VerifiedEvent:
    """Write this partner's yes to their own words being in the other's export for
    ``consent``'s recipient and purpose, until its last day."""
    if space.me() is None:
        raise TrellisError(
            "This device is not a member of a space yet.", code=ClientErrorCode.NOT_FOUND
        )
    return await space.append(consent)


async def withdraw_export_consent(
    space: SpaceLike, recipient: str | None, purpose: str | None, words: DeclarationWords
) -> ExportConsented:
    """End this partner's consent for ``recipient`` and ``purpose`` now: an
    ``export_consented`` ending at :data:`WITHDRAWN_AT`, which as the last one for them
    counts, and covers no export. Exports the other partner's device makes once it holds
    it leave this partner's words out; one already made cannot be called back."""
    today = Moment.now().today
    given = export_declaration(recipient, purpose, today.isoformat(), today, words)
    ended = ExportConsented(
        recipient=given.recipient, purpose=given.purpose, expires_at=WITHDRAWN_AT
    )
    await give_export_consent(space, ended)
    return ended
