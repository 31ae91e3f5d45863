"""Findings from what admission refused or set aside: forged bytes, rule-breaking
events, a third person, a device that signed two histories, unreadable content
(docs/PROTOCOL.md §9.6)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from client.core.admission_checks import InvalidPayload
from client.core.integrity.findings import Finding, FindingCode, Severity, count_events, unique
from client.core.verify import VerifiedEvent
from schemas.envelope import EnvelopeFormatError, decode_envelope, event_id_of
from schemas.ids import EventId

_FORGED = "forged"
_INVALID = "invalid"
_FORKED = "forked"
_THIRD = "third"

_REFUSALS: dict[str, tuple[str, str]] = {
    # code: (kind, what it means, in words for people)
    "bad_envelope": (_FORGED, "not a well-formed event: bytes were changed or cut"),
    "wrong_space": (_FORGED, "an event of another shared space"),
    "bad_signature": (_FORGED, "the signature does not match the author"),
    "undecryptable": (_FORGED, "it does not open with this space's keys"),
    "bad_key_commitment": (_FORGED, "it could be read two ways: its key is not the one it names"),
    "not_a_member": (_FORGED, "written by a device nobody invited"),
    "bad_genesis": (_FORGED, "it claims to start the space a second time"),
    "bad_invite_proof": (_FORGED, "it joins the space without a valid invite"),
    "invite_reused": (_FORGED, "it reuses an invite that was already used"),
    "third_member": (_THIRD, ""),
    "equivocation": (_FORKED, ""),
    "chain_bad_prev": (_FORKED, ""),
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """One envelope admission refused, as stored (client/store/localstore.py ``rejected``)."""

    event_id: bytes | None
    envelope: bytes
    code: str
    reason: str
    relay_seq: int | None

    @property
    def digest(self) -> bytes:
        return self.event_id if self.event_id is not None else event_id_of(self.envelope)


def refusal_findings(
    refusals: Sequence[Refusal],
    positions: Mapping[tuple[bytes, int], EventId],
    name_of: Callable[[bytes], str],
) -> list[Finding]:
    """Every refused envelope, grouped: forged bytes, rule-breaking events, forks."""
    grouped: dict[tuple[str, str], list[Refusal]] = {}
    findings: list[Finding] = []
    for refusal in refusals:
        kind, _ = _REFUSALS.get(refusal.code, (_INVALID, ""))
        if kind == _FORKED:
            findings.append(_fork_finding(refusal, positions, name_of))
        else:
            grouped.setdefault((kind, refusal.code), []).append(refusal)
    for (kind, code), items in sorted(grouped.items()):
        ids = tuple(unique(r.digest.hex() for r in items))
        count = count_events(len(ids))
        if kind == _FORGED:
            why = _REFUSALS[code][1]
            findings.append(
                Finding(
                    FindingCode.FORGED_EVENT,
                    Severity.PROOF,
                    f"Not genuine: {count} delivered by the relay ({why}). Set aside and not "
                    "shown. The relay, or something between it and this device, changed or "
                    "made this up; the real event, if there is one, is asked for again.",
                    ids,
                )
            )
        elif kind == _THIRD:
            findings.append(
                Finding(
                    FindingCode.INVALID_EVENT,
                    Severity.PROOF,
                    f"Set aside: {count} from a third person. A space is for the two of "
                    "you only, for its whole life, so someone joining after your partner "
                    "did is not let in: nothing they wrote is shown, and nothing you agreed "
                    "changes. The relay should have refused them; tell whoever runs it.",
                    ids,
                )
            )
        else:
            reason = items[0].reason
            findings.append(
                Finding(
                    FindingCode.INVALID_EVENT,
                    Severity.PROOF,
                    f"Set aside: {count} signed by a device of this space but breaking the "
                    f"space's rules ({code}: {reason}). This is a problem with that device's "
                    "app, not with the relay.",
                    ids,
                )
            )
    return findings


def _fork_finding(
    refusal: Refusal,
    positions: Mapping[tuple[bytes, int], EventId],
    name_of: Callable[[bytes], str],
) -> Finding:
    ids = [refusal.digest.hex()]
    who = "a device"
    try:
        env = decode_envelope(refusal.envelope)
    except EnvelopeFormatError:
        env = None
    if env is not None:
        who = f"{name_of(env.author)}'s device"
        ours = positions.get((env.author, env.seq)) or positions.get((env.author, env.seq - 1))
        if ours is not None:
            ids.append(ours.hex())
    return Finding(
        FindingCode.EQUIVOCATION,
        Severity.PROOF,
        f"{who} signed two different histories: the relay delivered an event for a place "
        "in its history that already holds another one. The second was set aside. Either "
        "that device's key was copied to another device, or its data was restored from "
        "a backup and it wrote again.",
        tuple(ids),
    )


def invalid_payload_findings(
    events: Iterable[VerifiedEvent], name_of: Callable[[bytes], str]
) -> list[Finding]:
    """Genuine events whose content could not be read safely (client/core/admission_checks.py),
    one finding per author device: kept in the log, out of every view."""
    by_author: dict[bytes, list[VerifiedEvent]] = {}
    for event in events:
        if isinstance(event.payload, InvalidPayload):
            by_author.setdefault(event.author, []).append(event)
    findings = []
    for author, items in sorted(by_author.items()):
        items.sort(key=lambda e: e.envelope.seq)
        reasons = "; ".join(unique(_reason(e) for e in items))
        findings.append(
            Finding(
                FindingCode.INVALID_EVENT,
                Severity.PROOF,
                f"Set aside: {count_events(len(items))} signed by {name_of(author)}'s device whose "
                f"content this app will not show ({reasons}). Everything else is shown as "
                "usual. This is a problem with that device's app, not with the relay.",
                tuple(e.event_id.hex() for e in items),
            )
        )
    return findings


def _reason(event: VerifiedEvent) -> str:
    payload = event.payload
    return payload.reason if isinstance(payload, InvalidPayload) else ""


def is_fork(refusal: Refusal) -> bool:
    """Whether admission refused it as the second of two histories of one device."""
    return _REFUSALS.get(refusal.code, (_INVALID, ""))[0] == _FORKED
