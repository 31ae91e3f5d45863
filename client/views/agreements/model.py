"""What the agreements fold produces: versions, agreements, and the codes and words of
the events it kept without applying (docs/PROTOCOL.md §10.3; the rules are in
:mod:`client.views.agreements`'s docstring)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from string import hexdigits
from typing import Literal

from schemas.ids import EventId, MemberId
from schemas.practices import ThreeCircles, Window

VersionStatus = Literal["proposed", "in_force", "declined", "withdrawn", "superseded", "expired"]

MIN_PREFIX_CHARS = 4


class ViolationCode(StrEnum):
    """Stable codes for agreement events that break a rule (docs/PROTOCOL.md §10.3)."""

    UNKNOWN_VERSION = "unknown_version"
    REVISES_OTHER_KIND = "revises_other_kind"
    ACCEPT_BY_PROPOSER = "accept_by_proposer"
    ACCEPT_OF_CLOSED_VERSION = "accept_of_closed_version"
    DUPLICATE_CONSENT = "duplicate_consent"
    DECLINE_BY_PROPOSER = "decline_by_proposer"
    DECLINE_OF_CLOSED_VERSION = "decline_of_closed_version"
    WITHDRAW_OF_CLOSED_VERSION = "withdraw_of_closed_version"
    REVIEW_OF_INACTIVE_VERSION = "review_of_inactive_version"
    PLAN_BELONGS_TO_ITS_WRITER = "plan_belongs_to_its_writer"
    PLAN_BINDS_ONLY_ITS_WRITER = "plan_binds_only_its_writer"


MESSAGES: Mapping[ViolationCode, str] = {
    ViolationCode.UNKNOWN_VERSION: "names agreement version {v}, which was never proposed",
    ViolationCode.REVISES_OTHER_KIND: "revises version {v}, which is of another kind",
    ViolationCode.ACCEPT_BY_PROPOSER: "accepts version {v} on behalf of the partner who "
    "proposed it; only the other partner's acceptance counts",
    ViolationCode.ACCEPT_OF_CLOSED_VERSION: "accepts version {v}, which is {status}; "
    "accepting it again needs a new proposal",
    ViolationCode.DUPLICATE_CONSENT: "accepts version {v} a second time",
    ViolationCode.DECLINE_BY_PROPOSER: "declines version {v}, proposed by the same "
    "partner; a proposer withdraws instead",
    ViolationCode.DECLINE_OF_CLOSED_VERSION: "declines version {v}, which is {status}",
    ViolationCode.WITHDRAW_OF_CLOSED_VERSION: "withdraws from version {v}, which is "
    "already {status}",
    ViolationCode.REVIEW_OF_INACTIVE_VERSION: "reviews version {v}, which is {status}, "
    "not in force",
    ViolationCode.PLAN_BELONGS_TO_ITS_WRITER: "answers recovery plan version {v}, which "
    "belongs to the partner who wrote it; the other partner reads it and cannot change, "
    "decline or end it",
    ViolationCode.PLAN_BINDS_ONLY_ITS_WRITER: "is recovery plan version {v}, with a clause "
    "that binds the other partner; a plan binds only its writer, and what binds the other "
    "partner is an agreement they accept",
}


@dataclass(frozen=True, slots=True)
class Consent:
    """An acceptance, a decline or a withdrawal, by a member."""

    member: MemberId
    event_id: EventId
    at: int
    """``recorded_at`` of the event, ms."""
    note: str | None = None
    """The acceptance's note, or the decline's or withdrawal's reason."""


@dataclass(frozen=True, slots=True)
class Review:
    member: MemberId
    event_id: EventId
    at: int
    outcome: str
    note: str | None
    next_review_on: str | None


@dataclass(frozen=True, slots=True)
class WithoutEffect:
    """A transition written concurrently with what closed the version (its author had
    not seen it): honest, kept and shown, and it changed nothing (§10.5)."""

    member: MemberId
    event_id: EventId
    at: int
    action: str
    """``accept``, ``decline``, ``withdraw`` or ``review``."""
    after: str
    """What had happened first: ``withdrawn``, ``declined``, ``superseded``,
    ``accepted`` (by the same partner, from another device) or ``in_force``."""
    after_member: MemberId | None
    """Who did that (None when another version came into force)."""


@dataclass
class AgreementVersion:
    id: EventId
    """The proposal's event id."""
    agreement_id: EventId
    """Event id of version 1, the root of the ``revises`` chain."""
    number: int
    revises: EventId | None
    proposer: MemberId
    proposed_at: int
    title: str
    clauses: tuple[str, ...]
    kind: str
    review_on: str | None
    expires_on: str | None
    circles: ThreeCircles | None
    window: Window | None
    status: VersionStatus = "proposed"
    binds: tuple[str, ...] = ()
    """Whom each clause binds (``me``, ``you``, ``both``) from the proposer's side; empty
    for versions written before clauses said so."""
    accepted_by: list[Consent] = field(default_factory=list)
    declined_by: list[Consent] = field(default_factory=list)
    withdrawn_by: Consent | None = None
    reviews: list[Review] = field(default_factory=list)
    narrowing: bool = False
    """In force on its proposer's word: it only removed clauses of a version in force."""
    in_force_since: int | None = None
    closed_by: tuple[EventId, MemberId | None] | None = None
    """The event that declined, withdrew or superseded it, and its member."""
    without_effect: list[WithoutEffect] = field(default_factory=list)
    in_force_by: EventId | None = None
    """The acceptance (or narrowing proposal) that brought it into force."""


@dataclass
class Agreement:
    id: EventId
    kind: str
    title: str
    """The title of ``current``."""
    status: VersionStatus
    current: AgreementVersion | None
    """The version in force (or expired) if any, else the latest version."""
    versions: list[AgreementVersion]
    review_due: bool
    expired: bool
    event_ids: list[EventId]
    """Every event naming this agreement's versions, legal or not, in causal order."""


@dataclass(frozen=True, slots=True)
class Violation:
    """An agreement event kept in the log whose effect the fold did not apply."""

    event_id: EventId
    code: str
    message: str


@dataclass
class AgreementsView:
    agreements: list[Agreement]
    violations: list[Violation]

    def find(self, prefix: str) -> Agreement | AgreementVersion:
        """The agreement (by its id) or version whose id starts with ``prefix`` (hex)."""
        text = prefix.strip().lower()
        if len(text) < MIN_PREFIX_CHARS or not all(c in hexdigits for c in text):
            raise LookupError(
                f"'{prefix}' is not an agreement id: give at least {MIN_PREFIX_CHARS} of the "
                "hex characters shown by 'trellis agreement list'."
            )
        matches: dict[EventId, Agreement | AgreementVersion] = {}
        for agreement in self.agreements:
            candidates: list[Agreement | AgreementVersion] = [agreement, *agreement.versions]
            for found in candidates:
                # Version 1 shares the agreement's id: the agreement answers for it.
                if found.id not in matches and found.id.hex().startswith(text):
                    matches[found.id] = found
        if not matches:
            raise LookupError(f"No agreement or version has an id starting with '{prefix}'.")
        if len(matches) > 1:
            raise LookupError(
                f"'{prefix}' is the start of {len(matches)} agreement or version ids; "
                "give more characters."
            )
        return next(iter(matches.values()))
