"""Agreements as a view, sans-I/O (docs/PROTOCOL.md §10.3).

Theory of operation. An agreement is a chain of *versions*. Each version is an
``agreement_proposed`` event; its event id names it. A proposal without ``revises``
starts an agreement (the agreement's id is that event id, the version's number is 1); a
proposal that revises version V joins V's agreement with number V.number + 1. Several
proposals may revise the same version (partners writing at the same time); they all stay
visible until one of them comes into force.

:func:`fold_agreements` walks accepted events once, in the causal order of
:func:`client.views.fold.causal_order` (never arrival order), keeping only events written by a
member device and attributing each to its member. A version moves between five states::

    proposed --(every member but the proposer accepted)-------> in_force
    proposed --(decline by another member)--------------------> declined
    proposed --(withdrawal by any member)---------------------> withdrawn
    proposed --(another version of the agreement in force)----> superseded
    in_force --(withdrawal by any member: effective at once)--> withdrawn
    in_force --(another version of the agreement in force)----> superseded

``declined``, ``withdrawn`` and ``superseded`` are closed: nothing moves a closed version
again (a new proposal that revises it is the way forward). ``expired`` is not a state
of the fold: it is how an ``in_force`` version whose ``expires_on`` is before ``today``
is *shown*, flagged rather than silently kept. Which transitions are legal never
depends on ``today``, so a violation found today is found on every later day too.

Every transition event against a known version, legal or not, is looked up in
:data:`_TABLE` by (transition, who, state of the version). "Who" is ``proposer`` (the
member who proposed the version, from any of their devices), ``consented`` (another
member who has already accepted it) or ``other``. The table, as data::

    transition  who          proposed   in_force   declined   withdrawn   superseded
    ----------  -----------  ---------  ---------  ---------  ----------  ----------
    accept      proposer     !ABP       !ABP       !ABP       !ABP        !ABP
    accept      other        consent    !ACV       !ACV       !ACV        !ACV
    accept      consented    !DUP       !DUP       !ACV       !ACV        !ACV
    decline     proposer     !DBP       !DBP       !DBP       !DBP        !DBP
    decline     not proposer decline    !DCV       !DCV       !DCV        !DCV
    withdraw    anyone       withdraw   withdraw   !WCV       !WCV        narrowed*
    review      anyone       !RIV       review     !RIV       !RIV        !RIV

    !ABP accept_by_proposer           !ACV accept_of_closed_version (this covers an
    !DUP duplicate_consent                 accept after a withdrawal without a new
    !DBP decline_by_proposer               proposal)
    !DCV decline_of_closed_version    !WCV withdraw_of_closed_version
    !RIV review_of_inactive_version

An entry starting with ``!`` is a :class:`Violation`: the event stays in the log and in
the agreement's ``event_ids``, and changes nothing. A transition naming a version that
is not an earlier proposal is ``unknown_version``. The effects:

* **consent** records the acceptance; the version comes into force once every member of
  the space other than its proposer has accepted it. While the proposer is the only
  member (the partner has not joined), nothing comes into force by acceptance.
* **decline** closes the version as ``declined``; **withdraw** closes it as
  ``withdrawn`` whoever withdraws and whatever it was, proposal or in force: consent is
  withdrawn unilaterally, at once, with no reason needed.
* **review** records a review (keep or revise, an optional next review date).
* ``narrowed*`` applies to a superseded version whose agreement has a version in force
  that descends from it through narrowings only (below). That version's consent was
  inherited from the withdrawn one, so the withdrawal ends it; otherwise
  ``withdraw_of_closed_version``. This makes a withdrawal concurrent with a narrowing
  take effect whichever of the two comes first in the order.

**Narrowing.** A revision *narrows* version V when, as it is folded, V is in force, the
revision has the same kind, title, review date, expiry, circles and window as V, and
its set of clauses, each with the members it binds (``binds``: me/you/both from each
proposer's side), is a strict subset of V's. Narrowing what is shared can be done by
one partner: such a revision is in force at once on its proposer's word. Anything else
is *widening* and needs acceptance like a new agreement.

**Coming into force.** When a version comes into force, the version of its agreement
that was in force (if any) and every other version still ``proposed`` become
``superseded``.

**The recovery plan** (``kind == "recovery_plan"``) is not a mutual agreement: it
belongs to the partner who wrote its first version, its *owner* (in SAA each member
defines their own abstinence, with a sponsor). Every version the owner writes is in
force at once on their word and supersedes the one before; the owner may retire it
(a withdrawal) and review it. The other partner reads it: their acceptance is kept as
having read it, and their decline, withdrawal, review or revision is not applied and is
reported ``plan_belongs_to_its_writer``, so the plan can never be vetoed or voided by
the partner. What is mutual (what is told, and when) is an ordinary agreement. A
history written when plans needed the partner's yes folds by this rule too.

**Proposals.** Revising an unknown version is ``unknown_version``; revising a version of
another kind (say a recovery plan revising an agreement) is ``revises_other_kind``. Both
are ignored.

**The agreement.** Its ``current`` version is the one in force (or expired) if any,
otherwise its latest version in causal order; its title and status are those of
``current``. So a withdrawn agreement reads ``withdrawn``, a declined one ``declined``,
and open concurrent proposals read ``proposed``.

**Review dates.** For the version in force, the review is due from a date that starts
as its ``review_on`` and follows its reviews in order: a review with a
``next_review_on`` moves the date there; a ``revise`` review without one makes it due
from the review's own (UTC) date, until a new version is in force; a ``keep`` review
without one, made on or after the due date, clears it (an early ``keep`` leaves it).
``review_due`` is true when that date is on or before ``today``.

Convergence: the fold depends only on the order it is given, which depends only on the
set of events. Two concurrent accepts, or an accept concurrent with a withdrawal,
resolve the same way on both partners' devices.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from string import hexdigits
from typing import Literal

from client.core.verify import Membership, VerifiedEvent
from client.views.causality import had_seen
from schemas.ids import EventId, MemberId
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
    ThreeCircles,
    Window,
)

VersionStatus = Literal["proposed", "in_force", "declined", "withdrawn", "superseded", "expired"]

MIN_PREFIX_CHARS = 4
_DAY_MS = 86_400_000
_EPOCH = datetime.date(1970, 1, 1)


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


_MESSAGES: Mapping[ViolationCode, str] = {
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


# --- the rules, as data ------------------------------------------------------------

_Action = Literal["accept", "decline", "withdraw", "review"]
_Who = Literal["proposer", "consented", "other"]
_State = Literal["proposed", "in_force", "declined", "withdrawn", "superseded"]
_Effect = Literal["consent", "decline", "withdraw", "narrowed", "review"]

_STATES: tuple[_State, ...] = ("proposed", "in_force", "declined", "withdrawn", "superseded")
_ANYONE: tuple[_Who, ...] = ("proposer", "consented", "other")
_NOT_PROPOSER: tuple[_Who, ...] = ("consented", "other")

_V = ViolationCode
_ABP, _ACV, _DUP = _V.ACCEPT_BY_PROPOSER, _V.ACCEPT_OF_CLOSED_VERSION, _V.DUPLICATE_CONSENT
_DBP, _DCV = _V.DECLINE_BY_PROPOSER, _V.DECLINE_OF_CLOSED_VERSION
_WCV, _RIV = _V.WITHDRAW_OF_CLOSED_VERSION, _V.REVIEW_OF_INACTIVE_VERSION

# fmt: off
_TABLE: tuple[tuple[_Action, tuple[_Who, ...], tuple[_Effect | ViolationCode, ...]], ...] = (
    #                                  proposed    in_force    declined  withdrawn  superseded
    ("accept",   ("proposer",),       (_ABP,       _ABP,       _ABP,     _ABP,      _ABP)),
    ("accept",   ("other",),          ("consent",  _ACV,       _ACV,     _ACV,      _ACV)),
    ("accept",   ("consented",),      (_DUP,       _DUP,       _ACV,     _ACV,      _ACV)),
    ("decline",  ("proposer",),       (_DBP,       _DBP,       _DBP,     _DBP,      _DBP)),
    ("decline",  _NOT_PROPOSER,       ("decline",  _DCV,       _DCV,     _DCV,      _DCV)),
    ("withdraw", _ANYONE,             ("withdraw", "withdraw", _WCV,     _WCV,      "narrowed")),
    ("review",   _ANYONE,             (_RIV,       "review",   _RIV,     _RIV,      _RIV)),
)
# fmt: on

_RULES: Mapping[tuple[_Action, _Who], Mapping[_State, _Effect | ViolationCode]] = {
    (action, who): dict(zip(_STATES, effects, strict=True))
    for action, whos, effects in _TABLE
    for who in whos
}
"""(transition, who) -> state of the version -> effect or violation (module docstring)."""


# --- the fold ----------------------------------------------------------------------


@dataclass
class _Book:
    """One agreement while folding."""

    versions: list[AgreementVersion]
    event_ids: list[EventId]
    in_force: AgreementVersion | None = None


_Transition = AgreementAccepted | AgreementDeclined | AgreementWithdrawn | AgreementReviewed
_ACTIONS: Mapping[type[_Transition], _Action] = {
    AgreementAccepted: "accept",
    AgreementDeclined: "decline",
    AgreementWithdrawn: "withdraw",
    AgreementReviewed: "review",
}


_CONCURRENT_CODES = frozenset({_ACV, _DUP, _DCV, _WCV, _RIV})
"""Violations an honest device can write when it had not seen the event that caused
them: they become :class:`WithoutEffect` notes instead (module docstring, §10.5)."""


class _Fold:
    def __init__(self, membership: Membership) -> None:
        self.membership = membership
        self.members = frozenset(membership.members)
        self.books: dict[EventId, _Book] = {}
        self.versions: dict[EventId, AgreementVersion] = {}
        self.violations: list[Violation] = []

    def refuse(self, event: VerifiedEvent, code: ViolationCode, target: bytes) -> None:
        version = self.versions.get(EventId(target))
        message = _MESSAGES[code].format(
            v=target.hex()[:8], status=version.status if version else "unknown"
        )
        self.violations.append(Violation(event.event_id, code.value, message))

    def propose(self, event: VerifiedEvent, member: MemberId, p: AgreementProposed) -> None:
        base = None if p.revises is None else self.versions.get(EventId(p.revises))
        if p.revises is not None:
            if base is None:
                self.refuse(event, _V.UNKNOWN_VERSION, p.revises)
                return
            self.books[base.agreement_id].event_ids.append(event.event_id)
            if base.kind != p.kind:
                self.refuse(event, _V.REVISES_OTHER_KIND, p.revises)
                return
            if base.kind == "recovery_plan" and base.proposer != member:
                self.refuse(event, _V.PLAN_BELONGS_TO_ITS_WRITER, p.revises)
                return
        version = AgreementVersion(
            id=event.event_id,
            agreement_id=event.event_id if base is None else base.agreement_id,
            number=1 if base is None else base.number + 1,
            revises=None if base is None else base.id,
            proposer=member,
            proposed_at=event.body.recorded_at,
            title=p.title,
            clauses=tuple(p.clauses),
            kind=p.kind,
            review_on=p.review_on,
            expires_on=p.expires_on,
            circles=p.circles,
            window=p.window,
            binds=tuple(p.binds),
        )
        book = self.books.setdefault(version.agreement_id, _Book([], [event.event_id]))
        book.versions.append(version)
        self.versions[version.id] = version
        if version.kind == "recovery_plan":
            # Owned, not agreed: in force on its writer's word (module docstring).
            self.bring_into_force(book, version, event.body.recorded_at)
        elif base is not None and _narrows(version, base, self.members):
            version.narrowing = True
            self.bring_into_force(book, version, event.body.recorded_at, (event.event_id, None))

    def transition(self, event: VerifiedEvent, member: MemberId, t: _Transition) -> None:
        version = self.versions.get(EventId(t.version))
        if version is None:
            self.refuse(event, _V.UNKNOWN_VERSION, t.version)
            return
        book = self.books[version.agreement_id]
        book.event_ids.append(event.event_id)
        if version.kind == "recovery_plan" and member != version.proposer:
            if isinstance(t, AgreementAccepted):
                # Kept as "has read it": it changes nothing (a plan needs no yes).
                version.accepted_by.append(
                    Consent(member, event.event_id, event.body.recorded_at, t.note)
                )
            else:
                self.refuse(event, _V.PLAN_BELONGS_TO_ITS_WRITER, t.version)
            return
        who: _Who = (
            "proposer"
            if member == version.proposer
            else "consented"
            if any(c.member == member for c in version.accepted_by)
            else "other"
        )
        # "expired" is only ever set by view(), after the walk.
        state: _State = "in_force" if version.status == "expired" else version.status
        effect = _RULES[(_ACTIONS[type(t)], who)][state]
        at = event.body.recorded_at
        if effect == "narrowed":
            successor = _narrowed_successor(book, version, self.versions)
            if successor is None:
                effect = _V.WITHDRAW_OF_CLOSED_VERSION
            else:
                version, effect = successor, "withdraw"
        if isinstance(effect, ViolationCode):
            cause = self.cause(version, member, effect)
            if cause is not None and not had_seen(self.membership, event, cause[0]):
                version.without_effect.append(
                    WithoutEffect(member, event.event_id, at, _ACTIONS[type(t)], *cause[1:])
                )
            else:
                self.refuse(event, effect, t.version)
        elif isinstance(t, AgreementAccepted):
            version.accepted_by.append(Consent(member, event.event_id, at, t.note))
            others = self.members - {version.proposer}
            if others and others <= {c.member for c in version.accepted_by}:
                self.bring_into_force(book, version, at, (event.event_id, None))
        elif isinstance(t, AgreementDeclined):
            version.declined_by.append(Consent(member, event.event_id, at, t.reason))
            version.status = "declined"
            version.closed_by = (event.event_id, member)
        elif isinstance(t, AgreementWithdrawn):
            version.withdrawn_by = Consent(member, event.event_id, at, t.reason)
            version.status = "withdrawn"
            version.closed_by = (event.event_id, member)
            if book.in_force is version:
                book.in_force = None
        else:
            version.reviews.append(
                Review(member, event.event_id, at, t.outcome, t.note, t.next_review_on)
            )

    def cause(
        self, version: AgreementVersion, member: MemberId, code: ViolationCode
    ) -> tuple[EventId, str, MemberId | None] | None:
        """The event that made this transition void, when an honest device could have
        written it without having seen that event; None for a rule no honest device
        breaks."""
        if code not in _CONCURRENT_CODES:
            return None
        if code is _DUP:
            mine = [c for c in version.accepted_by if c.member == member]
            return (mine[0].event_id, "accepted", member) if mine else None
        if version.status in ("in_force", "expired") and version.in_force_by is not None:
            # Declined or accepted again, concurrently with its coming into force.
            return version.in_force_by, "in_force", None
        if version.closed_by is None:
            return None
        return version.closed_by[0], version.status, version.closed_by[1]

    def bring_into_force(
        self,
        book: _Book,
        version: AgreementVersion,
        at: int,
        by: tuple[EventId, MemberId | None] | None = None,
    ) -> None:
        for other in book.versions:
            if other is not version and other.status in ("proposed", "in_force"):
                other.status = "superseded"
                other.closed_by = by
        version.status = "in_force"
        version.in_force_since = at
        version.in_force_by = None if by is None else by[0]
        book.in_force = version

    def view(self, today: datetime.date) -> AgreementsView:
        agreements: list[Agreement] = []
        for agreement_id, book in self.books.items():
            if book.in_force is not None and _expired(book.in_force, today):
                book.in_force.status = "expired"
            current = book.in_force or book.versions[-1]
            agreements.append(
                Agreement(
                    id=agreement_id,
                    kind=current.kind,
                    title=current.title,
                    status=current.status,
                    current=current,
                    versions=book.versions,
                    review_due=book.in_force is not None and _review_due(current, today),
                    expired=current.status == "expired",
                    event_ids=book.event_ids,
                )
            )
        return AgreementsView(agreements, self.violations)


def fold_agreements(
    ordered: Iterable[VerifiedEvent], membership: Membership, today: datetime.date
) -> AgreementsView:
    """Agreements with their versions and statuses, and the events that broke a rule.

    ``ordered`` must be in causal order; ``today`` is the person's calendar date, used
    only for the expiry and review flags (never to decide what is legal).
    """
    fold = _Fold(membership)
    for event in ordered:
        member = membership.member_of(event.author)
        if member is None:
            continue
        payload = event.payload
        if isinstance(payload, AgreementProposed):
            fold.propose(event, member.member_id, payload)
        elif isinstance(
            payload, AgreementAccepted | AgreementDeclined | AgreementWithdrawn | AgreementReviewed
        ):
            fold.transition(event, member.member_id, payload)
    return fold.view(today)


def _narrows(
    revision: AgreementVersion, base: AgreementVersion, members: frozenset[MemberId]
) -> bool:
    return (
        base.status == "in_force"
        and (revision.kind, revision.title, revision.review_on, revision.expires_on)
        == (base.kind, base.title, base.review_on, base.expires_on)
        and revision.circles == base.circles
        and revision.window == base.window
        and set(_bound_clauses(revision, members)) < set(_bound_clauses(base, members))
    )


def _bound_clauses(
    version: AgreementVersion, members: frozenset[MemberId]
) -> list[tuple[str, frozenset[MemberId] | None]]:
    """Each clause with the members it binds, so "me" in one partner's revision and
    "you" in the other's compare equal (None: the version did not say)."""
    proposer = frozenset({version.proposer})
    whom = {"me": proposer, "you": members - proposer, "both": members}
    return [
        (clause, whom.get(version.binds[i]) if i < len(version.binds) else None)
        for i, clause in enumerate(version.clauses)
    ]


def _narrowed_successor(
    book: _Book, withdrawn: AgreementVersion, versions: Mapping[EventId, AgreementVersion]
) -> AgreementVersion | None:
    """The version in force if it descends from ``withdrawn`` through narrowings only."""
    step = book.in_force
    while step is not None and step.narrowing and step.revises is not None:
        step = versions[step.revises]
        if step is withdrawn:
            return book.in_force
    return None


def _expired(version: AgreementVersion, today: datetime.date) -> bool:
    # ISO dates compare as strings; a malformed date the schema let through cannot crash.
    return version.expires_on is not None and version.expires_on < today.isoformat()


def _review_due(version: AgreementVersion, today: datetime.date) -> bool:
    due_on = version.review_on
    for review in version.reviews:
        if review.next_review_on is not None:
            due_on = review.next_review_on
        elif review.outcome == "revise":
            due_on = _utc_date(review.at)
        elif due_on is not None and _utc_date(review.at) >= due_on:
            due_on = None
    return due_on is not None and due_on <= today.isoformat()


def _utc_date(ms: int) -> str:
    days = ms // _DAY_MS
    if days > (datetime.date.max - _EPOCH).days:
        return datetime.date.max.isoformat()
    return (_EPOCH + datetime.timedelta(days=days)).isoformat()


def transition_refusal(
    view: AgreementsView, member: MemberId, transition: _Transition
) -> ViolationCode | None:
    """What :func:`fold_agreements` would report if ``member`` wrote ``transition`` now,
    having seen everything in ``view``: None when it would take effect. The same table
    as the fold, so the client refuses to write exactly what a partner's client would
    report (client/views/write_rules.py)."""
    found: tuple[Agreement, AgreementVersion] | None = None
    for agreement in view.agreements:
        for version in agreement.versions:
            if version.id == transition.version:
                found = (agreement, version)
    if found is None:
        return _V.UNKNOWN_VERSION
    agreement, version = found
    who: _Who = (
        "proposer"
        if member == version.proposer
        else "consented"
        if any(c.member == member for c in version.accepted_by)
        else "other"
    )
    state: _State = "in_force" if version.status == "expired" else version.status
    effect = _RULES[(_ACTIONS[type(transition)], who)][state]
    if effect == "narrowed":
        current = agreement.current
        step = (
            current if current is not None and current.status in ("in_force", "expired") else None
        )
        by_id = {v.id: v for v in agreement.versions}
        while step is not None and step.narrowing and step.revises is not None:
            step = by_id.get(step.revises)
            if step is version:
                return None
        return _V.WITHDRAW_OF_CLOSED_VERSION
    return effect if isinstance(effect, ViolationCode) else None
