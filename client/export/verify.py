"""Verifying an export document, offline and with no key (docs/PROTOCOL.md "Exports").

Checks run in the order of the document: format and version; the one canonical
encoding; each chain (envelope format, space, author, signature, seq and prev links,
head); the exporter's signature over everything; each revealed event opened with its
content key and decoded; the revealed events' causal order; the exporter's membership;
both partners' consent; and, for version 2, that the signed first page is what the
revealed events give. Chains are checked in client/export/verify_chains.py, revealed
events opened in client/export/verify_reveal.py; this module runs the steps in order.
Every problem becomes a finding with a stable code and the place it was found; a
document with any finding verifies nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from client.export import consent as export_consent
from client.export.attribution import Attribution
from client.export.first_page import first_page
from client.export.first_page_doc import FirstPage
from client.export.format import (
    CLOCK_MARGIN_MS,
    ExportDocument,
    ExportFinding,
    FindingCode,
    parse_document,
    signed_bytes,
)
from client.export.verified import ChainSummary, RevealedEvent, VerifiedExport, utc_text
from client.export.verify_chains import Held, check_chain, finding
from client.export.verify_reveal import open_revealed
from client.keys import crypto
from schemas.envelope import event_id_of
from schemas.ids import DeviceId, EventId, SpaceId
from schemas.practices import ExportConsented

__all__ = [
    "ChainSummary",
    "RevealedEvent",
    "VerifiedExport",
    "utc_text",
    "verify_document",
]
"""The verified data's types and ``utc_text`` live in client/export/verified.py; they
are named here too, where the report, the CLI and the app have always found them."""


def verify_document(data: bytes) -> tuple[VerifiedExport | None, list[ExportFinding]]:
    """Verify the canonical JSON of an export: what it reveals, or every finding."""
    doc, findings = parse_document(data)
    if doc is None:
        return None, findings
    findings += _summary_date_findings(doc)
    space_id = SpaceId(bytes.fromhex(doc.space_id))
    held: dict[EventId, Held] = {}
    decoded = _check_chains(doc, space_id, held, findings)
    _check_signature(doc, decoded, findings)
    revealed, attribution = open_revealed(doc, space_id, held, findings)
    exporter = DeviceId(bytes.fromhex(doc.exporter))
    # Attribution is judged only on an otherwise sound document: with a broken chain
    # or an unopened event, a missing member is a consequence, not a second problem.
    if not findings:
        findings += _attribution_findings(doc, exporter, attribution)
        if not findings:
            findings += _created_at_findings(revealed, exporter, attribution, doc.created_at)
        if not findings:
            findings += _consent_findings(revealed, exporter, attribution, doc.created_at)
        if not findings:
            findings += _left_out_findings(revealed, exporter, attribution, held)
        if not findings and doc.summary is not None:
            findings += _summary_findings(doc.summary, revealed, attribution, doc.created_at)
    declaration = export_consent.declaration_of(revealed, exporter)
    if findings or declaration is None:
        return None, findings
    return _verified(doc, space_id, exporter, revealed, decoded, attribution, declaration), []


def _check_chains(
    doc: ExportDocument, space_id: SpaceId, held: dict[EventId, Held], findings: list[ExportFinding]
) -> list[list[bytes]]:
    """Each chain's envelopes as checked (client/export/verify_chains.py), one chain a
    device; the events they hold go into ``held``."""
    decoded: list[list[bytes]] = []
    devices: set[str] = set()
    for index, chain in enumerate(doc.chains):
        if chain.device in devices:
            findings.append(
                finding(
                    FindingCode.DUPLICATE_CHAIN,
                    "A device's chain appears twice.",
                    f"chains[{index}] (device {chain.device[:8]})",
                )
            )
        devices.add(chain.device)
        decoded.append(check_chain(space_id, chain, held, findings))
    return decoded


def _check_signature(
    doc: ExportDocument, decoded: list[list[bytes]], findings: list[ExportFinding]
) -> None:
    """The exporter's signature over the document and every envelope, once every
    envelope could be read (else the chain findings already say what is wrong)."""
    if all(len(d) == len(c.envelopes) for d, c in zip(decoded, doc.chains, strict=True)):
        message = signed_bytes(doc, decoded)
        if not crypto.verify_signature(
            bytes.fromhex(doc.exporter), message, bytes.fromhex(doc.signature)
        ):
            findings.append(
                finding(
                    FindingCode.BAD_EXPORT_SIGNATURE,
                    "The exporter's signature does not match the content: something was "
                    "changed after export, or it was not exported by the device it names.",
                    "signature",
                )
            )


def _attribution_findings(
    doc: ExportDocument, exporter: DeviceId, attribution: Attribution
) -> list[ExportFinding]:
    """The exporter and every chain's device are shown to be a member's."""
    findings: list[ExportFinding] = []
    if exporter not in attribution.devices:
        findings.append(
            finding(
                FindingCode.EXPORTER_UNKNOWN,
                "The export does not reveal how its exporter's device joined the space, "
                "so it cannot say which member exported it.",
                "exporter",
            )
        )
    for chain in doc.chains:
        if DeviceId(bytes.fromhex(chain.device)) not in attribution.devices:
            findings.append(
                finding(
                    FindingCode.AUTHOR_UNKNOWN,
                    "The export does not reveal the signed facts that say whose device "
                    "this is (how it joined, and by whose invite), so it cannot say who "
                    "wrote its events.",
                    f"chains, device {chain.device[:8]}",
                )
            )
    return findings


def _summary_date_findings(doc: ExportDocument) -> list[ExportFinding]:
    """The first page's period is the export's: it starts no later than the export was
    made, and ends ("as of") exactly when it was made. A page that reads "since 1 March"
    in an export made in February, or "as of" another day than the export's own, says
    something its events cannot back (docs/PROTOCOL.md "Exports", "The first page")."""
    page = doc.summary
    if page is None or (page.since <= doc.created_at and page.as_of == doc.created_at):
        return []
    return [
        finding(
            FindingCode.BAD_SUMMARY_DATES,
            f"The summary covers {utc_text(page.since)} to {utc_text(page.as_of)}, but the "
            f"export was made at {utc_text(doc.created_at)}: a summary starts no later than "
            "its export and runs to the moment it was made.",
            "$.summary.since" if page.since > doc.created_at else "$.summary.as_of",
        )
    ]


def newest_partner_time(
    revealed: Sequence[tuple[bytes, int]], exporter: bytes, members: Mapping[bytes, bytes]
) -> int | None:
    """The latest ``recorded_at`` among ``revealed`` (author device, time) of devices of
    a member other than the exporter's: times the exporter's device cannot write. The
    exporter's own events are its own claims and bound nothing."""
    own = members.get(exporter)
    times = [t for author, t in revealed if members.get(author) not in (None, own)]
    return max(times) if times else None


def _created_at_findings(
    revealed: list[RevealedEvent], exporter: DeviceId, attribution: Attribution, created_at: int
) -> list[ExportFinding]:
    """An export cannot be made before an event it shows: ``created_at`` is not earlier
    than the newest revealed event the other partner's devices recorded, less
    :data:`CLOCK_MARGIN_MS` for clocks that differ (docs/THREAT_MODEL.md §17.6)."""
    members = {bytes(d): bytes(m) for d, m in attribution.devices.items()}
    newest = newest_partner_time(
        [(bytes(e.author), e.recorded_at) for e in revealed], bytes(exporter), members
    )
    if newest is None or created_at + CLOCK_MARGIN_MS >= newest:
        return []
    own = members.get(bytes(exporter))
    event = next(
        e
        for e in revealed
        if e.recorded_at == newest and members.get(bytes(e.author)) not in (None, own)
    )
    return [
        finding(
            FindingCode.CREATED_BEFORE_EVENTS,
            f"The export says it was made at {utc_text(created_at)}, but an event it shows "
            f"was recorded at {utc_text(newest)} by the other partner's device: the "
            "export's date was set back (or a device's clock was far wrong).",
            f"created_at (revealed event {event.event_id.hex()[:8]})",
        )
    ]


def _summary_findings(
    summary: FirstPage, revealed: list[RevealedEvent], attribution: Attribution, as_of: int
) -> list[ExportFinding]:
    """The signed first page is what the revealed events give."""
    if _first_page_of(revealed, attribution, summary.since, as_of) == summary:
        return []
    return [
        finding(
            FindingCode.SUMMARY_MISMATCH,
            "The export's summary is not what its own events say: it was "
            "written by something other than Trellis, or changed and signed "
            "again.",
            "$.summary",
        )
    ]


def _verified(
    doc: ExportDocument,
    space_id: SpaceId,
    exporter: DeviceId,
    revealed: list[RevealedEvent],
    decoded: list[list[bytes]],
    attribution: Attribution,
    declaration: ExportConsented,
) -> VerifiedExport:
    """What a sound export shows: its events, chains, members and declaration."""
    seqs: dict[DeviceId, list[int]] = {}
    for event in revealed:
        seqs.setdefault(event.author, []).append(event.seq)
    return VerifiedExport(
        title=doc.title,
        space_id=space_id,
        created_at=doc.created_at,
        exporter=exporter,
        revealed=revealed,
        chains=[
            ChainSummary(
                device=DeviceId(bytes.fromhex(c.device)),
                head_seq=c.head_seq,
                head_id=EventId(bytes.fromhex(c.head_id)),
                revealed_seqs=tuple(sorted(seqs.get(DeviceId(bytes.fromhex(c.device)), []))),
                event_ids=tuple(event_id_of(raw) for raw in raws),
            )
            for c, raws in zip(doc.chains, decoded, strict=True)
        ],
        members={
            d: attribution.names.get(m, f"member {m.hex()[:8]}")
            for d, m in attribution.devices.items()
        },
        device_members={d: bytes(m) for d, m in attribution.devices.items()},
        member_names={bytes(m): n for m, n in attribution.names.items()},
        declaration=declaration,
        version=doc.version,
        first_page=doc.summary,
    )


def _first_page_of(
    revealed: list[RevealedEvent], attribution: Attribution, since: int, as_of: int
) -> FirstPage:
    """The first page the revealed events give: what the exporter's app computed, if
    it is honest (client/export/first_page.py)."""
    return first_page(
        [e.source for e in revealed if e.source is not None],
        {d: bytes(m) for d, m in attribution.devices.items()},
        {bytes(m): n for m, n in attribution.names.items()},
        since=since,
        as_of=as_of,
    )


def _written(
    revealed: list[RevealedEvent], attribution: Attribution
) -> list[export_consent.Written]:
    return [
        export_consent.Written(
            event_id=e.event_id,
            member=attribution.devices.get(e.author),
            kind=e.kind,
            payload=e.payload,
            # A device the other member vouched for cannot consent for its member: the
            # exporter could have made it (client/export/attribution.py).
            consent=None
            if e.author in attribution.vouched_by_other
            else export_consent.consent_of(e),
            accepts=None if e.source is None else export_consent.accepted_version(e.source.payload),
            source=e.source,
        )
        for e in revealed
    ]


def _consent_findings(
    revealed: list[RevealedEvent], exporter: DeviceId, attribution: Attribution, created_at: int
) -> list[ExportFinding]:
    """An export without the exporter's declaration, or the other partner's words
    revealed without their consent (docs/PROTOCOL.md "Exports", "Consent"). Every export
    declares its recipient, purpose and end: one without is refused whatever it shows,
    so no export can carry the partner's words past the consent check."""
    declaration = export_consent.declaration_of(revealed, exporter)
    if declaration is None:
        return [
            finding(
                FindingCode.NO_DECLARATION,
                "The export does not say whom it is for, why and until when, as every "
                "Trellis export does, so it cannot be checked for both partners' consent.",
                "revealed",
            )
        ]
    exporter_member = attribution.devices.get(exporter)
    if exporter_member is None:
        return []
    uncovered = export_consent.needs_consent(
        _written(revealed, attribution), exporter_member, declaration, created_at
    )
    return [
        finding(
            FindingCode.WORDS_WITHOUT_CONSENT,
            "The export shows the other partner's own words without their consent to this "
            "export (same recipient and purpose, not expired when it was made).",
            f"revealed event {e.event_id.hex()[:8]}",
        )
        for e in uncovered
    ]


def _left_out_findings(
    revealed: list[RevealedEvent],
    exporter: DeviceId,
    attribution: Attribution,
    held: dict[EventId, Held],
) -> list[ExportFinding]:
    """Each event the declaration says it left out is the other partner's, of a kind
    that holds their words, and carried sealed in this file (docs/PROTOCOL.md "Exports",
    "Consent"). The report says "Left out: a disclosure by Blake, sealed in this file";
    without this check an exporter could list an event that does not exist, or one of
    their own, and the report would tell the reader that the partner wrote something
    they kept back. What a sealed event says stays the exporter's statement."""
    declaration = export_consent.declaration_of(revealed, exporter)
    exporter_member = attribution.devices.get(exporter)
    if declaration is None or exporter_member is None:
        return []
    shown = {e.event_id for e in revealed}
    findings: list[ExportFinding] = []
    for index, item in enumerate(declaration.left_out):
        event = held.get(EventId(item.event))
        author = None if event is None else attribution.devices.get(DeviceId(event.envelope.author))
        if (
            event is None
            or EventId(item.event) in shown
            or author is None
            or author == exporter_member
            or not export_consent.may_be_left_out(item.kind)
        ):
            findings.append(
                finding(
                    FindingCode.BAD_LEFT_OUT,
                    "The export says it left out an event of the other partner's, but that "
                    "event is not carried sealed in this file, is readable here, is not the "
                    "other partner's, or is not of a kind that holds their words.",
                    f"the declaration's left_out[{index}] (event {item.event.hex()[:8]})",
                )
            )
    return findings
