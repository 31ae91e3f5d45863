"""Findings from relay misbehaviour seen in passing (:class:`Sighting`): an event moved
or rewritten in its history, a foreign acknowledgement, a reused challenge
(docs/PROTOCOL.md §9.6). Kept as proof."""

from __future__ import annotations

from collections.abc import Sequence

from client.core.integrity.findings import Finding, FindingCode, Severity, unique
from client.core.relay_view import Sighting, SightingKind

_SIGHTING_TEXT = {
    SightingKind.MOVED: "served an event at a place in its history other than the one it "
    "had given it before",
    SightingKind.REWRITTEN: "served different content at a place in its history it had "
    "already filled",
    SightingKind.FOREIGN_ACK: "confirmed events this device had not sent",
    SightingKind.REUSED_CHALLENGE: "asked this device to sign in with a challenge it had "
    "already used",
}


def replay_findings(sightings: Sequence[Sighting]) -> list[Finding]:
    by_kind: dict[SightingKind, list[Sighting]] = {}
    for sighting in sightings:
        by_kind.setdefault(sighting.kind, []).append(sighting)
    findings = []
    for kind, items in sorted(by_kind.items()):
        ids = tuple(unique(e.hex() for s in items for e in s.events))
        times = "once" if len(items) == 1 else f"{len(items)} times"
        findings.append(
            Finding(
                FindingCode.REPLAY,
                Severity.PROOF,
                f"The relay {_SIGHTING_TEXT[kind]} ({times}): old messages were replayed, "
                "or its history was rewritten. Nothing it replayed was taken as new.",
                ids,
            )
        )
    return findings
