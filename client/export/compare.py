"""Two exports of one space, checked against each other (docs/PROTOCOL.md "Exports",
"Two exports: the cross-check").

One export is one device's copy at one time: its exporter can stop a partner's chain just
before a withdrawal, and nothing inside the file can show it. A second export, made by
the other partner, can. Both have already verified on their own, so every envelope in
either is signed by its author; comparing them finds:

- ``fork``: a device with two different events at one position, one in each export. Its
  author signed both: the two exports show two histories.
- ``left_out``: events of a device that one export holds and the other stops short of.
  When a revealed event of the other export depends on one of them (its author's device
  had seen it), that export provably left it out; otherwise the other export may simply
  have been made before the event arrived, and the message says when each was made.
- ``different_members``: between them the two exports name more than two members. A
  space has two partners for its whole life, so one export made a member up (a partner's
  own second device joined "as" the other partner through a member invite, say).
- ``different_spaces``: the exports are of two different spaces; nothing is compared.

Pure: takes two :class:`VerifiedExport` values, returns findings.
"""

from __future__ import annotations

from dataclasses import dataclass

from client.export.verify import ChainSummary, VerifiedExport, utc_text
from schemas.ids import DeviceId, EventId


@dataclass(frozen=True, slots=True)
class CrossFinding:
    """One disagreement between two exports: a stable ``code``, a sentence, and where."""

    code: str
    message: str
    where: str


@dataclass(frozen=True, slots=True)
class CrossCheck:
    findings: list[CrossFinding]
    notes: list[str]
    """Plain facts that are not problems (a device only one export carries, say)."""


def cross_check(a: VerifiedExport, b: VerifiedExport) -> CrossCheck:
    """Compare export ``a`` (called A) with export ``b`` (called B)."""
    if a.space_id != b.space_id:
        return CrossCheck(
            [
                CrossFinding(
                    "different_spaces",
                    "The two exports are of different shared spaces, so they cannot be compared.",
                    "space",
                )
            ],
            [],
        )
    findings: list[CrossFinding] = []
    notes: list[str] = []
    chains_a = {c.device: c for c in a.chains}
    chains_b = {c.device: c for c in b.chains}
    for device in sorted(chains_a.keys() & chains_b.keys()):
        findings.extend(_compare_chain(a, b, chains_a[device], chains_b[device]))
    members = {**a.member_names, **b.member_names}
    if len(members) > 2:
        listed = ", ".join(
            f"{name} ({member.hex()[:8]}, in export {_where(member, a, b)})"
            for member, name in sorted(members.items())
        )
        findings.append(
            CrossFinding(
                "different_members",
                "Between them the two exports name more than the two partners a space has: "
                f"{listed}. One of them shows a member the other partner never was.",
                "members",
            )
        )
    findings.extend(_implied(a, b, "A", "B"))
    findings.extend(_implied(b, a, "B", "A"))
    for label, mine, theirs, export in (("A", chains_a, chains_b, a), ("B", chains_b, chains_a, b)):
        for device in sorted(mine.keys() - theirs.keys()):
            notes.append(
                f"Only export {label} carries the events of {export.name_of(device)}'s device "
                f"{device.hex()[:8]}: the other reveals none of them."
            )
    member_a, member_b = a.device_members.get(a.exporter), b.device_members.get(b.exporter)
    if member_a is not None and member_a == member_b:
        notes.append(
            f"Both exports were made by {a.name_of(a.exporter)}. The check is strongest with "
            "one export from each partner."
        )
    return CrossCheck(_unique(findings), notes)


def _compare_chain(
    a: VerifiedExport, b: VerifiedExport, ca: ChainSummary, cb: ChainSummary
) -> list[CrossFinding]:
    who = a.name_of(ca.device)
    where = f"device {ca.device.hex()[:8]}"
    for seq, (id_a, id_b) in enumerate(zip(ca.event_ids, cb.event_ids, strict=False), 1):
        if id_a != id_b:
            return [
                CrossFinding(
                    "fork",
                    f"{who}'s device signed two different events as its event {seq}: one "
                    "is in export A, the other in export B. The two exports show two "
                    "different histories from that point on.",
                    f"{where} seq {seq}",
                )
            ]
    if ca.head_seq == cb.head_seq:
        return []
    longer, shorter, holder, lacker = (
        (ca, cb, "A", "B") if ca.head_seq > cb.head_seq else (cb, ca, "B", "A")
    )
    short_export = b if lacker == "B" else a
    long_export = a if holder == "A" else b
    if _only_export_consents(long_export, longer, shorter.head_seq):
        return []
    return [
        CrossFinding(
            "left_out",
            f"Export {holder} holds {who}'s events {shorter.head_seq + 1}–{longer.head_seq}; "
            f"export {lacker} stops at event {shorter.head_seq}. Export {lacker} was made at "
            f"{utc_text(short_export.created_at)}: those events may have been written or "
            "received after that, or been left out. Ask for a newer export, or read them "
            f"in export {holder}.",
            f"{where} seq {shorter.head_seq + 1}",
        )
    ]


def _only_export_consents(export: VerifiedExport, chain: ChainSummary, after: int) -> bool:
    """Whether every event of ``chain`` after seq ``after`` is an ``export_consented``
    that ``export`` reveals: the exporter's own declaration, written as it exported, or
    a consent. Readable in full, they hide nothing from the other export, which was made
    before they existed (docs/PROTOCOL.md "Exports", "Consent")."""
    kinds = {(e.author, e.seq): e.kind for e in export.revealed}
    return all(
        kinds.get((chain.device, seq)) == "export_consented"
        for seq in range(after + 1, chain.head_seq + 1)
    )


def _implied(
    x: VerifiedExport, y: VerifiedExport, x_label: str, y_label: str
) -> list[CrossFinding]:
    """Events that ``x``'s own revealed events depend on, found in ``y`` at a position
    that ``x`` does not carry: ``x``'s author had them, and ``x`` left them out."""
    positions: dict[EventId, tuple[DeviceId, int]] = {
        event_id: (c.device, seq) for c in y.chains for seq, event_id in enumerate(c.event_ids, 1)
    }
    held = {c.device: c.head_seq for c in x.chains}
    out: list[CrossFinding] = []
    for event in x.revealed:
        for dep in event.deps:
            found = positions.get(dep)
            if found is None:
                continue
            device, seq = found
            # A device whose chain x does not carry has no event revealed in x: nothing
            # of it is shown, so nothing of it is cut short.
            if device not in held or held[device] >= seq:
                continue
            out.append(
                CrossFinding(
                    "left_out",
                    f"Export {x_label} leaves out {y.name_of(device)}'s event {seq}, which "
                    f"export {y_label} holds, although its own event "
                    f"({event.summary}) was written after seeing it.",
                    f"device {device.hex()[:8]} seq {seq}",
                )
            )
    return out


def _where(member: bytes, a: VerifiedExport, b: VerifiedExport) -> str:
    return " and ".join(
        label for label, export in (("A", a), ("B", b)) if member in export.member_names
    )


def _unique(findings: list[CrossFinding]) -> list[CrossFinding]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for f in findings:
        key = (f.code, f.message, f.where)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
