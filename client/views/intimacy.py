"""The intimacy practices as views, sans-I/O (docs/PROTOCOL.md §5.11-§5.15).

Theory of operation: as client/views/recovery.py. Each fold reads accepted events in causal
order with the membership admission established, attributes each event to the member
(not the device), and reports an event that breaks its practice's rule as a
:class:`~client.views.recovery.PracticeViolation` for ``trellis verify``, keeping it in the
log. The moment is never read here.

* :func:`fold_pacing` (client/views/intimacy_pacing.py): the plan, its stage, every move.
* :func:`fold_intimacy_checkins`: shared intimacy check-ins.
* :func:`fold_language`: the shared language, versioned like agreements.
* :func:`fold_boundaries`: personal boundaries with their acknowledgements.
* :func:`fold_preparations`: formal-disclosure preparation and answered questions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from client.core.verify import Membership, VerifiedEvent
from client.views.intimacy_pacing import PacingMove, PacingView, fold_pacing
from client.views.recovery.records import authored
from client.views.recovery.violations import PracticeViolation
from schemas.ids import EventId, MemberId
from schemas.intimacy import (
    BoundaryAcknowledged,
    BoundarySet,
    BoundaryWithdrawn,
    DisclosurePrepared,
    DisclosureQuestionsMarked,
    IntimacyCheckIn,
    PrivateNote,
    PrivateNoteDeleted,
    PrivateNoteShared,
    TermAccepted,
    TermProposed,
    TermWithdrawn,
)

__all__ = [
    "ALWAYS_STOP",
    "BoundaryView",
    "IntimacyCheckInView",
    "IntimacyViews",
    "PacingMove",
    "PacingView",
    "PreparationView",
    "TermView",
    "build_intimacy_views",
    "fold_boundaries",
    "fold_intimacy_checkins",
    "fold_language",
    "fold_pacing",
    "fold_preparations",
    "looks_like_request",
]

ALWAYS_STOP: tuple[str, ...] = ("stop", "no", "silence", "freezing")
"""Cues that always mean stop, whatever the shared language says (§5.13)."""
SIGNAL_TERM_KINDS: dict[str, tuple[str, ...]] = {
    "pause": ("check",),
    "slow": ("slow",),
    "stop": ("stop",),
}
"""Which entries of the shared language each safety signal links to (§5.13)."""
_REQUEST_OPENINGS = ("you must", "you will", "you have to", "you need to", "you should")


# --- intimacy check-ins ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntimacyCheckInView:
    id: EventId
    author: MemberId
    recorded_at: int
    comfort: int | None
    desire: str | None
    arousal: int | None
    fatigue: int | None
    note: str | None


def checkin_view(event: VerifiedEvent, author: MemberId, p: IntimacyCheckIn) -> IntimacyCheckInView:
    return IntimacyCheckInView(
        event.event_id,
        author,
        event.body.recorded_at,
        p.comfort,
        p.desire,
        p.arousal,
        p.fatigue,
        p.note,
    )


def fold_intimacy_checkins(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> list[IntimacyCheckInView]:
    """Shared intimacy check-ins, in causal order. No averages, no comparisons."""
    return [
        checkin_view(event, member.member_id, event.payload)
        for event, member in authored(ordered, membership)
        if isinstance(event.payload, IntimacyCheckIn)
    ]


# --- shared language -------------------------------------------------------------


@dataclass
class TermVersion:
    id: EventId
    proposer: MemberId
    term: str
    meaning: str
    kind: str
    gesture: bool
    recorded_at: int
    accepted_by: set[MemberId] = field(default_factory=set)
    withdrawn: bool = False


@dataclass
class TermView:
    """One entry of the shared language: every version, and the one in use if any."""

    id: EventId
    versions: list[TermVersion] = field(default_factory=list)
    in_use: TermVersion | None = None
    withdrawn_by: MemberId | None = None
    withdrawn_at: int | None = None

    @property
    def latest(self) -> TermVersion:
        return self.versions[-1]


def _redefines_stop(p: TermProposed) -> bool:
    return p.term.strip().lower() in ALWAYS_STOP and p.kind != "stop"


def fold_language(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> tuple[list[TermView], list[PracticeViolation]]:
    """The shared language. A version is in use once both partners accepted it (the
    proposer by proposing); a newer version in use replaces the older. Either partner's
    withdrawal takes the entry out of use at once, with every version then pending. A
    proposal that gives "stop", "no", silence or freezing another meaning never comes
    into use (``stop_cannot_be_redefined``)."""
    entries: dict[EventId, TermView] = {}
    version_entry: dict[EventId, TermView] = {}
    versions: dict[EventId, TermVersion] = {}
    violations: list[PracticeViolation] = []
    needed = max(2, len(membership.members))
    for event, member in authored(ordered, membership):
        p = event.payload
        who = member.member_id
        if isinstance(p, TermProposed):
            if _redefines_stop(p):
                violations.append(
                    PracticeViolation(
                        event.event_id,
                        "stop_cannot_be_redefined",
                        f"'{p.term}' always means stop and cannot be given another meaning",
                    )
                )
                continue
            entry = (
                entries.get(EventId(event.event_id))
                if p.revises is None
                else version_entry.get(EventId(p.revises))
            )
            if p.revises is not None and entry is None:
                violations.append(
                    PracticeViolation(event.event_id, "unknown_term", "revises an unknown entry")
                )
                continue
            if entry is None:
                entry = entries[event.event_id] = TermView(event.event_id)
            version = TermVersion(
                event.event_id,
                who,
                p.term,
                p.meaning,
                p.kind,
                p.gesture,
                event.body.recorded_at,
                {who},
            )
            entry.versions.append(version)
            versions[event.event_id] = version
            version_entry[event.event_id] = entry
        elif isinstance(p, TermAccepted | TermWithdrawn):
            target = versions.get(EventId(p.version))
            if target is None:
                violations.append(
                    PracticeViolation(event.event_id, "unknown_term", "refers to an unknown entry")
                )
                continue
            entry = version_entry[target.id]
            if isinstance(p, TermWithdrawn):
                for v in entry.versions:
                    if v is entry.in_use or not _in_use_once(v, needed):
                        v.withdrawn = True
                entry.in_use = None
                entry.withdrawn_by, entry.withdrawn_at = who, event.body.recorded_at
                continue
            if target.withdrawn:
                continue
            target.accepted_by.add(who)
            if _in_use_once(target, needed):
                entry.in_use = target
                entry.withdrawn_by = entry.withdrawn_at = None
    return list(entries.values()), violations


def _in_use_once(version: TermVersion, needed: int) -> bool:
    return len(version.accepted_by) >= needed


def terms_for_signal(terms: list[TermView], level: str) -> list[TermVersion]:
    """The entries in use that a safety signal links to (§5.13)."""
    kinds = SIGNAL_TERM_KINDS.get(level, ())
    return [t.in_use for t in terms if t.in_use is not None and t.in_use.kind in kinds]


# --- personal boundaries ---------------------------------------------------------


@dataclass
class BoundaryVersion:
    id: EventId
    payload: BoundarySet
    recorded_at: int
    acknowledged_by: dict[MemberId, int] = field(default_factory=dict)


@dataclass
class BoundaryView:
    id: EventId
    owner: MemberId
    versions: list[BoundaryVersion] = field(default_factory=list)
    withdrawn_at: int | None = None

    @property
    def current(self) -> BoundaryVersion:
        return self.versions[-1]

    @property
    def request_like(self) -> bool:
        return looks_like_request(self.current.payload.i_will)


def looks_like_request(text: str) -> bool:
    """A boundary says what its owner will do; "You must..." reads as a demand on the
    partner, and the views gently point that out (§5.14)."""
    return text.strip().lower().startswith(_REQUEST_OPENINGS)


def fold_boundaries(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> tuple[list[BoundaryView], list[PracticeViolation]]:
    """Boundaries with every version; only the owner revises or withdraws one, only the
    other partner acknowledges reading it. A withdrawn boundary stays in the history."""
    boundaries: dict[EventId, BoundaryView] = {}
    of_version: dict[EventId, tuple[BoundaryView, BoundaryVersion]] = {}
    violations: list[PracticeViolation] = []

    def flag(event: VerifiedEvent, code: str, message: str) -> None:
        violations.append(PracticeViolation(event.event_id, code, message))

    for event, member in authored(ordered, membership):
        p = event.payload
        who = member.member_id
        if isinstance(p, BoundarySet):
            if p.revises is None:
                view = boundaries[event.event_id] = BoundaryView(event.event_id, who)
            else:
                found = of_version.get(EventId(p.revises))
                if found is None:
                    flag(event, "unknown_boundary", "revises a boundary that is not here")
                    continue
                view = found[0]
                if view.owner != who:
                    flag(event, "not_boundary_owner", "revises the partner's boundary")
                    continue
                view.withdrawn_at = None
            version = BoundaryVersion(event.event_id, p, event.body.recorded_at)
            view.versions.append(version)
            of_version[event.event_id] = (view, version)
        elif isinstance(p, BoundaryWithdrawn | BoundaryAcknowledged):
            found = of_version.get(EventId(p.version))
            if found is None:
                flag(event, "unknown_boundary", "refers to a boundary that is not here")
                continue
            view, version = found
            if isinstance(p, BoundaryWithdrawn):
                if view.owner != who:
                    flag(event, "not_boundary_owner", "withdraws the partner's boundary")
                    continue
                view.withdrawn_at = event.body.recorded_at
            elif view.owner == who:
                flag(event, "acknowledge_own_boundary", "acknowledges the author's own boundary")
            else:
                version.acknowledged_by.setdefault(who, event.body.recorded_at)
    return list(boundaries.values()), violations


# --- formal-disclosure preparation -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Mark:
    answered: bool
    by: MemberId
    at: int
    disclosure: EventId | None


@dataclass
class PreparationView:
    id: EventId
    owner: MemberId
    current: DisclosurePrepared
    version_id: EventId
    recorded_at: int
    versions: list[EventId] = field(default_factory=list)
    marks: dict[EventId, dict[int, Mark]] = field(default_factory=dict)
    """Per version: each question's latest mark."""

    def mark_of(self, index: int) -> Mark | None:
        return self.marks.get(self.version_id, {}).get(index)


def fold_preparations(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> tuple[list[PreparationView], list[PracticeViolation]]:
    """Preparations for a formal disclosure. Only the partner who wrote one revises it;
    either partner marks its questions answered or not, and the latest mark of each
    question counts (both marks stay in the history)."""
    preps: dict[EventId, PreparationView] = {}
    of_version: dict[EventId, PreparationView] = {}
    violations: list[PracticeViolation] = []
    for event, member in authored(ordered, membership):
        p = event.payload
        who = member.member_id
        if isinstance(p, DisclosurePrepared):
            if p.revises is None:
                view = preps[event.event_id] = PreparationView(
                    event.event_id, who, p, event.event_id, event.body.recorded_at
                )
            else:
                found = of_version.get(EventId(p.revises))
                if found is None or found.owner != who:
                    code = "unknown_preparation" if found is None else "not_preparation_owner"
                    violations.append(
                        PracticeViolation(event.event_id, code, "revises a preparation it may not")
                    )
                    continue
                view = found
                view.current, view.version_id = p, event.event_id
                view.recorded_at = event.body.recorded_at
            view.versions.append(event.event_id)
            of_version[event.event_id] = view
        elif isinstance(p, DisclosureQuestionsMarked):
            target = of_version.get(EventId(p.preparation))
            if target is None:
                violations.append(
                    PracticeViolation(
                        event.event_id, "unknown_preparation", "marks an unknown preparation"
                    )
                )
                continue
            marks = target.marks.setdefault(EventId(p.preparation), {})
            disclosure = None if p.disclosure is None else EventId(p.disclosure)
            for m in p.marks:
                marks[m.index] = Mark(m.answered, who, event.body.recorded_at, disclosure)
    return list(preps.values()), violations


# --- all of them -----------------------------------------------------------------


@dataclass
class IntimacyViews:
    pacing: PacingView
    checkins: list[IntimacyCheckInView]
    language: list[TermView]
    boundaries: list[BoundaryView]
    preparations: list[PreparationView]
    violations: list[PracticeViolation]


def build_intimacy_views(ordered: list[VerifiedEvent], membership: Membership) -> IntimacyViews:
    pacing = fold_pacing(ordered, membership)
    language, language_violations = fold_language(ordered, membership)
    boundaries, boundary_violations = fold_boundaries(ordered, membership)
    preparations, preparation_violations = fold_preparations(ordered, membership)
    # A private note belongs in its writer's private space (§5.16): one in the shared
    # space is never shown, and verify says so.
    misplaced = [
        PracticeViolation(
            e.event_id,
            "private_note_in_shared_space",
            "a private-space record was written to the shared space; it is not shown",
        )
        for e in ordered
        if isinstance(e.payload, PrivateNote | PrivateNoteShared | PrivateNoteDeleted)
    ]
    return IntimacyViews(
        pacing=pacing,
        checkins=fold_intimacy_checkins(ordered, membership),
        language=language,
        boundaries=boundaries,
        preparations=preparations,
        violations=[
            *pacing.violations,
            *language_violations,
            *boundary_violations,
            *preparation_violations,
            *misplaced,
        ],
    )
