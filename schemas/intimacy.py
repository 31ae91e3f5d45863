"""Payloads for the intimacy practices (docs/PROTOCOL.md §5.11-§5.16): the pacing plan,
intimacy check-ins, the shared language, personal boundaries, preparing a formal
disclosure, and private notes.

Everything here lives inside the ciphertext; the relay learns nothing new from any of
it. No practice here obliges anyone to anything: a pacing step back, a withdrawn term
and a withdrawn boundary take effect at once and need no reason, so none of these
payloads has a field for one.

Private notes (:class:`PrivateNote`, and a :class:`IntimacyCheckIn` kept private) are
never written to the shared space: they go to the writer's *private space*, a separate
space at the relay that only the writer's devices know (§5.16).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.ids import EVENT_ID_BYTES

MAX_STAGES = 20
MAX_STAGE_TITLE_CHARS = 120
MAX_TERM_CHARS = 80
MAX_INTIMACY_NOTE_CHARS = 5_000
MAX_ITEMS = 30
MAX_ITEM_CHARS = 300
MAX_QUESTIONS = 100
MAX_QUESTION_CHARS = 1_000
MAX_PRIVATE_NOTE_CHARS = 20_000
PACING_OFFER_TTL_MS = 48 * 3600 * 1000
"""A forward offer not accepted within 48 hours lapses: silence is not a yes."""

_EventIdBytes = Annotated[bytes, msgspec.Meta(min_length=EVENT_ID_BYTES, max_length=EVENT_ID_BYTES)]
_Date = Annotated[
    str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", min_length=10, max_length=10)
]
"""ASCII digits only: ``\\d`` would take any script's digits, and the fold compares dates
as text (docs/PROTOCOL.md §5.18)."""
_Note = Annotated[str, msgspec.Meta(max_length=MAX_INTIMACY_NOTE_CHARS)]
_Item = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ITEM_CHARS)]
_Items = Annotated[list[_Item], msgspec.Meta(max_length=MAX_ITEMS)]
_StageIndex = Annotated[int, msgspec.Meta(ge=0, le=MAX_STAGES - 1)]
_Level = Annotated[int, msgspec.Meta(ge=0, le=4)]
"""Five worded levels, 0 to 4; the words are in docs/PROTOCOL.md §5.12."""

TermKind = Literal["stop", "slow", "check", "ok", "desire"]
TERM_KINDS: tuple[str, ...] = ("stop", "slow", "check", "ok", "desire")
Desire = Literal["none", "responsive", "curious", "wanting"]
BoundaryArea = Literal[
    "physical", "sexual", "talking", "listening", "digital", "financial", "other"
]
BOUNDARY_AREAS: tuple[str, ...] = (
    "physical",
    "sexual",
    "talking",
    "listening",
    "digital",
    "financial",
    "other",
)
DetailWanted = Literal["overview", "some", "full"]


# --- pacing plan (§5.11) -----------------------------------------------------------


class PacingStage(msgspec.Struct, frozen=True):
    """One stage of a pacing plan, in the couple's own words."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_STAGE_TITLE_CHARS)]
    includes: _Items = msgspec.field(default_factory=list)
    excludes: _Items = msgspec.field(default_factory=list)
    min_days: Annotated[int, msgspec.Meta(ge=0, le=3650)] | None = None
    """A suggested least time in this stage; never enforced, never a countdown."""


class PacingPlanProposed(msgspec.Struct, tag="pacing_plan_proposed", tag_field="type", frozen=True):
    """A version of the couple's pacing plan; in use once both have accepted it (the
    proposer's own proposal counts as their acceptance). One plan per space: a version
    with ``revises`` replaces the plan in use when both accept it."""

    stages: Annotated[list[PacingStage], msgspec.Meta(min_length=1, max_length=MAX_STAGES)]
    revises: _EventIdBytes | None = None


class PacingPlanAccepted(msgspec.Struct, tag="pacing_plan_accepted", tag_field="type", frozen=True):
    version: _EventIdBytes


class PacingForwardProposed(
    msgspec.Struct, tag="pacing_forward_proposed", tag_field="type", frozen=True
):
    """An offer to move from stage ``from_stage`` to the next one of plan ``version``.

    Needs the other partner's :class:`PacingForwardAccepted` within 48 hours."""

    version: _EventIdBytes
    from_stage: _StageIndex


class PacingForwardAccepted(
    msgspec.Struct, tag="pacing_forward_accepted", tag_field="type", frozen=True
):
    offer: _EventIdBytes


class PacingForwardDeclined(
    msgspec.Struct, tag="pacing_forward_declined", tag_field="type", frozen=True
):
    """A calm "not now"; no reason field, none owed."""

    offer: _EventIdBytes


class PacingSteppedBack(msgspec.Struct, tag="pacing_stepped_back", tag_field="type", frozen=True):
    """Either partner, alone, at once: the plan moves back to ``to_stage``. No reason
    field exists, because none is owed."""

    to_stage: _StageIndex


# --- intimacy check-ins (§5.12) -------------------------------------------------------


class IntimacyCheckIn(msgspec.Struct, tag="intimacy_check_in", tag_field="type", frozen=True):
    """How the writer is, for themselves; every field optional. Information, never a
    request. Written to the shared space only when its writer chose to share it."""

    comfort: _Level | None = None
    desire: Desire | None = None
    arousal: _Level | None = None
    fatigue: _Level | None = None
    note: _Note | None = None


# --- shared language (§5.13) ----------------------------------------------------------


class TermProposed(msgspec.Struct, tag="term_proposed", tag_field="type", frozen=True):
    """A word or cue and what it means; in use once both have accepted this version."""

    term: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TERM_CHARS)]
    meaning: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ITEM_CHARS)]
    kind: TermKind
    gesture: bool = False
    """True when the cue is a gesture or sound rather than a spoken word."""
    revises: _EventIdBytes | None = None


class TermAccepted(msgspec.Struct, tag="term_accepted", tag_field="type", frozen=True):
    version: _EventIdBytes


class TermWithdrawn(msgspec.Struct, tag="term_withdrawn", tag_field="type", frozen=True):
    """Either partner, at once, no reason owed: the entry is no longer in use."""

    version: _EventIdBytes


# --- personal boundaries (§5.14) ------------------------------------------------------


class BoundarySet(msgspec.Struct, tag="boundary_set", tag_field="type", frozen=True):
    """ "If ``when`` happens, I will ``i_will``": what its owner will do. Needs nobody's
    consent; the partner can only acknowledge having read it."""

    area: BoundaryArea
    i_will: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ITEM_CHARS)]
    when: Annotated[str, msgspec.Meta(max_length=MAX_ITEM_CHARS)] = ""
    why: _Note | None = None
    non_negotiable: bool = False
    review_on: _Date | None = None
    revises: _EventIdBytes | None = None


class BoundaryWithdrawn(msgspec.Struct, tag="boundary_withdrawn", tag_field="type", frozen=True):
    version: _EventIdBytes


class BoundaryAcknowledged(
    msgspec.Struct, tag="boundary_acknowledged", tag_field="type", frozen=True
):
    """The partner has read this version. Not agreement, not consent."""

    version: _EventIdBytes


# --- preparing a formal disclosure (§5.15) --------------------------------------------


class DisclosurePrepared(msgspec.Struct, tag="disclosure_prepared", tag_field="type", frozen=True):
    """What the betrayed partner wants from a formal disclosure; a later version
    (``revises``) replaces it."""

    questions: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_QUESTION_CHARS)]],
        msgspec.Meta(max_length=MAX_QUESTIONS),
    ] = msgspec.field(default_factory=list)
    detail_wanted: DetailWanted = "overview"
    topics_not_to_hear: _Items = msgspec.field(default_factory=list)
    safety_needs: _Items = msgspec.field(default_factory=list)
    """For example STI testing, money, legal questions."""
    support_plan: _Note | None = None
    revises: _EventIdBytes | None = None


class QuestionMark(msgspec.Struct, frozen=True):
    index: Annotated[int, msgspec.Meta(ge=0, le=MAX_QUESTIONS - 1)]
    answered: bool


class DisclosureQuestionsMarked(
    msgspec.Struct, tag="disclosure_questions_marked", tag_field="type", frozen=True
):
    """Refers a disclosure to a preparation and marks its questions answered or not."""

    preparation: _EventIdBytes
    marks: Annotated[list[QuestionMark], msgspec.Meta(max_length=MAX_QUESTIONS)]
    disclosure: _EventIdBytes | None = None
    """The formal disclosure (a ``disclosure`` event) this answers, if it is logged."""


# --- private notes (§5.16) ------------------------------------------------------------


class PrivateNote(msgspec.Struct, tag="private_note", tag_field="type", frozen=True):
    """Only ever written to the writer's private space."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PRIVATE_NOTE_CHARS)]
    tags: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=40)]],
        msgspec.Meta(max_length=20),
    ] = msgspec.field(default_factory=list)


class PrivateNoteShared(msgspec.Struct, tag="private_note_shared", tag_field="type", frozen=True):
    """Private-space record that a note was copied into the shared space."""

    note: _EventIdBytes
    shared_as: _EventIdBytes


class PrivateNoteDeleted(msgspec.Struct, tag="private_note_deleted", tag_field="type", frozen=True):
    """Hides a private note from the writer's own views."""

    note: _EventIdBytes


SHARED_INTIMACY_TYPES: tuple[type[msgspec.Struct], ...] = (
    PacingPlanProposed,
    PacingPlanAccepted,
    PacingForwardProposed,
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingSteppedBack,
    IntimacyCheckIn,
    TermProposed,
    TermAccepted,
    TermWithdrawn,
    BoundarySet,
    BoundaryWithdrawn,
    BoundaryAcknowledged,
    DisclosurePrepared,
    DisclosureQuestionsMarked,
)
PRIVATE_ONLY_TYPES: tuple[type[msgspec.Struct], ...] = (
    PrivateNote,
    PrivateNoteShared,
    PrivateNoteDeleted,
)
INTIMACY_TYPES: tuple[type[msgspec.Struct], ...] = SHARED_INTIMACY_TYPES + PRIVATE_ONLY_TYPES
