"""Verifying an export document, offline and with no key (docs/PROTOCOL.md "Exports").

Checks run in the order of the document: format and version; the one canonical
encoding; each chain (envelope format, space, author, signature, seq and prev links,
head); the exporter's signature over everything; each revealed event opened with its
content key and decoded; the revealed events' causal order; the exporter's membership.
Every problem becomes a finding with a stable code and the place it was found; a
document with any finding verifies nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from client.core.verify import VerifiedEvent
from client.export import consent as export_consent
from client.export.attribution import Attribution, attribute
from client.export.format import (
    ChainDoc,
    ExportDocument,
    ExportFinding,
    FindingCode,
    from_b64,
    parse_document,
    signed_bytes,
)
from client.keys import crypto
from client.views.present import event_summary
from schemas.envelope import Envelope, EnvelopeFormatError, decode_envelope, event_id_of
from schemas.ids import DeviceId, EventId, MemberId, SpaceId
from schemas.payloads import (
    EventBody,
    Payload,
    PayloadFormatError,
    UnknownPayload,
    decode_event,
    payload_kind,
)
from schemas.practices import ExportConsented


@dataclass(frozen=True, slots=True)
class RevealedEvent:
    event_id: EventId
    author: DeviceId
    seq: int
    recorded_at: int
    occurred_at: int
    kind: str
    payload: dict[str, Any]
    """The payload as JSON-able builtins, byte strings (event ids) in hex."""
    summary: str
    """The app's plain sentence for the event (client/views/present.py)."""
    deps: tuple[EventId, ...] = ()
    """The author's frontier when it wrote the event: what its device had seen."""
    source: VerifiedEvent | None = None
    """The opened event itself, for the apps' folds (the report's summary)."""


@dataclass(frozen=True, slots=True)
class ChainSummary:
    """One device's chain as the export carries it."""

    device: DeviceId
    head_seq: int
    head_id: EventId
    revealed_seqs: tuple[int, ...]
    event_ids: tuple[EventId, ...] = ()
    """Every event id of the chain, seq 1 first: what a cross-check compares."""


@dataclass(frozen=True, slots=True)
class VerifiedExport:
    title: str
    space_id: SpaceId
    created_at: int
    exporter: DeviceId
    revealed: list[RevealedEvent]
    """In the causal order the exporter gave, which verification checked."""
    declaration: ExportConsented
    """The exporter's own ``export_consented``: whom the export is for, why, until when,
    and what it left out (docs/PROTOCOL.md "Exports", "Consent"). Every verified export
    has one (an export without is refused, ``no_declaration``)."""
    chains: list[ChainSummary] = field(default_factory=list)
    members: dict[DeviceId, str] = field(default_factory=dict)
    """Device → its member's name, derived from the revealed membership events exactly
    as the apps derive it (client/export/attribution.py)."""
    device_members: dict[DeviceId, bytes] = field(default_factory=dict)
    """Device → member id, by the same rules."""
    member_names: dict[bytes, str] = field(default_factory=dict)
    """Member id → name, for every member the revealed events establish."""

    @property
    def sealed_count(self) -> int:
        """Events carried as ciphertext only: present and in place, but unreadable."""
        return sum(c.head_seq - len(c.revealed_seqs) for c in self.chains)

    def name_of(self, device: bytes) -> str:
        return self.members.get(DeviceId(device), f"device {device.hex()[:8]}")

    @property
    def scope(self) -> str:
        """What this export can and cannot prove, in one plain sentence (docs/PROTOCOL.md
        "Exports", "What an export proves"): it is one device's copy, at one time."""
        who = self.name_of(self.exporter)
        return (
            f"This is the history as held by {who}'s device ({self.exporter.hex()[:8]}) at "
            f"{utc_text(self.created_at)}. Events {who}'s device had not received by then, "
            f"or left out, cannot be seen here: a later event of {who}'s partner (a "
            "withdrawal, say) may exist. An export made by the other partner, checked "
            "together with this one (trellis verify-export A B), shows whether either left "
            "anything out."
        )


def utc_text(ms: int) -> str:
    """A time as ``YYYY-MM-DD HH:MM UTC``, the same on every machine; never raises.

    Times are checked to be 0 ≤ t ≤ 2^53 − 1 ms, which reaches past the year 9999 that
    ``datetime`` can show: such a time is written as a count of milliseconds.
    """
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, OverflowError, OSError):
        return f"{ms} ms after 1970-01-01 00:00 UTC"


def _finding(code: FindingCode, message: str, where: str) -> ExportFinding:
    return ExportFinding(code, message, where)


@dataclass(frozen=True, slots=True)
class _Held:
    """An envelope that decoded, with where it sits in the file."""

    envelope: Envelope
    canonical: bytes
    where: str


def verify_document(data: bytes) -> tuple[VerifiedExport | None, list[ExportFinding]]:
    """Verify the canonical JSON of an export: what it reveals, or every finding."""
    doc, findings = parse_document(data)
    if doc is None:
        return None, findings
    space_id = SpaceId(bytes.fromhex(doc.space_id))
    held: dict[EventId, _Held] = {}
    decoded: list[list[bytes]] = []
    devices: set[str] = set()
    for index, chain in enumerate(doc.chains):
        if chain.device in devices:
            findings.append(
                _finding(
                    FindingCode.DUPLICATE_CHAIN,
                    "A device's chain appears twice.",
                    f"chains[{index}] (device {chain.device[:8]})",
                )
            )
        devices.add(chain.device)
        decoded.append(_check_chain(space_id, chain, held, findings))

    if all(len(d) == len(c.envelopes) for d, c in zip(decoded, doc.chains, strict=True)):
        message = signed_bytes(doc, decoded)
        if not crypto.verify_signature(
            bytes.fromhex(doc.exporter), message, bytes.fromhex(doc.signature)
        ):
            findings.append(
                _finding(
                    FindingCode.BAD_EXPORT_SIGNATURE,
                    "The exporter's signature does not match the content: something was "
                    "changed after export, or it was not exported by the device it names.",
                    "signature",
                )
            )

    revealed, attribution = _open_revealed(doc, space_id, held, findings)
    exporter = DeviceId(bytes.fromhex(doc.exporter))
    # Attribution is judged only on an otherwise sound document: with a broken chain
    # or an unopened event, a missing member is a consequence, not a second problem.
    if not findings:
        if exporter not in attribution.devices:
            findings.append(
                _finding(
                    FindingCode.EXPORTER_UNKNOWN,
                    "The export does not reveal how its exporter's device joined the space, "
                    "so it cannot say which member exported it.",
                    "exporter",
                )
            )
        for chain in doc.chains:
            if DeviceId(bytes.fromhex(chain.device)) not in attribution.devices:
                findings.append(
                    _finding(
                        FindingCode.AUTHOR_UNKNOWN,
                        "The export does not reveal the signed facts that say whose device "
                        "this is (how it joined, and by whose invite), so it cannot say who "
                        "wrote its events.",
                        f"chains, device {chain.device[:8]}",
                    )
                )
        if not findings:
            findings += _consent_findings(revealed, exporter, attribution, doc.created_at)
    declaration = export_consent.declaration_of(revealed, exporter)
    if findings or declaration is None:
        return None, findings
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
    ), []


def _written(
    revealed: list[RevealedEvent], attribution: Attribution
) -> list[export_consent.Written]:
    return [
        export_consent.Written(
            event_id=e.event_id,
            member=attribution.devices.get(e.author),
            kind=e.kind,
            payload=e.payload,
            consent=export_consent.consent_of(e),
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
            _finding(
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
        _finding(
            FindingCode.WORDS_WITHOUT_CONSENT,
            "The export shows the other partner's own words without their consent to this "
            "export (same recipient and purpose, not expired when it was made).",
            f"revealed event {e.event_id.hex()[:8]}",
        )
        for e in uncovered
    ]


def _check_chain(
    space_id: SpaceId,
    chain: ChainDoc,
    held: dict[EventId, _Held],
    findings: list[ExportFinding],
) -> list[bytes]:
    """Check one chain's links (docs/PROTOCOL.md §4, §9.1 steps 1-5); return the
    envelopes' bytes as far as they decode from base64."""
    device = bytes.fromhex(chain.device)
    decoded: list[bytes] = []
    previous: EventId | None = None
    for index, text in enumerate(chain.envelopes):
        where = f"device {chain.device[:8]} seq {index + 1}"
        raw = from_b64(text)
        if raw is None:
            findings.append(
                _finding(FindingCode.BAD_ENVELOPE, "An event is not valid base64.", where)
            )
            previous = None
            continue
        decoded.append(raw)
        event_id = event_id_of(raw)
        try:
            env = decode_envelope(raw)
        except EnvelopeFormatError as exc:
            findings.append(
                _finding(FindingCode.BAD_ENVELOPE, f"An event is not an envelope: {exc}.", where)
            )
            previous = event_id
            continue
        problem = _link_problem(env, index + 1, previous, space_id, device)
        previous = event_id
        if problem is not None:
            findings.append(_finding(*problem, where))
            continue
        held.setdefault(event_id, _Held(env, raw, where))
    head_where = f"chains, device {chain.device[:8]}: head"
    if len(chain.envelopes) != chain.head_seq:
        findings.append(
            _finding(
                FindingCode.HEAD_MISMATCH,
                f"The chain holds {len(chain.envelopes)} events but the export says "
                f"{chain.head_seq}: events were added or removed.",
                head_where,
            )
        )
    elif previous is not None and previous.hex() != chain.head_id:
        findings.append(
            _finding(
                FindingCode.HEAD_MISMATCH,
                "The chain's last event is not the head the export names.",
                head_where,
            )
        )
    return decoded


def _link_problem(
    env: Envelope, seq: int, previous: EventId | None, space_id: SpaceId, device: bytes
) -> tuple[FindingCode, str] | None:
    if env.space_id != space_id:
        return FindingCode.WRONG_SPACE, "An event belongs to another space."
    if env.author != device:
        return (
            FindingCode.WRONG_AUTHOR,
            "An event in this device's chain was written by another device.",
        )
    if not crypto.envelope_signature_valid(env):
        return FindingCode.BAD_SIGNATURE, "An event's signature does not match its author."
    if env.seq != seq:
        return (
            FindingCode.CHAIN_GAP,
            f"Event {env.seq} of this device sits where event {seq} belongs: an event is "
            "missing, added or out of order.",
        )
    if seq > 1 and env.prev != previous:
        return FindingCode.CHAIN_BAD_PREV, "An event does not follow on from the event before it."
    return None


def _open_revealed(
    doc: ExportDocument,
    space_id: SpaceId,
    held: dict[EventId, _Held],
    findings: list[ExportFinding],
) -> tuple[list[RevealedEvent], Attribution]:
    """Open each revealed event with its key, in the listed order, and check that order
    is causal; return the events and who wrote them, by the apps' membership rules."""
    opened: list[tuple[_Held, EventId, EventBody, Payload | UnknownPayload]] = []
    position: dict[EventId, int] = {}
    for index, item in enumerate(doc.revealed):
        event_id = EventId(bytes.fromhex(item.event_id))
        where = f"revealed[{index}] (event {item.event_id[:8]})"
        if event_id in position:
            findings.append(
                _finding(FindingCode.DUPLICATE_REVEALED, "An event is revealed twice.", where)
            )
            continue
        position[event_id] = index
        event = held.get(event_id)
        if event is None:
            findings.append(
                _finding(
                    FindingCode.REVEALED_MISSING,
                    "A revealed event is not among the chains' events that verify.",
                    where,
                )
            )
            continue
        where = f"{event.where} (revealed[{index}])"
        try:
            plaintext = crypto.open_with_content_key(
                bytes.fromhex(item.content_key), event.envelope
            )
        except crypto.KeyCommitmentError:
            findings.append(
                _finding(
                    FindingCode.BAD_KEY_COMMITMENT,
                    "A revealed event's key is not the key its author signed for it: the "
                    "event could be read two ways, so it is not read at all.",
                    where,
                )
            )
            continue
        except crypto.CryptoError:
            findings.append(
                _finding(
                    FindingCode.BAD_CONTENT_KEY, "A revealed event's key does not open it.", where
                )
            )
            continue
        try:
            body, payload = decode_event(plaintext)
        except PayloadFormatError as exc:
            findings.append(
                _finding(FindingCode.BAD_PAYLOAD, f"A revealed event is malformed: {exc}.", where)
            )
            continue
        opened.append((event, event_id, body, payload))

    attribution = attribute(space_id, [(h.envelope, p) for h, _, _, p in opened])
    names = _Names(attribution)
    revealed: list[RevealedEvent] = []
    for event, event_id, body, payload in opened:
        env = event.envelope
        causes = [EventId(d) for d in body.deps] + ([EventId(env.prev)] if env.prev else [])
        if any(position.get(c, -1) > position[event_id] for c in causes):
            findings.append(
                _finding(
                    FindingCode.REVEALED_OUT_OF_ORDER,
                    "A revealed event is listed before an event it follows from.",
                    f"{event.where} (revealed[{position[event_id]}])",
                )
            )
        verified = VerifiedEvent(event_id, env, event.canonical, body, payload)
        revealed.append(
            RevealedEvent(
                event_id=event_id,
                author=DeviceId(env.author),
                seq=env.seq,
                recorded_at=body.recorded_at,
                occurred_at=body.occurred_at,
                kind=payload_kind(payload),
                payload=_plain(msgspec.to_builtins(payload, builtin_types=(bytes,))),
                summary=event_summary(verified, names),
                deps=tuple(EventId(d) for d in body.deps),
                source=verified,
            )
        )
    return revealed, attribution


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class _Names:
    """Names for client.views.present: from revealed membership events only, by the apps'
    rules (client/export/attribution.py)."""

    def __init__(self, attribution: Attribution) -> None:
        self._attribution = attribution

    def author_name(self, device_id: bytes) -> str:
        name = self._attribution.name_of(device_id)
        return name if name is not None else f"device {device_id.hex()[:8]}"

    def member_name(self, member_id: bytes) -> str:
        name = self._attribution.names.get(MemberId(member_id))
        return name if name is not None else f"member {member_id.hex()[:8]}"
