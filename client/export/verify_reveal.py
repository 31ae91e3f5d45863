"""Opening an export's revealed events (docs/PROTOCOL.md "Exports", "Verifying", steps
4-5): each with its content key, committed and opening, decoded strictly, listed in
causal order; then who wrote each, by the apps' membership rules."""

from __future__ import annotations

from typing import Any

import msgspec

from client.core.verify import VerifiedEvent
from client.export.attribution import Attribution, attribute
from client.export.format import ExportDocument, ExportFinding, FindingCode, RevealedDoc
from client.export.verified import RevealedEvent
from client.export.verify_chains import Held, finding
from client.keys import crypto
from client.views.present import event_summary
from schemas.ids import DeviceId, EventId, MemberId, SpaceId
from schemas.payloads import (
    EventBody,
    Payload,
    PayloadFormatError,
    UnknownPayload,
    decode_event,
    payload_kind,
)

_Opened = tuple[Held, EventId, EventBody, Payload | UnknownPayload]
"""A revealed event opened: its chain entry, id, body and payload."""


def open_revealed(
    doc: ExportDocument,
    space_id: SpaceId,
    held: dict[EventId, Held],
    findings: list[ExportFinding],
) -> tuple[list[RevealedEvent], Attribution]:
    """Open each revealed event with its key, in the listed order, and check that order
    is causal; return the events and who wrote them, by the apps' membership rules."""
    opened, position = _open_each(doc, held, findings)
    attribution = attribute(space_id, [(h.envelope, p) for h, _, _, p in opened])
    names = _Names(attribution)
    revealed = [_in_causal_order(one, position, names, findings) for one in opened]
    return revealed, attribution


def _open_each(
    doc: ExportDocument, held: dict[EventId, Held], findings: list[ExportFinding]
) -> tuple[list[_Opened], dict[EventId, int]]:
    """The revealed events that open, and each listed event's place in the list; each
    one listed twice or not among the chains' events is a finding."""
    opened: list[_Opened] = []
    position: dict[EventId, int] = {}
    for index, item in enumerate(doc.revealed):
        event_id = EventId(bytes.fromhex(item.event_id))
        where = f"revealed[{index}] (event {item.event_id[:8]})"
        if event_id in position:
            findings.append(
                finding(FindingCode.DUPLICATE_REVEALED, "An event is revealed twice.", where)
            )
            continue
        position[event_id] = index
        event = held.get(event_id)
        if event is None:
            findings.append(
                finding(
                    FindingCode.REVEALED_MISSING,
                    "A revealed event is not among the chains' events that verify.",
                    where,
                )
            )
            continue
        read = _open_one(item, event, f"{event.where} (revealed[{index}])", findings)
        if read is not None:
            opened.append((event, event_id, *read))
    return opened, position


def _open_one(
    item: RevealedDoc, event: Held, where: str, findings: list[ExportFinding]
) -> tuple[EventBody, Payload | UnknownPayload] | None:
    """One event opened with its content key (committed by its author) and decoded
    strictly, or None with the finding that says why not."""
    try:
        plaintext = crypto.open_with_content_key(bytes.fromhex(item.content_key), event.envelope)
    except crypto.KeyCommitmentError:
        findings.append(
            finding(
                FindingCode.BAD_KEY_COMMITMENT,
                "A revealed event's key is not the key its author signed for it: the "
                "event could be read two ways, so it is not read at all.",
                where,
            )
        )
        return None
    except crypto.CryptoError:
        findings.append(
            finding(FindingCode.BAD_CONTENT_KEY, "A revealed event's key does not open it.", where)
        )
        return None
    try:
        return decode_event(plaintext)
    except PayloadFormatError as exc:
        findings.append(
            finding(FindingCode.BAD_PAYLOAD, f"A revealed event is malformed: {exc}.", where)
        )
        return None


def _in_causal_order(
    opened: _Opened, position: dict[EventId, int], names: _Names, findings: list[ExportFinding]
) -> RevealedEvent:
    """One opened event as the report shows it; listed before an event it follows from
    is a finding."""
    event, event_id, body, payload = opened
    env = event.envelope
    causes = [EventId(d) for d in body.deps] + ([EventId(env.prev)] if env.prev else [])
    if any(position.get(c, -1) > position[event_id] for c in causes):
        findings.append(
            finding(
                FindingCode.REVEALED_OUT_OF_ORDER,
                "A revealed event is listed before an event it follows from.",
                f"{event.where} (revealed[{position[event_id]}])",
            )
        )
    verified = VerifiedEvent(event_id, env, event.canonical, body, payload)
    return RevealedEvent(
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
