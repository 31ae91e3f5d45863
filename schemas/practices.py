"""Payloads for the practices partners use (docs/PROTOCOL.md §5.2): agreements,
the recovery plan, disclosures, check-ins, sobriety, milestones, gratitude, safety
signals and transparency windows.

Everything here lives inside the ciphertext; the relay learns nothing new from any of
it. References to other events are their event ids, so the history is a graph of
signed facts that nobody can rewrite: a revision, a withdrawal or an acknowledgement is
always a new event pointing at an old one.

Dates a person picks (a review date, a sobriety start) are ISO 8601 calendar dates
(``YYYY-MM-DD``); moments are milliseconds since the Unix epoch, UTC.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.ids import EVENT_ID_BYTES

MAX_TITLE_CHARS = 200
MAX_CLAUSE_CHARS = 2_000
MAX_CLAUSES = 50
MAX_NOTE_CHARS = 5_000
MAX_LIST_ITEMS = 30
MAX_ITEM_CHARS = 300

_EventIdBytes = Annotated[bytes, msgspec.Meta(min_length=EVENT_ID_BYTES, max_length=EVENT_ID_BYTES)]
_Millis = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
_Date = Annotated[
    str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", min_length=10, max_length=10)
]
"""ASCII digits only: ``\\d`` would take any script's digits, and the fold compares dates
as text (docs/PROTOCOL.md §5.18)."""
_Title = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TITLE_CHARS)]
_Note = Annotated[str, msgspec.Meta(max_length=MAX_NOTE_CHARS)]
_Item = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ITEM_CHARS)]
_Items = Annotated[list[_Item], msgspec.Meta(max_length=MAX_LIST_ITEMS)]
_Clause = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CLAUSE_CHARS)]
_Mood = Annotated[int, msgspec.Meta(ge=1, le=5)]

AgreementKind = Literal["agreement", "recovery_plan", "window"]
Circle = Literal["inner", "middle", "outer"]
SlipCircle = Literal["inner", "middle"]
"""The circles a slip may name. ``outer`` (healthy behaviour) is not one: it stays in
:data:`Circle` only so histories written before this rule still decode; readers fold such
a report as changing nothing (docs/PROTOCOL.md §10.4)."""
MiddleType = Literal["trigger", "warning_sign", "risky_behaviour", "other"]
"""What kind of middle-circle item it is (a risk, never a break of sobriety)."""
ReviewedWith = Literal["sponsor", "therapist"]
Binds = Literal["me", "you", "both"]
"""Whom a clause binds, from its proposer's side: ``me`` is the proposer."""
DisclosureMark = Literal["seen", "need_time"]
MilestoneKind = Literal["milestone", "formal_disclosure"]
SignalPreset = Literal["flooded", "will_return", "care_about_you", "need_to_stop"]
SIGNAL_PRESETS: dict[str, str] = {
    "flooded": "I'm flooded and need a break.",
    "will_return": "I want to come back to this.",
    "care_about_you": "I care about you; I need a pause.",
    "need_to_stop": "I need to stop now.",
}
"""Preset notes offered beside free text, in the words every reader shows."""
TIMEOUT_DEFAULT_MIN = 20
"""A time-out (``pause``) without a return time returns after this many minutes."""
TIMEOUT_MAX_MIN = 24 * 60
"""A time-out's return is at most this far after it was sent."""
MAX_POSTPONE_MIN = 7 * 24 * 60
"""A window occurrence can be moved at most a week later."""
DisclosureKind = Literal[
    "therapy_session",
    "meeting",
    "sobriety_milestone",
    "risk",
    "slip",
    "relapse",
    "formal_disclosure",
    "other",
]
DISCLOSURE_KINDS: tuple[str, ...] = (
    "therapy_session",
    "meeting",
    "sobriety_milestone",
    "risk",
    "slip",
    "relapse",
    "formal_disclosure",
    "other",
)
Halt = Literal["hungry", "angry", "lonely", "tired"]
SignalLevel = Literal["pause", "slow", "stop"]
ReviewOutcome = Literal["keep", "revise"]


# --- profile ---------------------------------------------------------------------


class ProfileUpdated(msgspec.Struct, tag="profile_updated", tag_field="type", frozen=True):
    """A member's own description of themselves; applies to all their devices."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)] | None = None
    in_recovery: bool | None = None
    """Whether this member is the partner in recovery (writes disclosures and keeps a
    sobriety count). Both partners may be."""


# --- agreements ------------------------------------------------------------------


class CircleItem(msgspec.Struct, frozen=True):
    """One item of a recovery plan, with what it means to the person who wrote it."""

    circle: Circle
    text: _Item
    definition: _Note | None = None
    """What exactly counts, in the writer's words (SAA: each member defines their own)."""
    type: MiddleType | None = None
    """For the middle circle: a trigger, a warning sign, a risky behaviour."""
    reviewed_with: Annotated[list[ReviewedWith], msgspec.Meta(max_length=2)] = msgspec.field(
        default_factory=list
    )
    """Who the writer went over this item with."""


class ThreeCircles(msgspec.Struct, frozen=True):
    """A recovery plan: what is abstained from, warning signs, healthy behaviours.

    ``inner``, ``middle`` and ``outer`` hold the items' texts (what older readers show);
    ``items`` holds the same items with their definitions. When ``items`` is not empty
    it is the plan; the three lists are then a summary of it."""

    inner: _Items = msgspec.field(default_factory=list)
    middle: _Items = msgspec.field(default_factory=list)
    outer: _Items = msgspec.field(default_factory=list)
    items: Annotated[list[CircleItem], msgspec.Meta(max_length=3 * MAX_LIST_ITEMS)] = msgspec.field(
        default_factory=list
    )


# No pattern: a name this reader's time-zone database does not know is not an error,
# it falls back to ``utc_offset_min`` (docs/PROTOCOL.md §10.4).
_TzName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class Window(msgspec.Struct, frozen=True):
    """A recurring time agreed for hard conversations."""

    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    """0 is Monday, as ISO 8601 and Python count."""
    time: Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", max_length=5)]
    """Local wall-clock time, ``HH:MM``, in ``tz`` (or ``utc_offset_min`` without one)."""
    utc_offset_min: Annotated[int, msgspec.Meta(ge=-14 * 60, le=14 * 60)] = 0
    """The offset when the window was written; used only when ``tz`` is None or unknown
    to the reader (a fixed offset drifts at daylight saving)."""
    duration_min: Annotated[int, msgspec.Meta(ge=5, le=24 * 60)] = 60
    topic: _Note = ""
    tz: _TzName | None = None
    """IANA time-zone name (``Europe/London``): the wall clock the partners agreed on."""


class AgreementProposed(msgspec.Struct, tag="agreement_proposed", tag_field="type", frozen=True):
    """A version of an agreement. Its event id names the version; the agreement's id
    is the event id of its first version (the one with no ``revises``)."""

    title: _Title
    clauses: Annotated[list[_Clause], msgspec.Meta(max_length=MAX_CLAUSES)]
    revises: _EventIdBytes | None = None
    """The version this one revises; None starts a new agreement."""
    kind: AgreementKind = "agreement"
    review_on: _Date | None = None
    expires_on: _Date | None = None
    circles: ThreeCircles | None = None
    """For ``kind == "recovery_plan"``."""
    window: Window | None = None
    """For ``kind == "window"``."""
    binds: Annotated[list[Binds], msgspec.Meta(max_length=MAX_CLAUSES)] = msgspec.field(
        default_factory=list
    )
    """Whom each clause binds, in the order of ``clauses`` (one entry per clause), from
    the proposer's side; empty in versions written before clauses said so."""


class AgreementAccepted(msgspec.Struct, tag="agreement_accepted", tag_field="type", frozen=True):
    version: _EventIdBytes
    note: _Note | None = None


class AgreementDeclined(msgspec.Struct, tag="agreement_declined", tag_field="type", frozen=True):
    version: _EventIdBytes
    reason: _Note | None = None


class AgreementWithdrawn(msgspec.Struct, tag="agreement_withdrawn", tag_field="type", frozen=True):
    """Consent withdrawn by either partner: effective at once, no reason required."""

    version: _EventIdBytes
    reason: _Note | None = None


class AgreementReviewed(msgspec.Struct, tag="agreement_reviewed", tag_field="type", frozen=True):
    version: _EventIdBytes
    outcome: ReviewOutcome
    note: _Note | None = None
    next_review_on: _Date | None = None


# --- disclosures -----------------------------------------------------------------


class SlipReport(msgspec.Struct, frozen=True):
    """The structured part of a slip or relapse disclosure. When it happened is the
    event's ``occurred_at``; when it was disclosed is its ``recorded_at``."""

    circle: Circle | None = None
    place: _Note | None = None
    mood: _Mood | None = None
    halt: Annotated[list[Halt], msgspec.Meta(max_length=4)] = msgspec.field(default_factory=list)
    triggers: _Items = msgspec.field(default_factory=list)
    warning_signs: _Items = msgspec.field(default_factory=list)
    coping_tried: _Items = msgspec.field(default_factory=list)
    support_contacted: _Items = msgspec.field(default_factory=list)
    next_steps: _Items = msgspec.field(default_factory=list)


class DisclosureMade(msgspec.Struct, tag="disclosure", tag_field="type", frozen=True):
    kind: DisclosureKind
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TITLE_CHARS)]
    details: _Note | None = None
    slip: SlipReport | None = None
    """Only for kinds ``slip`` and ``relapse``."""


class DisclosureAcknowledged(
    msgspec.Struct, tag="disclosure_acknowledged", tag_field="type", frozen=True
):
    """The partner's own mark on a disclosure: "seen", or "I need time". Never asked
    for, never counted as missing."""

    disclosure: _EventIdBytes
    response: _Note | None = None
    mark: DisclosureMark = "seen"


# --- check-ins, sobriety, milestones, gratitude ----------------------------------


class CheckIn(msgspec.Struct, tag="check_in", tag_field="type", frozen=True):
    """FANOS, prepared in writing: feelings; affirmation; needs (not necessarily met by
    the partner); ownership (something I said or did, with an apology); and
    ``sobriety``, the S, which is struggles and self-care for either partner. The
    listener gives no feedback: there is nothing to answer."""

    feelings: _Note | None = None
    affirmation: _Note | None = None
    needs: _Note | None = None
    ownership: _Note | None = None
    sobriety: _Note | None = None
    mood: _Mood | None = None


class SobrietyStarted(msgspec.Struct, tag="sobriety_started", tag_field="type", frozen=True):
    """The date a sober run is counted from; a later one replaces an earlier one."""

    date: _Date
    label: Annotated[str, msgspec.Meta(max_length=80)] = ""


class MilestoneMarked(msgspec.Struct, tag="milestone", tag_field="type", frozen=True):
    title: _Title
    note: _Note | None = None
    kind: MilestoneKind = "milestone"
    """``formal_disclosure`` marks that a formal disclosure took place (in the
    therapist's office); it carries no content and readers show none."""


class GratitudeNoted(msgspec.Struct, tag="gratitude", tag_field="type", frozen=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTE_CHARS)]


# --- safety signals --------------------------------------------------------------


class SignalSent(msgspec.Struct, tag="signal_sent", tag_field="type", frozen=True):
    """A request to step back, delivered live. ``pause`` is a conversation time-out: it
    has a return (``until``; :data:`TIMEOUT_DEFAULT_MIN` minutes when absent, at most
    :data:`TIMEOUT_MAX_MIN`). ``stop`` owes no return (``until`` is not read).
    ``slow`` asks to slow down."""

    level: SignalLevel
    until: _Millis | None = None
    """The time-out's return time."""
    note: _Note | None = None
    preset: SignalPreset | None = None
    """A preset note (:data:`SIGNAL_PRESETS`), offered beside free text."""


class SignalCleared(msgspec.Struct, tag="signal_cleared", tag_field="type", frozen=True):
    """Cleared by the member who sent the signal."""

    signal: _EventIdBytes


class WindowPostponed(msgspec.Struct, tag="window_postponed", tag_field="type", frozen=True):
    """Moves one occurrence of a window in force; either partner, once per occurrence."""

    window: _EventIdBytes
    """The window agreement's version in force."""
    occurrence: _Millis
    """The start being moved, as scheduled."""
    to: _Millis
    """The new start: after ``occurrence``, at most :data:`MAX_POSTPONE_MIN` later."""
    note: _Note | None = None


# --- exports -----------------------------------------------------------------------

MAX_RECIPIENT_CHARS = 200
MAX_PURPOSE_CHARS = 500
MAX_LEFT_OUT = 500


class LeftOut(msgspec.Struct, frozen=True):
    """An event an export leaves sealed because it holds the other partner's own words
    and that partner has not consented: its id and what kind of event it is."""

    event: _EventIdBytes
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    about: _EventIdBytes | None = None
    """For an agreement event, the version it names: that it happened is a fact of the
    timeline either partner may tell; only the words are left out."""


class ExportConsented(msgspec.Struct, tag="export_consented", tag_field="type", frozen=True):
    """A partner's yes to an export: that what they wrote in their own words may be
    shown to ``recipient`` for ``purpose`` until ``expires_at`` (docs/PROTOCOL.md
    "Exports", "Consent"). The exporter writes one too, declaring the export's
    recipient, purpose and end, with the events it ``left_out`` for lack of consent.
    It counts only for an export with the same recipient and purpose (compared after
    trimming and case-folding), made before it expires."""

    recipient: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_RECIPIENT_CHARS)]
    purpose: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PURPOSE_CHARS)]
    expires_at: _Millis
    left_out: Annotated[list[LeftOut], msgspec.Meta(max_length=MAX_LEFT_OUT)] = msgspec.field(
        default_factory=list
    )


PRACTICE_TYPES: tuple[type[msgspec.Struct], ...] = (
    ProfileUpdated,
    AgreementProposed,
    AgreementAccepted,
    AgreementDeclined,
    AgreementWithdrawn,
    AgreementReviewed,
    DisclosureMade,
    DisclosureAcknowledged,
    CheckIn,
    SobrietyStarted,
    MilestoneMarked,
    GratitudeNoted,
    SignalSent,
    SignalCleared,
    WindowPostponed,
    ExportConsented,
)
