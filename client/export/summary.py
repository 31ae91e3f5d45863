"""Where things stand, as of an export: the first thing its report shows
(docs/PROTOCOL.md "Exports", "The HTML report").

A pure function of the verified export. Agreements are folded by the apps' own fold
(client/views/agreements.py) over the revealed events only, with the membership the
export establishes, and the date the export was made (UTC) as "today", so the summary
is the same on every machine and renders byte for byte again when verified.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from client.core.verify import Device, Member, Membership, VerifiedEvent
from client.export.verify import VerifiedExport, utc_text
from client.views.agreements import Agreement, AgreementVersion, fold_agreements
from schemas.ids import DeviceId, EventId, MemberId
from schemas.practices import ThreeCircles, Window

WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass(frozen=True, slots=True)
class AgreementLine:
    agreement_id: EventId
    kind: str
    title: str
    status: str
    """In words: "in force", "proposed, waiting for Blake", "withdrawn by Alex", ..."""
    since: str
    consented: str
    """"proposed by Alex, accepted by Blake", or the like."""
    review: str
    version: AgreementVersion | None


@dataclass(frozen=True, slots=True)
class Summary:
    as_of: str
    agreements: list[AgreementLine] = field(default_factory=list)
    no_effect: list[str] = field(default_factory=list)
    """Concurrent and no-effect events in words."""
    current_versions: frozenset[EventId] = frozenset()


def _membership(v: VerifiedExport) -> Membership:
    none = EventId(b"")
    members = {MemberId(m): Member(MemberId(m), name, none) for m, name in v.member_names.items()}
    devices = {
        DeviceId(d): Device(DeviceId(d), MemberId(m), b"", none)
        for d, m in v.device_members.items()
    }
    return Membership(members=members, devices=devices)


def _names(v: VerifiedExport, members: list[MemberId] | list[bytes]) -> str:
    names = [v.member_names.get(bytes(m), "a partner") for m in members]
    return " and ".join(dict.fromkeys(names))


def summarise(v: VerifiedExport) -> Summary:
    events: list[VerifiedEvent] = [e.source for e in v.revealed if e.source is not None]
    try:
        today = datetime.datetime.fromtimestamp(v.created_at / 1000, datetime.UTC).date()
    except (ValueError, OverflowError, OSError):  # past the year 9999 (utc_text says how)
        today = datetime.date.max
    view = fold_agreements(events, _membership(v), today)
    lines = [_with_left_out(v, _line(v, a)) for a in view.agreements]
    notes: list[str] = []
    for agreement in view.agreements:
        for version in agreement.versions:
            for w in version.without_effect:
                notes.append(
                    _no_effect(v, agreement, w.member, w.action, w.after, w.after_member, w.at)
                )
    return Summary(
        as_of=utc_text(v.created_at),
        agreements=lines,
        no_effect=notes,
        current_versions=frozenset(a.current.id for a in view.agreements if a.current is not None),
    )


_ACTIONS = {
    "accept": "accepted",
    "decline": "declined",
    "withdraw": "withdrew",
    "review": "reviewed",
}
_AFTER = {
    "withdrawn": "had withdrawn",
    "declined": "had declined",
    "superseded": "another version had come into force",
    "accepted": "had already accepted from another device",
    "in_force": "it was already in force",
}


def _no_effect(
    v: VerifiedExport,
    agreement: Agreement,
    member: bytes,
    action: str,
    after: str,
    after_member: bytes | None,
    at: int,
) -> str:
    who = v.member_names.get(bytes(member), "A partner")
    first = v.member_names.get(bytes(after_member), "") if after_member is not None else ""
    what = _AFTER.get(after, after)
    cause = f"{first} {what}" if first and after in ("withdrawn", "declined", "accepted") else what
    return (
        f"“{agreement.title}”: {who} {_ACTIONS.get(action, action)} after {cause}; no effect "
        f"({utc_text(at)}). Both wrote at about the same time, without having seen the "
        "other's event."
    )


def _line(v: VerifiedExport, a: Agreement) -> AgreementLine:
    version = a.current
    if version is None:
        return AgreementLine(a.id, a.kind, a.title, a.status, "", "", "", None)
    proposer = v.member_names.get(bytes(version.proposer), "a partner")
    accepted = [c.member for c in version.accepted_by]
    consented = f"proposed by {proposer}"
    if a.kind == "recovery_plan":
        consented = f"{proposer}'s own plan"
    elif accepted:
        consented += f", accepted by {_names(v, accepted)}"
    status = a.status.replace("_", " ")
    since = utc_text(version.proposed_at)
    if a.status == "in_force" and version.in_force_since is not None:
        since = utc_text(version.in_force_since)
    if a.expired:
        status = f"ended on {version.expires_on}"
    elif a.status == "withdrawn" and version.withdrawn_by is not None:
        status = f"withdrawn by {_names(v, [version.withdrawn_by.member])}"
        since = utc_text(version.withdrawn_by.at)
    elif a.status == "declined" and version.declined_by:
        status = f"declined by {_names(v, [c.member for c in version.declined_by])}"
        since = utc_text(version.declined_by[-1].at)
    elif a.status == "proposed":
        others = [m for m in v.member_names if m != bytes(version.proposer)]
        waiting = [m for m in others if m not in {bytes(x) for x in accepted}]
        status = f"proposed, waiting for {_names(v, waiting)}" if waiting else "proposed"
    review = ""
    if a.status == "in_force" and a.kind == "agreement":
        review = f"review due on {version.review_on}" if version.review_on else "no review date yet"
        if a.review_due:
            review = f"review due (since {version.review_on})"
    return AgreementLine(a.id, a.kind, a.title, status, since, consented, review, version)


_LEFT_OUT_FACTS = {
    "agreement_declined": "declined",
    "agreement_withdrawn": "withdrew consent",
    "agreement_accepted": "accepted",
    "agreement_reviewed": "reviewed it",
    "agreement_proposed": "proposed a new version",
}


def _with_left_out(v: VerifiedExport, line: AgreementLine) -> AgreementLine:
    """Add the facts of left-out agreement events (who declined, withdrew...) to the
    status: either partner may tell them; only the partner's words stay sealed. They
    rest on the exporter's declaration, and the report says so."""
    if line.version is None:
        return line
    partner = next(
        (n for m, n in v.member_names.items() if m != v.device_members.get(v.exporter)), None
    )
    facts = [
        _LEFT_OUT_FACTS.get(item.kind, "wrote about it")
        for item in v.declaration.left_out
        if item.about is not None and item.about in {bytes(x.id) for x in _versions(line)}
    ]
    if not facts:
        return line
    exporter = v.name_of(v.exporter)
    note = (
        f"{partner or 'the other partner'} {' and '.join(dict.fromkeys(facts))}, "
        f"as {exporter}'s device records it; their words are left out"
    )
    proposed = line.status.startswith("proposed")
    status = note[0].upper() + note[1:] if proposed else f"{line.status}; {note}"
    return AgreementLine(
        line.agreement_id,
        line.kind,
        line.title,
        status,
        line.since,
        line.consented,
        line.review,
        line.version,
    )


def _versions(line: AgreementLine) -> list[AgreementVersion]:
    return [line.version] if line.version is not None else []


def window_words(window: Window) -> str:
    """``Sundays 19:00-20:00 (Europe/London), finances``."""
    hours, minutes = (int(x) for x in window.time.split(":"))
    end_total = (hours * 60 + minutes + window.duration_min) % (24 * 60)
    end = f"{end_total // 60:02d}:{end_total % 60:02d}"
    if window.tz:
        where = window.tz
    else:
        sign = "+" if window.utc_offset_min >= 0 else "-"
        off = abs(window.utc_offset_min)
        where = f"UTC{sign}{off // 60:02d}:{off % 60:02d}"
    text = f"{WEEKDAYS[window.weekday]} {window.time}-{end} ({where})"
    return f"{text}, {window.topic}" if window.topic else text


def circle_lists(circles: ThreeCircles) -> dict[str, list[str]]:
    """Circle → item texts with their definitions, in the writer's order."""
    out: dict[str, list[str]] = {"inner": [], "middle": [], "outer": []}
    if circles.items:
        for item in circles.items:
            text = item.text + (f": {item.definition}" if item.definition else "")
            out[item.circle].append(text)
    else:
        out["inner"], out["middle"], out["outer"] = (
            list(circles.inner),
            list(circles.middle),
            list(circles.outer),
        )
    return out
