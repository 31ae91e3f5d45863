"""How events and views look to people: one line for a terminal, one dict for JSON.

Kept apart from the CLI's argument handling so apps and tests can reuse the same words.
Times are shown in ISO 8601 UTC in JSON and in local time on screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

from client.core.admission_checks import InvalidPayload
from client.core.verify import VerifiedEvent
from client.views.agreements import WithoutEffect
from client.views.fold import JournalItem
from client.views.intimacy_timeline import intimacy_summary
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


def iso_utc(ms: int) -> str:
    """Never raises: a signed time may lie past the year 9999 that datetime can show
    (docs/PROTOCOL.md §9.8). It is then written as what it is, never as another date."""
    try:
        return (
            datetime.fromtimestamp(ms / 1000, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
    except (ValueError, OverflowError, OSError):
        return _beyond_calendar(ms)


_DAY_MS = 86_400_000
CALENDAR_NOON_MS = 43_200_000
"""A date typed without a time (``--when 2027-01-01``) is a calendar date, not a moment.
It is written as that date at 12:00:00.000 UTC and shown as the bare date, so it is the
same date in every time zone (docs/PROTOCOL.md §10.8)."""


def calendar_date_ms(day: str) -> int:
    """The moment that stands for the calendar date ``day`` (YYYY-MM-DD)."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return int(start.timestamp() * 1000) + CALENDAR_NOON_MS


def is_calendar_date(ms: int) -> bool:
    return ms % _DAY_MS == CALENDAR_NOON_MS


def local_time(ms: int) -> str:
    """Never raises, like :func:`iso_utc`. A calendar date shows as that date everywhere;
    a moment shows in this device's time zone."""
    try:
        if is_calendar_date(ms):
            return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")
        return datetime.fromtimestamp(ms / 1000).astimezone().strftime("%Y-%m-%d %H:%M")
    except (ValueError, OverflowError, OSError):
        return _beyond_calendar(ms)


def _beyond_calendar(ms: int) -> str:
    return f"{ms} ms after 1970-01-01 00:00 UTC"


def event_summary(event: VerifiedEvent, names: Names) -> str:
    """A calm, plain sentence about what the event records."""
    p = event.payload
    who = names.author_name(event.author)
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
    return practice_summary(p, who)


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


def practice_summary(p: object, who: str) -> str:
    """Sentences for the practices (agreements, disclosures, check-ins, signals...)."""
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
            return f"{who} {_SIGNAL_WORDS.get(p.level, 'sent a signal')}{_signal_words(p)}"
        case SignalCleared():
            return f"{who} cleared their signal"
        case WindowPostponed():
            return f"{who} postponed a transparency window once"
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


def event_line(event: VerifiedEvent, names: Names, *, had_effect: bool = True) -> str:
    note = "" if had_effect else NO_EFFECT_NOTE
    line = f"{local_time(event.body.recorded_at)}  {event_summary(event, names)}{note}"
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


def _signal_words(p: SignalSent) -> str:
    """Return time (a time-out only), preset and note."""
    back = f", back around {local_time(p.until)}" if p.level == "pause" and p.until else ""
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


def journal_json(item: JournalItem, names: Names) -> dict[str, Any]:
    return {
        "id": item.id.hex(),
        "author": names.member_name(item.author),
        "text": item.text,
        "mood": item.mood,
        "tags": list(item.tags),
        "recorded_at": iso_utc(item.recorded_at),
        "occurred_at": iso_utc(item.occurred_at),
        "amended": item.amended,
        "retracted": item.retracted,
        "history": [
            {"id": v.event_id.hex(), "text": v.text, "recorded_at": iso_utc(v.recorded_at)}
            for v in item.history
        ],
    }


def journal_lines(item: JournalItem, names: Names) -> list[str]:
    flags = []
    if item.amended:
        flags.append("updated")
    if item.retracted:
        flags.append("withdrawn")
    suffix = f" ({', '.join(flags)})" if flags else ""
    mood = f"  mood {item.mood}/5" if item.mood is not None else ""
    tags = f"  #{' #'.join(item.tags)}" if item.tags else ""
    head = (
        f"{local_time(item.recorded_at)}  {names.member_name(item.author)}"
        f"  [{item.id.hex()[:8]}]{suffix}{mood}{tags}"
    )
    return [head, *("    " + line for line in item.text.splitlines() or [""])]


_ACTION_PAST = {
    "accept": "accepted",
    "decline": "declined",
    "withdraw": "withdrew consent",
    "review": "reviewed it",
}


def without_effect_sentence(note: WithoutEffect, names: Names) -> str:
    """An honest event written concurrently with what made it void (§10.5), in words:
    "Alex accepted after Sam had withdrawn; it had no effect"."""
    who = names.member_name(note.member)
    did = _ACTION_PAST.get(note.action, note.action)
    if note.after == "accepted":
        return f"{who} {did} again from another device; it had no effect"
    if note.after == "in_force":
        return f"{who} {did} after it had come into force; it had no effect"
    if note.after == "superseded" or note.after_member is None:
        return f"{who} {did} after another version had come into force; it had no effect"
    first = names.member_name(note.after_member)
    return f"{who} {did} after {first} had {note.after}; it had no effect"


# -- delivery -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """Whether a write saved on this device also reached the relay, and if not why
    (an error code from client/errors.py, or ``timeout``)."""

    delivered: bool
    reason: str | None = None


_NOT_DELIVERED_WHY = {
    "timeout": "the relay did not answer in time",
    "relay_unreachable": "the relay cannot be reached right now",
    "relay_certificate": "the relay's certificate could not be checked",
    "push_refused": "the relay did not take it",
    "relay_refused": "the relay did not take it",
    "not_member": "joining is not finished on this device",
}


SENT_LATER_CLI = "It is sent at the next 'trellis sync'."
SENT_LATER_APP = "It is sent as soon as the relay can be reached."
"""The local app keeps a sync session open, so it sends by itself (client/app)."""


def delivery_sentence(
    outcome: Delivery, *, signal: bool = False, later: str = SENT_LATER_CLI
) -> str:
    """The words after a write: "Delivered." only when the relay has it.

    For a safety signal, never imply the partner has it when they do not: say plainly
    that they do not, and that another way of telling them may be needed.
    """
    if outcome.delivered:
        if signal:
            return "Delivered: your partner sees it as soon as their device is online."
        return "Delivered."
    why = _NOT_DELIVERED_WHY.get(outcome.reason or "", "the relay could not take it now")
    text = f"Saved on this device; not delivered yet: {why}. {later}"
    if signal:
        text += " Your partner does not have it yet; if it matters now, tell them another way."
    return text


def accepted_sentence(status: str) -> str:
    """What an acceptance did, from the agreement's status on this device just after."""
    if status == "in_force":
        return "Accepted. The agreement is now in force for both of you."
    if status == "proposed":
        return (
            "Accepted. It is not in force yet: it comes into force once every partner "
            "has accepted it."
        )
    return (
        "Accepted, but it is not in force: your partner withdrew or replaced it meanwhile "
        "('trellis agreement list' shows where it stands)."
    )


# -- errors -------------------------------------------------------------------------

#: Signs of a message written for programmers: a schema path (`$.window.time`), a
#: validator's "Expected `str` matching regex ...", a class name.
_TECHNICAL = re.compile(r"`\$|\$\.|regex|Expected `|\b[A-Z]\w*(?:Error|Exception)\b|Traceback")
_FIELD = re.compile(r"`\$(?:\.\w+|\[\d+\])*\.(\w+)")


def plain_error(message: str) -> str:
    """The one gate every error message passes before a person reads it.

    Messages are written plain where they are raised; this catches the ones that carry a
    validator's words (a schema path, a regex, a class name) and says instead which value
    was not in a usable form, so nobody reads "Expected `str` matching regex".
    """
    if not _TECHNICAL.search(message):
        return message
    field = _FIELD.search(message)
    what = f"the {field.group(1).replace('_', ' ')}" if field else "a value"
    return (
        f"That cannot be saved: {what} given is not in a form Trellis can use. The "
        "command's --help shows the forms it takes; nothing was written."
    )


_SLIP_FIELDS = (
    ("circle", "circle"),
    ("place", "where"),
    ("mood", "mood (1-5)"),
    ("halt", "hungry, angry, lonely, tired"),
    ("triggers", "triggers"),
    ("warning_signs", "warning signs"),
    ("coping_tried", "what was tried"),
    ("support_contacted", "who was reached"),
    ("next_steps", "next steps"),
)


def disclosure_detail_lines(d: Any, member_name: Any) -> list[str]:
    """Every field of a disclosure beyond its summary, and each response to it."""
    lines = [f"details: {d.details}"] if d.details else []
    if d.slip is not None:
        for name, label in _SLIP_FIELDS:
            value = getattr(d.slip, name)
            if value in (None, [], ()):
                continue
            shown_value = ", ".join(str(v) for v in value) if isinstance(value, list) else value
            lines.append(f"{label}: {shown_value}")
    for ack in d.acknowledgements:
        if ack.response:
            lines.append(f"{member_name(ack.member)} answered: {ack.response}")
    return lines
