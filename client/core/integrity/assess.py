"""Every finding that stands now, from all the material kept on the device, proofs
first (docs/PROTOCOL.md §9.6)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from client.core.integrity.findings import Finding, Severity
from client.core.integrity.missing import Waiting, rollback_finding, withheld_finding
from client.core.integrity.refusals import (
    Refusal,
    invalid_payload_findings,
    is_fork,
    refusal_findings,
)
from client.core.integrity.sightings import replay_findings
from client.core.integrity.split_view import (
    SPLIT_VIEW_GRACE_MS,
    conflicting_frontier_findings,
    split_view_findings,
)
from client.core.relay_view import RelayView, Sighting
from client.core.verify import VerifiedEvent
from schemas.ids import DeviceId, EventId


def assess(
    *,
    me: DeviceId,
    events: Iterable[VerifiedEvent],
    waiting: Sequence[Waiting],
    refusals: Sequence[Refusal],
    view: RelayView,
    cursor: int,
    lost: Sequence[bytes],
    sightings: Sequence[Sighting],
    name_of: Callable[[bytes], str],
    grace_ms: int = SPLIT_VIEW_GRACE_MS,
) -> list[Finding]:
    """The findings that stand now, proofs first."""
    events = list(events)
    forks = {r.digest: r for r in refusals if is_fork(r)}
    positions: dict[tuple[bytes, int], EventId] = {}
    if forks:
        positions = {(e.author, e.envelope.seq): e.event_id for e in events}
    overdue = [w for w in waiting if _placed(w, view) <= cursor]
    findings = [
        *refusal_findings(refusals, positions, name_of),
        *conflicting_frontier_findings(waiting, forks, name_of),
        *replay_findings(sightings),
        *invalid_payload_findings(events, name_of),
    ]
    for maybe in (withheld_finding(overdue, view.skipped(cursor)), rollback_finding(lost)):
        if maybe is not None:
            findings.append(maybe)
    findings.extend(split_view_findings(me, events, view, name_of, grace_ms=grace_ms))
    findings.sort(key=lambda f: (f.severity is not Severity.PROOF, f.code.value))
    return findings


def _placed(waiting: Waiting, view: RelayView) -> float:
    """The relay seq of a pending envelope in the relay's current numbering (infinite
    when it was placed in a numbering the relay has since lost, and not served again)."""
    seq = view.seq_of(waiting.event_id)
    if seq is None and waiting.relay_seq is not None and waiting.relay_seq <= view.base:
        seq = waiting.relay_seq  # read before this record began
    return float("inf") if seq is None else seq
