"""Exports: chosen events, provably in place, for someone outside the space
(docs/PROTOCOL.md "Exports").

Theory of operation. Every event has its own content key (§3.4), so a device can hand
out the keys of chosen events, say an agreement's history for a therapist, and nothing
that opens any other event. To show that nothing was cut out, reordered or slipped in
around the chosen events, the export carries the complete chain of every device that
wrote one of them, seq 1 to the head the exporter holds; the events that are not
revealed stay ciphertext the holder cannot open, but their signatures and hash links are
checkable. The exporter's device signs the whole document.

:func:`verify_export` needs no account, no relay and no key: it takes the file's bytes
(the JSON, or the HTML report that embeds it) and returns what it could verify, or a
list of findings, each a stable code, a sentence, and where in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from client.core.verify import VerifiedEvent
from client.errors import ClientErrorCode, TrellisError
from client.export import attribution as export_attribution
from client.export import consent as export_consent
from client.export import html as export_html
from client.export.first_page import first_page
from client.export.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    HTML_SCRIPT_CLOSE,
    HTML_SCRIPT_OPEN,
    MAX_EXPORT_TITLE_CHARS,
    ChainDoc,
    ExportDocument,
    ExportFinding,
    FindingCode,
    RevealedDoc,
    b64,
    encode_document,
    first_difference,
    from_b64,
    signed_bytes,
)
from client.export.verify import ChainSummary, RevealedEvent, VerifiedExport, verify_document
from client.keys import crypto
from schemas.ids import DeviceId, EventId, SpaceId
from schemas.payloads import payload_kind
from schemas.practices import ExportConsented, LeftOut

__all__ = [
    "ChainSummary",
    "ExportError",
    "ExportFinding",
    "FindingCode",
    "RevealedEvent",
    "VerifiedExport",
    "build_export",
    "choose_with_consent",
    "render_html",
    "verify_export",
]


class ExportError(TrellisError):
    """An export could not be made, or a document given to render is not valid."""

    code = ClientErrorCode.BAD_EXPORT


# --- building ------------------------------------------------------------------------


def build_export(
    *,
    space_id: SpaceId,
    events: Sequence[VerifiedEvent],
    chosen: set[EventId],
    events_key_for_epoch: Callable[[int], bytes],
    exporter: crypto.DeviceKeys,
    title: str,
    created_at_ms: int,
    since_ms: int | None = None,
) -> bytes:
    """The canonical JSON export of ``chosen`` among ``events`` (all accepted events the
    device holds, in causal order), with its first page from ``since_ms`` (by default
    the first revealed event's time: the start of what is exported).

    The exporter's own first event (its ``space_created`` or ``member_joined``) is always
    revealed too, and so is every membership event that says whose device wrote a
    revealed event (client/export/attribution.py), so the verifier attributes each event
    exactly as the apps do.
    """
    if not 1 <= len(title) <= MAX_EXPORT_TITLE_CHARS:
        raise ExportError(f"An export title has 1 to {MAX_EXPORT_TITLE_CHARS} characters.")
    chains = _chains_by_author(space_id, events)
    known = {e.event_id for e in events}
    unknown = sorted(chosen - known)
    if unknown:
        raise ExportError(f"Event {unknown[0].hex()[:8]} is not one this device holds.")
    own_chain = chains.get(exporter.device_id)
    if own_chain is None:
        raise ExportError("This device has no events of its own in the space to export from.")
    uncovered = _uncovered_words(space_id, events, chosen, exporter.device_id, created_at_ms)
    if uncovered:
        names = export_attribution.attribute(
            space_id, [(e.envelope, e.payload) for e in events]
        ).name_of(uncovered[0].author)
        label = export_consent.WORD_LABELS.get(payload_kind(uncovered[0].payload), "their writing")
        raise ExportError(
            f"This export would show {names or 'your partner'}'s own words "
            f"({label}, event {uncovered[0].event_id.hex()[:8]}) without their consent to it. "
            "Ask them "
            "to give it with 'trellis export-consent' (same recipient and purpose), or leave "
            "those events out."
        )
    writers = {e.author for e in events if e.event_id in chosen} | {exporter.device_id}
    reveal = {*chosen, *export_attribution.support(events, writers)}

    revealed_events = [e for e in events if e.event_id in reveal]
    authors = list(dict.fromkeys(e.author for e in revealed_events))
    since = min(e.body.recorded_at for e in revealed_events) if since_ms is None else since_ms
    if not 0 <= since <= created_at_ms:
        raise ExportError(
            "The date to start the summary from is after the export; choose an earlier one."
        )
    attribution = export_attribution.attribute(
        space_id, [(e.envelope, e.payload) for e in revealed_events]
    )
    summary = first_page(
        revealed_events,
        {d: bytes(m) for d, m in attribution.devices.items()},
        {bytes(m): n for m, n in attribution.names.items()},
        since=since,
        as_of=created_at_ms,
    )
    doc = ExportDocument(
        format=FORMAT_NAME,
        version=FORMAT_VERSION,
        space_id=space_id.hex(),
        title=title,
        created_at=created_at_ms,
        exporter=exporter.device_id.hex(),
        summary=summary,
        chains=[
            ChainDoc(
                device=author.hex(),
                head_seq=len(chains[author]),
                head_id=chains[author][-1].event_id.hex(),
                envelopes=[b64(e.canonical) for e in chains[author]],
            )
            for author in authors
        ],
        revealed=[
            RevealedDoc(
                event_id=e.event_id.hex(), content_key=_content_key(e, events_key_for_epoch)
            )
            for e in revealed_events
        ],
        signature="00" * 64,
    )
    envelopes = [[e.canonical for e in chains[author]] for author in authors]
    signature = exporter.sign(signed_bytes(doc, envelopes))
    return encode_document(msgspec.structs.replace(doc, signature=signature.hex()))


def _members(space_id: SpaceId, events: Sequence[VerifiedEvent]) -> dict[DeviceId, bytes]:
    attribution = export_attribution.attribute(space_id, [(e.envelope, e.payload) for e in events])
    return {d: bytes(m) for d, m in attribution.devices.items()}


def _written(
    events: Sequence[VerifiedEvent], members: dict[DeviceId, bytes]
) -> list[export_consent.Written]:
    return [
        export_consent.Written(
            event_id=e.event_id,
            member=members.get(e.author),
            kind=payload_kind(e.payload),
            payload=msgspec.to_builtins(e.payload),
            consent=e.payload if isinstance(e.payload, ExportConsented) else None,
        )
        for e in events
    ]


def _declaration(
    events: Sequence[VerifiedEvent], chosen: set[EventId], exporter: DeviceId
) -> ExportConsented | None:
    found = None
    for e in events:
        if e.event_id in chosen and e.author == exporter and isinstance(e.payload, ExportConsented):
            found = e.payload
    return found


def _uncovered_words(
    space_id: SpaceId,
    events: Sequence[VerifiedEvent],
    chosen: set[EventId],
    exporter: DeviceId,
    created_at_ms: int,
) -> list[VerifiedEvent]:
    """Chosen events with another member's words that no chosen consent covers."""
    members = _members(space_id, events)
    exporter_member = members.get(exporter)
    if exporter_member is None:
        return []
    picked = [e for e in events if e.event_id in chosen]
    declaration = _declaration(events, chosen, exporter)
    if declaration is None:
        raise ExportError(
            "An export says whom it is for, why and until when: choose this device's "
            "declaration (what 'trellis export --for --purpose --until' writes) too."
        )
    bad = {
        w.event_id
        for w in export_consent.needs_consent(
            _written(picked, members), exporter_member, declaration, created_at_ms
        )
    }
    return [e for e in picked if e.event_id in bad]


def choose_with_consent(
    *,
    space_id: SpaceId,
    events: Sequence[VerifiedEvent],
    chosen: set[EventId],
    exporter: DeviceId,
    declaration: ExportConsented,
    created_at_ms: int,
) -> tuple[set[EventId], list[LeftOut]]:
    """What an export to ``declaration``'s recipient, for its purpose, may reveal of
    ``chosen`` (docs/PROTOCOL.md "Exports", "Consent"): the chosen events less the other
    partner's words that no consent of theirs covers, plus the consents that do cover
    them; and the events left out, with their kinds, for the declaration to list."""
    members = _members(space_id, events)
    exporter_member = members.get(exporter)
    if exporter_member is None:
        raise ExportError("This device has no events of its own in the space to export from.")
    consents = [
        w
        for w in _written(events, members)
        if w.consent is not None
        and w.member is not None
        and w.member != exporter_member
        and export_consent.consent_covers(w.consent, declaration, created_at_ms)
    ]
    picked = [w for w in _written(events, members) if w.event_id in chosen]
    bad = export_consent.needs_consent(
        [*picked, *consents], exporter_member, declaration, created_at_ms
    )
    bad_ids = {w.event_id for w in bad}
    kept = {EventId(w.event_id) for w in picked if w.event_id not in bad_ids}
    if any(w.member != exporter_member for w in picked if w.event_id in kept):
        kept |= {EventId(w.event_id) for w in consents}
    return kept, [
        LeftOut(event=w.event_id, kind=w.kind, about=_version_named(w.payload)) for w in bad
    ]


def _version_named(payload: Mapping[str, Any]) -> bytes | None:
    """The agreement version an accept, decline, withdrawal or review names."""
    version = payload.get("version")
    if isinstance(version, str):  # msgspec.to_builtins writes bytes as base64
        raw = from_b64(version)
        return raw if raw is not None and len(raw) == 32 else None
    return None


def _chains_by_author(
    space_id: SpaceId, events: Sequence[VerifiedEvent]
) -> dict[DeviceId, list[VerifiedEvent]]:
    chains: dict[DeviceId, list[VerifiedEvent]] = {}
    for e in sorted(events, key=lambda e: e.envelope.seq):
        if e.envelope.space_id != space_id:
            raise ExportError(f"Event {e.event_id.hex()[:8]} belongs to another space.")
        chain = chains.setdefault(e.author, [])
        # Accepted events always continue their author's chain (§9.1 step 5); a hole
        # here means the caller passed a partial log, and the export would not verify.
        if e.envelope.seq != len(chain) + 1:
            raise ExportError(
                f"The log given for device {e.author.hex()[:8]} lacks its event "
                f"{len(chain) + 1}; an export needs each chain complete."
            )
        chain.append(e)
    return chains


def _content_key(event: VerifiedEvent, events_key_for_epoch: Callable[[int], bytes]) -> str:
    try:
        content_key = crypto.content_key_of(
            events_key_for_epoch(event.envelope.epoch), event.envelope
        )
        crypto.open_with_content_key(content_key, event.envelope)
    except (KeyError, crypto.CryptoError):
        raise ExportError(
            f"Event {event.event_id.hex()[:8]} cannot be opened with this device's keys."
        ) from None
    return content_key.hex()


# --- verifying -----------------------------------------------------------------------


def verify_export(data: bytes) -> tuple[VerifiedExport | None, list[ExportFinding]]:
    """Check an export file offline. Returns the verified content and no findings, or
    None and every finding; never raises on any input."""
    if data.startswith(b"{"):
        return verify_document(data)
    if _resaved_json(data):
        return None, [
            ExportFinding(
                FindingCode.NOT_CANONICAL,
                "The export starts with a byte-order mark or blank space: another program "
                "saved it again. Only the file exactly as Trellis wrote it can be checked.",
                "byte 0",
            )
        ]
    json_bytes = _embedded_json(data)
    if json_bytes is None:
        return None, [
            ExportFinding(
                FindingCode.NOT_AN_EXPORT,
                "This is neither a Trellis export's JSON nor its HTML report.",
                "file",
            )
        ]
    verified, findings = verify_document(json_bytes)
    if verified is None:
        return None, [
            ExportFinding(f.code, f.message, f"the report's embedded export: {f.where}")
            for f in findings
        ]
    expected = export_html.render_report(verified, json_bytes).encode("utf-8")
    if expected != data:
        return None, [
            ExportFinding(
                FindingCode.HTML_ALTERED,
                "The readable part of the report differs from what the signed data says.",
                _html_position(expected, data),
            )
        ]
    return verified, []


def render_html(export_json: bytes) -> str:
    """The printable report for a valid export (the JSON, or an HTML report's)."""
    json_bytes = export_json if export_json.startswith(b"{") else _embedded_json(export_json)
    if json_bytes is None:
        raise ExportError("This is not a Trellis export.")
    verified, findings = verify_document(json_bytes)
    if verified is None:
        first = findings[0]
        raise ExportError(f"The export does not verify: {first.message} ({first.where})")
    return export_html.render_report(verified, json_bytes)


_UTF8_BOM = b"\xef\xbb\xbf"
_JSON_WHITESPACE = b" \t\r\n"


def _resaved_json(data: bytes) -> bool:
    """A JSON export behind a UTF-8 byte-order mark or JSON whitespace (docs/PROTOCOL.md
    "Exports", "Recognising a file"): the document, but not in its one encoding."""
    rest = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    return rest.lstrip(_JSON_WHITESPACE).startswith(b"{")


def _embedded_json(data: bytes) -> bytes | None:
    start = data.find(HTML_SCRIPT_OPEN)
    if start < 0:
        return None
    start += len(HTML_SCRIPT_OPEN)
    end = data.find(HTML_SCRIPT_CLOSE, start)
    return None if end < 0 else data[start:end]


def _html_position(expected: bytes, data: bytes) -> str:
    index = first_difference(expected, data)
    line = data.count(b"\n", 0, index) + 1
    column = index - (data.rfind(b"\n", 0, index) + 1) + 1
    return f"HTML line {line}, column {column}"
