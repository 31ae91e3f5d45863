"""Building an export (docs/PROTOCOL.md "Exports"): the chosen events with the
complete chains of their writers, the membership that attributes them, the consent that
lets a partner's own words leave, the first page, and the exporter's signature. The
package's __init__ names :func:`build_export` for its users (ExportError is in dating.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from client.core.verify import VerifiedEvent
from client.export import attribution as export_attribution
from client.export import consent as export_consent
from client.export.dating import ExportError, refuse_a_date_before_the_partners
from client.export.first_page import first_page
from client.export.first_page_doc import FirstPage
from client.export.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_EXPORT_TITLE_CHARS,
    ChainDoc,
    ExportDocument,
    RevealedDoc,
    b64,
    encode_document,
    from_b64,
    signed_bytes,
)
from client.keys import crypto
from schemas.ids import DeviceId, EventId, SpaceId
from schemas.payloads import payload_kind
from schemas.practices import AgreementProposed, ExportConsented, LeftOut

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
    chains = _checked_chains(space_id, events, chosen, exporter.device_id, title)
    refuse_a_date_before_the_partners(space_id, events, chosen, exporter.device_id, created_at_ms)
    _refuse_words_without_consent(space_id, events, chosen, exporter.device_id, created_at_ms)
    writers = {e.author for e in events if e.event_id in chosen} | {exporter.device_id}
    # The report says each left-out event is "sealed in this file": carry its chain
    # (and the facts of whose device it is), so the reader can see that it stands there.
    writers |= _left_out_authors(events, chosen, exporter.device_id)
    reveal = {*chosen, *export_attribution.support(events, writers)}

    revealed_events = [e for e in events if e.event_id in reveal]
    authors = list(dict.fromkeys(e.author for e in revealed_events))
    doc = ExportDocument(
        format=FORMAT_NAME,
        version=FORMAT_VERSION,
        space_id=space_id.hex(),
        title=title,
        created_at=created_at_ms,
        exporter=exporter.device_id.hex(),
        summary=_summary(space_id, revealed_events, since_ms, created_at_ms),
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


def _checked_chains(
    space_id: SpaceId,
    events: Sequence[VerifiedEvent],
    chosen: set[EventId],
    exporter: DeviceId,
    title: str,
) -> dict[DeviceId, list[VerifiedEvent]]:
    """Each writer's chain, once the title fits, every chosen event is one this device
    holds, and the exporter has events of its own (its chain signs the export)."""
    if not 1 <= len(title) <= MAX_EXPORT_TITLE_CHARS:
        raise ExportError(f"An export title has 1 to {MAX_EXPORT_TITLE_CHARS} characters.")
    chains = _chains_by_author(space_id, events)
    known = {e.event_id for e in events}
    unknown = sorted(chosen - known)
    if unknown:
        raise ExportError(f"Event {unknown[0].hex()[:8]} is not one this device holds.")
    if chains.get(exporter) is None:
        raise ExportError("This device has no events of its own in the space to export from.")
    return chains


def _refuse_words_without_consent(
    space_id: SpaceId,
    events: Sequence[VerifiedEvent],
    chosen: set[EventId],
    exporter: DeviceId,
    created_at_ms: int,
) -> None:
    """A partner's own words leave only with their consent to this export: name the
    first that would, and how to ask for it."""
    uncovered = _uncovered_words(space_id, events, chosen, exporter, created_at_ms)
    if not uncovered:
        return
    names = export_attribution.attribute(
        space_id, [(e.envelope, e.payload) for e in events]
    ).name_of(uncovered[0].author)
    first = uncovered[0]
    proposal = isinstance(first.payload, AgreementProposed) and (
        first.payload.kind != "recovery_plan"
    )
    label = export_consent.left_out_label(
        payload_kind(first.payload), bytes(first.event_id) if proposal else None
    )
    raise ExportError(
        f"This export would show {names or 'your partner'}'s own words "
        f"({label}, event {uncovered[0].event_id.hex()[:8]}) without their consent to it. "
        "Ask them "
        "to give it with 'trellis export-consent' (same recipient and purpose), or leave "
        "those events out."
    )


def _summary(
    space_id: SpaceId,
    revealed_events: Sequence[VerifiedEvent],
    since_ms: int | None,
    created_at_ms: int,
) -> FirstPage:
    """The first page, from ``since_ms`` (by default the first revealed event's time)."""
    since = min(e.body.recorded_at for e in revealed_events) if since_ms is None else since_ms
    if not 0 <= since <= created_at_ms:
        raise ExportError(
            "The date to start the summary from is after the export; choose an earlier one."
        )
    attribution = export_attribution.attribute(
        space_id, [(e.envelope, e.payload) for e in revealed_events]
    )
    return first_page(
        revealed_events,
        {d: bytes(m) for d, m in attribution.devices.items()},
        {bytes(m): n for m, n in attribution.names.items()},
        since=since,
        as_of=created_at_ms,
    )


def _left_out_authors(
    events: Sequence[VerifiedEvent], chosen: set[EventId], exporter: DeviceId
) -> set[DeviceId]:
    """The devices that wrote the events this device's declaration lists as left out."""
    declaration = _declaration(events, chosen, exporter)
    if declaration is None:
        return set()
    left = {bytes(item.event) for item in declaration.left_out}
    return {e.author for e in events if bytes(e.event_id) in left}


def _members(space_id: SpaceId, events: Sequence[VerifiedEvent]) -> _Members:
    attribution = export_attribution.attribute(space_id, [(e.envelope, e.payload) for e in events])
    return _Members(
        {d: bytes(m) for d, m in attribution.devices.items()}, set(attribution.vouched_by_other)
    )


class _Members(dict[DeviceId, bytes]):
    """Device → member, and the devices whose consent never counts in an export
    (client/export/attribution.py ``vouched_by_other``), as the verifier judges them."""

    def __init__(self, members: dict[DeviceId, bytes], vouched: set[DeviceId]) -> None:
        super().__init__(members)
        self.vouched = vouched


def _written(events: Sequence[VerifiedEvent], members: _Members) -> list[export_consent.Written]:
    return [
        export_consent.Written(
            event_id=e.event_id,
            member=members.get(e.author),
            kind=payload_kind(e.payload),
            payload=msgspec.to_builtins(e.payload),
            consent=e.payload
            if isinstance(e.payload, ExportConsented) and e.author not in members.vouched
            else None,
            accepts=export_consent.accepted_version(e.payload),
            source=e,
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
    written = _written(events, members)
    consents = [
        w
        for w in export_consent.governing_consents(written, exporter_member, declaration).values()
        if w.consent is not None
        and export_consent.consent_covers(w.consent, declaration, created_at_ms)
    ]
    picked = [w for w in written if w.event_id in chosen]
    accepts = _own_acceptances(written, picked, exporter_member)
    shown = {w.event_id for w in [*picked, *consents, *accepts]}
    bad = export_consent.needs_consent(
        [w for w in written if w.event_id in shown], exporter_member, declaration, created_at_ms
    )
    bad_ids = {w.event_id for w in bad}
    kept = {EventId(w.event_id) for w in picked if w.event_id not in bad_ids}
    if any(w.member != exporter_member for w in picked if w.event_id in kept):
        kept |= {EventId(w.event_id) for w in consents}
        kept |= {EventId(w.event_id) for w in accepts}
    return kept, [LeftOut(event=w.event_id, kind=w.kind, about=_about(w)) for w in bad]


def _own_acceptances(
    written: list[export_consent.Written], picked: list[export_consent.Written], exporter: bytes
) -> list[export_consent.Written]:
    """The exporter's member's acceptances of the partner's chosen versions of negotiated
    text: revealed with them, they show the text is both partners' words
    (docs/THREAT_MODEL.md §17.7)."""
    theirs = {bytes(w.event_id) for w in picked if w.kind in export_consent.NEGOTIATED}
    agreed = export_consent.agreed_versions(written)
    by = {acceptance for version, acceptance in agreed.items() if version in theirs}
    return [w for w in written if w.member == exporter and bytes(w.event_id) in by]


def _about(w: export_consent.Written) -> bytes | None:
    """What a left-out event concerns: the version an accept, decline, withdrawal or
    review names; for an agreement proposal, the version it revises (itself, for a
    first version). A recovery plan names nothing, as exports always wrote it, so the
    report still calls it one (client/export/consent.py ``left_out_label``)."""
    if w.kind == "agreement_proposed":
        if w.payload.get("kind") == "recovery_plan":
            return None
        return _version_named(w.payload, "revises") or w.event_id
    return _version_named(w.payload, "version")


def _version_named(payload: Mapping[str, Any], field: str) -> bytes | None:
    """The event id ``field`` names, if any."""
    version = payload.get(field)
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
