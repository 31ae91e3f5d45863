"""Tamper evidence: what one device can tell about a relay that lies, sans-I/O
(docs/PROTOCOL.md §9.6, docs/THREAT_MODEL.md §5.3).

Theory of operation. Admission (verify.py) already refuses anything forged and holds
back anything that cannot be placed yet. This module turns what admission and the
sync session saw into **findings**: typed, stable codes with a sentence for people and
the events involved, each either

* a **warning**: it may be innocent or passing (an event that simply has not arrived
  yet, a partner who was offline); it clears by itself when the data arrives; or
* **proof**: evidence that does not go away (bytes that are not genuine, two signed
  histories of one device, the relay contradicting what it said before).

Three kinds of material feed it, all kept on the device:

1. the events themselves: pending ones (what they wait for), refused ones (why), and
   accepted ones with their authors' frontiers (``deps``);
2. a :class:`RelayView`: the relay's own numbering as this device read it, relay seq by
   relay seq (what bytes it served there, and when this device first learned it);
3. relay misbehaviour seen in passing (:class:`Sighting`), kept as proof.

Nothing here changes the log or the views: suspect events stay pending or refused, as
admission decided. Findings only say what was seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import msgspec

from client.core.admission_checks import InvalidPayload, open_plaintext
from client.core.relay_view import RelayView, Sighting, SightingKind
from client.core.verify import VerifiedEvent
from client.keys import crypto
from schemas.envelope import EnvelopeFormatError, decode_envelope, event_id_of
from schemas.ids import DeviceId, EventId
from schemas.payloads import PayloadFormatError

SPLIT_VIEW_GRACE_MS = 3_600_000
"""How much later than the evidence a partner's event must be written before its stale
frontier counts as a split-view warning (absorbs clock skew and a sync in progress)."""


class Severity(StrEnum):
    WARNING = "warning"
    """May be innocent or passing; clears when the missing data arrives."""
    PROOF = "proof"
    """Evidence that stays."""


class FindingCode(StrEnum):
    """Stable codes (docs/PROTOCOL.md §9.6); a code never changes meaning."""

    WITHHELD_EVENTS = "withheld_events"
    ROLLBACK = "rollback"
    SPLIT_VIEW = "split_view"
    EQUIVOCATION = "equivocation"
    FORGED_EVENT = "forged_event"
    INVALID_EVENT = "invalid_event"
    REPLAY = "replay"


@dataclass(frozen=True, slots=True)
class Finding:
    code: FindingCode
    severity: Severity
    message: str
    events: tuple[str, ...] = ()
    """Lowercase hex event ids (for bytes that are not an envelope, their BLAKE2b-256)."""

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "message": self.message,
            "events": list(self.events),
        }


# -- what admission refused -----------------------------------------------------------

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
        ids = tuple(_unique(r.digest.hex() for r in items))
        count = _events(len(ids))
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
        reasons = "; ".join(_unique(_reason(e) for e in items))
        findings.append(
            Finding(
                FindingCode.INVALID_EVENT,
                Severity.PROOF,
                f"Set aside: {_events(len(items))} signed by {name_of(author)}'s device whose "
                f"content this app will not show ({reasons}). Everything else is shown as "
                "usual. This is a problem with that device's app, not with the relay.",
                tuple(e.event_id.hex() for e in items),
            )
        )
    return findings


def _reason(event: VerifiedEvent) -> str:
    payload = event.payload
    return payload.reason if isinstance(payload, InvalidPayload) else ""


# -- what is missing --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Waiting:
    """A pending envelope: what it is, where the relay put it, and what it lacks."""

    event_id: EventId
    relay_seq: int | None
    author: bytes
    missing: tuple[bytes, ...]
    """Event ids it names that this device does not hold (its ``prev``, its ``deps``)."""
    has_key: bool
    """Whether this device holds the key of its epoch."""


def waiting_item(
    event_id: EventId,
    data: bytes,
    relay_seq: int | None,
    *,
    knows: Callable[[bytes], bool],
    events_key: Callable[[int], bytes | None],
) -> Waiting:
    """Open a pending envelope far enough to name what it waits for."""
    env = decode_envelope(data)
    missing: list[bytes] = []
    if env.prev is not None and not knows(env.prev):
        missing.append(env.prev)
    key = events_key(env.epoch)
    if key is not None:
        try:
            # The one decode site (admission_checks.py): a hostile body cannot stop us.
            body, _ = open_plaintext(crypto.open_event(key, env))
        except (crypto.CryptoError, PayloadFormatError, msgspec.MsgspecError):
            body = None
        if body is not None:
            missing.extend(d for d in body.deps if not knows(d))
    return Waiting(event_id, relay_seq, env.author, tuple(missing), key is not None)


def withheld_finding(waiting: Sequence[Waiting], skipped: Sequence[int]) -> Finding | None:
    """Events the relay should have delivered by now and has not (§9.6 rule W).

    ``waiting`` must hold only envelopes the relay placed at or below the cursor: the
    relay has said it served everything up to there, so what they wait for is not merely
    on its way. ``skipped`` are relay seqs it said it served and did not."""
    if not waiting and not skipped:
        return None
    ids = _unique(
        [*(w.event_id.hex() for w in waiting), *(m.hex() for w in waiting for m in w.missing)]
    )
    parts = []
    if waiting:
        parts.append(
            f"{_events(len(waiting))} received here wait for earlier ones the relay has not "
            "delivered"
        )
    if skipped:
        shown = ", ".join(str(s) for s in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        parts.append(f"the relay skipped {_positions(len(skipped))} {shown}{more} of its history")
    return Finding(
        FindingCode.WITHHELD_EVENTS,
        Severity.WARNING,
        "Some events have not reached this device: "
        + "; ".join(parts)
        + ". Nothing is shown until they arrive. This can be a delay: sync again. If it "
        "stays, the relay may be holding events back; 'trellis sync --reseed' on your "
        "partner's device gives the relay their copy again.",
        tuple(ids),
    )


def rollback_finding(lost: Sequence[bytes]) -> Finding | None:
    """Events the relay had stored (it acknowledged or served them) and no longer holds."""
    if not lost:
        return None
    return Finding(
        FindingCode.ROLLBACK,
        Severity.WARNING,
        f"The relay lost {_events(len(lost))} it had already stored: it went back to an "
        "older state, perhaps restored from a backup. Nothing is lost on this device. Run "
        "'trellis sync --reseed' to give the relay this device's copy back; this warning "
        f"clears when the relay holds {'it' if len(lost) == 1 else 'them'} again.",
        tuple(sorted(e.hex() for e in lost)),
    )


# -- what the partner has seen ------------------------------------------------------------


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
                        f"{_events(len(mine) - covered)} of yours, although it had synced "
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


# -- relay misbehaviour seen in passing ------------------------------------------------


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
        ids = tuple(_unique(e.hex() for s in items for e in s.events))
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


# -- everything together -------------------------------------------------------------------


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
    forks = {r.digest: r for r in refusals if _REFUSALS.get(r.code, (_INVALID, ""))[0] == _FORKED}
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


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _events(n: int) -> str:
    return "one event" if n == 1 else f"{n} events"


def _positions(n: int) -> str:
    return "position" if n == 1 else "positions"
