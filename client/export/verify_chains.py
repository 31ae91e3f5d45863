"""Checking each chain of an export, envelope by envelope (docs/PROTOCOL.md "Exports",
"Verifying", step 2): base64, envelope format, space, author, signature, position, the
link to the envelope before, and the head. Offline and with no key."""

from __future__ import annotations

from dataclasses import dataclass

from client.export.format import ChainDoc, ExportFinding, FindingCode, from_b64
from client.keys import crypto
from schemas.envelope import Envelope, EnvelopeFormatError, decode_envelope, event_id_of
from schemas.ids import EventId, SpaceId


def finding(code: FindingCode, message: str, where: str) -> ExportFinding:
    return ExportFinding(code, message, where)


@dataclass(frozen=True, slots=True)
class Held:
    """An envelope that decoded, with where it sits in the file."""

    envelope: Envelope
    canonical: bytes
    where: str


def check_chain(
    space_id: SpaceId,
    chain: ChainDoc,
    held: dict[EventId, Held],
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
                finding(FindingCode.BAD_ENVELOPE, "An event is not valid base64.", where)
            )
            previous = None
            continue
        decoded.append(raw)
        event_id = event_id_of(raw)
        try:
            env = decode_envelope(raw)
        except EnvelopeFormatError as exc:
            findings.append(
                finding(FindingCode.BAD_ENVELOPE, f"An event is not an envelope: {exc}.", where)
            )
            previous = event_id
            continue
        problem = _link_problem(env, index + 1, previous, space_id, device)
        previous = event_id
        if problem is not None:
            findings.append(finding(*problem, where))
            continue
        held.setdefault(event_id, Held(env, raw, where))
    head_where = f"chains, device {chain.device[:8]}: head"
    if len(chain.envelopes) != chain.head_seq:
        findings.append(
            finding(
                FindingCode.HEAD_MISMATCH,
                f"The chain holds {len(chain.envelopes)} events but the export says "
                f"{chain.head_seq}: events were added or removed.",
                head_where,
            )
        )
    elif previous is not None and previous.hex() != chain.head_id:
        findings.append(
            finding(
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
