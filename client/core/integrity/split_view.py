"""Findings about what the partner's device has seen: a stale frontier (rule S1,
warning) and building on a refused fork (rule S2, proof), the signs of a relay showing
the two partners different histories (docs/PROTOCOL.md §9.6)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from client.core.integrity.findings import Finding, FindingCode, Severity, count_events
from client.core.integrity.missing import Waiting
from client.core.integrity.refusals import Refusal
from client.core.relay_view import RelayView
from client.core.verify import VerifiedEvent
from schemas.ids import DeviceId, EventId

SPLIT_VIEW_GRACE_MS = 3_600_000
"""How much later than the evidence a partner's event must be written before its stale
frontier counts as a split-view warning (absorbs clock skew and a sync in progress)."""


def split_view_findings(
    me: DeviceId,
    events: Iterable[VerifiedEvent],
    view: RelayView,
    name_of: Callable[[bytes], str],
    *,
    grace_ms: int = SPLIT_VIEW_GRACE_MS,
) -> list[Finding]:
    """Rule S1 (warning, stale frontier) of §9.6, for every other device.

    For another device P with newest event E, let A be this device's first event that
    E's frontier does not cover. It is a finding when the relay stored A (this device
    read its relay seq) and P has an earlier event F that the relay stored after A and
    that this device saw at the relay more than ``grace_ms`` before E was written (by
    E's own clock). An honest relay delivers A to P in the session that pushed F, so P
    should have seen A before writing E. Offline writing alone never triggers it: F must
    have been at the relay, visibly to us, long before E was written. It clears when P's
    newest event covers A."""
    chains: dict[bytes, list[VerifiedEvent]] = {}
    for event in events:
        chains.setdefault(event.author, []).append(event)
    mine = sorted(chains.get(me, []), key=lambda e: e.envelope.seq)
    my_seq = {e.event_id: e.envelope.seq for e in mine}
    findings = []
    for author, chain in sorted(chains.items()):
        if author == me or not mine:
            continue
        chain.sort(key=lambda e: e.envelope.seq)
        newest = chain[-1]
        covered = max((my_seq[EventId(d)] for d in newest.body.deps if d in my_seq), default=0)
        if covered >= len(mine):
            continue
        unseen = mine[covered]
        unseen_at = view.seq_of(unseen.event_id)
        if unseen_at is None:
            continue
        for earlier in reversed(chain[:-1]):
            at = view.seq_of(earlier.event_id)
            seen = view.seen_at(earlier.event_id)
            if at is not None and at <= unseen_at:
                break  # a relay stores each chain in order: the rest came earlier still
            if at is None or seen is None:
                continue
            if newest.body.recorded_at > seen + grace_ms:
                name = name_of(author)
                findings.append(
                    Finding(
                        FindingCode.SPLIT_VIEW,
                        Severity.WARNING,
                        f"{name}'s device wrote something new without having received "
                        f"{count_events(len(mine) - covered)} of yours, although it had synced "
                        "with the relay after they were stored there. This happens when a "
                        f"device goes offline in the middle of a sync; if it stays after "
                        f"{name} syncs again, the relay may be showing the two of you "
                        "different histories.",
                        (newest.event_id.hex(), unseen.event_id.hex(), earlier.event_id.hex()),
                    )
                )
                break
    return findings


def conflicting_frontier_findings(
    waiting: Sequence[Waiting], forks: Mapping[bytes, Refusal], name_of: Callable[[bytes], str]
) -> list[Finding]:
    """Rule S2 (proof) of §9.6: an event that builds on one side of a fork this device
    refused. Its author was shown a history that cannot coexist with ours."""
    findings = []
    for item in waiting:
        for missing in item.missing:
            fork = forks.get(missing)
            if fork is None:
                continue
            findings.append(
                Finding(
                    FindingCode.SPLIT_VIEW,
                    Severity.PROOF,
                    f"{name_of(item.author)}'s device built on a version of the history "
                    "that conflicts with the one this device holds: the two of you were "
                    "shown different histories.",
                    (item.event_id.hex(), fork.digest.hex()),
                )
            )
    return findings
