"""Payloads for the practices partners use (docs/PROTOCOL.md §5.2): agreements,
disclosures, check-ins, sobriety, milestones, gratitude, safety signals.

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
_Date = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", min_length=10, max_length=10)]
_Title = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TITLE_CHARS)]
_Note = Annotated[str, msgspec.Meta(max_length=MAX_NOTE_CHARS)]
_Item = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ITEM_CHARS)]
_Items = Annotated[list[_Item], msgspec.Meta(max_length=MAX_LIST_ITEMS)]
_Clause = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CLAUSE_CHARS)]
_Mood = Annotated[int, msgspec.Meta(ge=1, le=5)]

AgreementKind = Literal["agreement", "recovery_plan", "window"]
Circle = Literal["inner", "middle", "outer"]
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


class ThreeCircles(msgspec.Struct, frozen=True):
    """A recovery plan: what is abstained from, warning signs, healthy behaviours."""

    inner: _Items = msgspec.field(default_factory=list)
    middle: _Items = msgspec.field(default_factory=list)
    outer: _Items = msgspec.field(default_factory=list)


class Window(msgspec.Struct, frozen=True):
    """A recurring time agreed for hard conversations."""

    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    """0 is Monday, as ISO 8601 and Python count."""
    time: Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    """Local wall-clock time, ``HH:MM``, in ``utc_offset_min``."""
    utc_offset_min: Annotated[int, msgspec.Meta(ge=-14 * 60, le=14 * 60)] = 0
    duration_min: Annotated[int, msgspec.Meta(ge=5, le=24 * 60)] = 60
    topic: _Note = ""


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
    disclosure: _EventIdBytes
    response: _Note | None = None


# --- check-ins, sobriety, milestones, gratitude ----------------------------------


class CheckIn(msgspec.Struct, tag="check_in", tag_field="type", frozen=True):
    """FANOS: feelings, affirmation, needs, ownership, sobriety (or struggles)."""

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


class GratitudeNoted(msgspec.Struct, tag="gratitude", tag_field="type", frozen=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTE_CHARS)]


# --- safety signals --------------------------------------------------------------


class SignalSent(msgspec.Struct, tag="signal_sent", tag_field="type", frozen=True):
    """Pause, slow down or stop: a request to step back, delivered live."""

    level: SignalLevel
    until: _Millis | None = None
    """The return time agreed, if any."""
    note: _Note | None = None


class SignalCleared(msgspec.Struct, tag="signal_cleared", tag_field="type", frozen=True):
    """Cleared by the member who sent the signal."""

    signal: _EventIdBytes


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
)
