"""One event in words: a calm sentence for a terminal, a line for a listing, a dict for
JSON, and what a notification may say (who and what kind, never the words)."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from client.core.admission_checks import InvalidPayload
from client.core.verify import VerifiedEvent
from client.views.intimacy.timeline import intimacy_summary
from client.views.moments import in_zones
from client.views.present.times import iso_utc, local_time
from schemas.payloads import (
    DeviceRevoked,
    InviteIssued,
    JournalAmended,
    JournalEntry,
    JournalRetracted,
    KeyRotated,
    MemberJoined,
    MemberLeft,
    SpaceCreated,
    UnknownPayload,
    payload_kind,
)
from schemas.practices import (
    SIGNAL_PRESETS,
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
    CheckIn,
    DisclosureAcknowledged,
    DisclosureMade,
    ExportConsented,
    GratitudeNoted,
    MilestoneMarked,
    ProfileUpdated,
    SignalCleared,
    SignalSent,
    SobrietyStarted,
    WindowPostponed,
)


class Names(Protocol):
    def author_name(self, device_id: bytes) -> str: ...

    def member_name(self, member_id: bytes) -> str: ...


def event_summary(event: VerifiedEvent, names: Names, *, you: bool = False) -> str:
    """A calm, plain sentence about what the event records. ``you``: the reader wrote
    it. Lines name their writer, the reader too, as a shared record does ("Alex wrote in
    the journal"); a declaration in the first person reads oddly under one's own name,
    so the export consent says "You consented ..." to its writer."""
    p = event.payload
    who = names.author_name(event.author)
    if you and isinstance(p, ExportConsented):
        return f"You consented to an export for {p.recipient}"
    match p:
        case SpaceCreated():
            return f"{p.name} started this shared space"
        case InviteIssued():
            target = "a new device" if p.kind == "device" else "their partner"
            return f"{who} invited {target}"
        case MemberJoined():
            return f"{p.name} joined"
        case JournalEntry():
            return f"{who} wrote in the journal: {p.text}"
        case JournalAmended():
            return f"{who} updated a journal entry: {p.text}"
        case JournalRetracted():
            return f"{who} hid a journal entry from the journal (the history still shows it)"
        case DeviceRevoked():
            return f"{who} removed one of their devices"
        case KeyRotated():
            return f"{who}'s device changed the space's key so removed devices cannot read on"
        case MemberLeft():
            return f"{who} left the space"
        case InvalidPayload():
            return f"{who}'s device wrote something this app set aside (see 'trellis status')"
        case UnknownPayload():
            return f"{who} wrote something this version of Trellis cannot show yet"
    return practice_summary(p, who, event.body.tz)


_SIGNAL_WORDS = {
    "pause": "took a time-out",
    "slow": "asked to slow down",
    "stop": "asked to stop",
}
_DISCLOSURE_WORDS = {
    "therapy_session": "shared about a therapy session",
    "meeting": "shared about a meeting attended",
    "sobriety_milestone": "shared a sobriety milestone",
    "risk": "shared a risk or trigger",
    "slip": "disclosed a slip",
    "relapse": "disclosed a relapse",
    "formal_disclosure": "marked that a formal disclosure took place",
    "other": "shared a disclosure",
}


def practice_summary(p: object, who: str, zone: str | None = None) -> str:
    """Sentences for the practices (agreements, disclosures, check-ins, signals...);
    ``zone`` is the writer's IANA zone (the body's ``tz``), for the moments they chose."""
    match p:
        case ProfileUpdated():
            return f"{who} updated their profile"
        case AgreementProposed() if p.revises is None:
            return f"{who} proposed an agreement: {p.title}"
        case AgreementProposed():
            return f"{who} proposed a revision: {p.title}"
        case AgreementAccepted():
            return f"{who} accepted an agreement"
        case AgreementDeclined():
            return f"{who} declined an agreement"
        case AgreementWithdrawn():
            return f"{who} withdrew consent to an agreement"
        case AgreementReviewed():
            outcome = "to keep it" if p.outcome == "keep" else "to revise it"
            return f"{who} reviewed an agreement and chose {outcome}"
        case DisclosureMade() if p.kind == "formal_disclosure":
            return f"{who} {_DISCLOSURE_WORDS['formal_disclosure']}"
        case DisclosureMade():
            return f"{who} {_DISCLOSURE_WORDS.get(p.kind, 'shared a disclosure')}: {p.summary}"
        case DisclosureAcknowledged() if p.mark == "need_time":
            return f"{who} said they need time with a disclosure"
        case DisclosureAcknowledged():
            return f"{who} marked a disclosure as seen"
        case CheckIn():
            return f"{who} checked in{_checkin_words(p)}"
        case SobrietyStarted():
            return f"{who} set a sobriety start date: {p.date}"
        case MilestoneMarked() if p.kind == "formal_disclosure":
            return f"{who} {_DISCLOSURE_WORDS['formal_disclosure']}"
        case MilestoneMarked():
            return f"{who} marked a milestone: {p.title}"
        case GratitudeNoted():
            return f"{who} noted gratitude: {p.text}"
        case SignalSent():
            said = _signal_words(p, who, zone)
            return f"{who} {_SIGNAL_WORDS.get(p.level, 'sent a signal')}{said}"
        case SignalCleared():
            return f"{who} cleared their signal"
        case WindowPostponed():
            return f"{who} postponed a transparency window once"
        case ExportConsented() if p.expires_at == 0:
            # 'trellis export-consent --withdraw': a consent that ended before any export.
            return f"{who} ended their consent to an export for {p.recipient}"
        case ExportConsented():
            return f"{who} consented to an export for {p.recipient}"
    return intimacy_summary(p, who) or f"{who} wrote an event"


def notice_line(event: VerifiedEvent, names: Names) -> str:
    """What a notification may say: who, and what kind of thing, never its words.

    A notification can be seen on a locked screen or over a shoulder, and a live feed of
    content fuels checking (docs/PROTOCOL.md §10.4): no text, no summary, no note.
    """
    who = names.author_name(event.author)
    kind = payload_kind(event.payload)
    if isinstance(event.payload, SignalSent):
        what = _SIGNAL_WORDS.get(event.payload.level, "sent a signal")
    else:
        what = _NOTICE_WORDS.get(kind, "added something to your shared space")
    return f"{local_time(event.body.recorded_at)}  {who} {what}"


_NOTICE_WORDS = {
    "journal_entry": "wrote in the journal",
    "journal_amended": "updated a journal entry",
    "disclosure": "shared something with you",
    "disclosure_acknowledged": "marked something you shared",
    "check_in": "checked in",
    "gratitude": "noted gratitude",
    "milestone": "marked a milestone",
    "agreement_proposed": "proposed an agreement",
    "signal_cleared": "cleared their signal",
}


def plain(value: Any) -> Any:
    """A payload as JSON-able builtins, with byte strings (event ids) in hex."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, msgspec.Struct):
        return {f: plain(getattr(value, f)) for f in value.__struct_fields__}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


NO_EFFECT_NOTE = " (this had no effect: see 'trellis agreement show' or 'trellis verify')"


def shown(event: VerifiedEvent) -> bool:
    """Whether listings show the event: never one set aside as invalid (§9.8)."""
    return not isinstance(event.payload, InvalidPayload)


def event_line(
    event: VerifiedEvent, names: Names, *, had_effect: bool = True, you: bool = False
) -> str:
    note = "" if had_effect else NO_EFFECT_NOTE
    line = f"{local_time(event.body.recorded_at)}  {event_summary(event, names, you=you)}{note}"
    if isinstance(event.payload, SignalSent):
        # A signal stands out from journal lines, with the id 'trellis signal clear' takes.
        return f"SIGNAL [{event.event_id.hex()[:8]}] {line}"
    return line


_FANOS = (
    ("feelings", "feelings"),
    ("affirmation", "affirmation"),
    ("needs", "needs"),
    ("ownership", "ownership"),
    ("sobriety", "struggles and self-care"),
)


def _checkin_words(p: CheckIn) -> str:
    """A check-in's content: the partner opened the feed to read it."""
    parts = [f"{label}: {getattr(p, name)}" for name, label in _FANOS if getattr(p, name)]
    if p.mood is not None:
        parts.append(f"mood {p.mood} of 5")
    return f" ({'; '.join(parts)})" if parts else ""


def _signal_words(p: SignalSent, who: str, zone: str | None) -> str:
    """Return time (a time-out only; with the sender's clock when it differs), preset
    and note."""
    back = ""
    if p.level == "pause" and p.until:
        back = f", back around {in_zones(p.until, writer=who, writer_zone=zone)}"
    said = [w for w in (SIGNAL_PRESETS.get(p.preset or ""), p.note) if w]
    quoted = "".join(f' "{w}"' for w in said)
    return f"{back}{':' if quoted else ''}{quoted}"


def event_json(event: VerifiedEvent, names: Names, *, had_effect: bool = True) -> dict[str, Any]:
    p = event.payload
    out: dict[str, Any] = {
        "had_effect": had_effect,
        "id": event.event_id.hex(),
        "kind": payload_kind(p),
        "author": names.author_name(event.author),
        "device": event.author.hex(),
        "recorded_at": iso_utc(event.body.recorded_at),
        "occurred_at": iso_utc(event.body.occurred_at),
        "summary": event_summary(event, names),
    }
    if isinstance(p, JournalEntry | JournalAmended):
        out["text"] = p.text
        out["mood"] = p.mood
        out["tags"] = list(p.tags)
    if isinstance(p, JournalAmended | JournalRetracted):
        out["entry"] = p.entry.hex()
    if not isinstance(p, UnknownPayload):
        out["payload"] = plain(p)
    return out
