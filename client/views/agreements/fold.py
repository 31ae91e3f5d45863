"""The agreements fold: one walk over accepted events in causal order, applying the
rules of :mod:`client.views.agreements.rules` (docs/PROTOCOL.md §10.3)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from client.core.verify import Membership, VerifiedEvent
from client.views.agreements.model import (
    MESSAGES,
    Agreement,
    AgreementsView,
    AgreementVersion,
    Consent,
    Review,
    Violation,
    ViolationCode,
    WithoutEffect,
)
from client.views.agreements.rules import (
    ACTIONS,
    CONCURRENT_CODES,
    Transition,
    effect_of,
    narrows,
)
from client.views.causality import had_seen
from schemas.ids import EventId, MemberId
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
)

_DAY_MS = 86_400_000
_EPOCH = datetime.date(1970, 1, 1)
_V = ViolationCode


@dataclass
class _Book:
    """One agreement while folding."""

    versions: list[AgreementVersion]
    event_ids: list[EventId]
    in_force: AgreementVersion | None = None


class _Fold:
    def __init__(self, membership: Membership) -> None:
        self.membership = membership
        self.members = frozenset(membership.members)
        self.books: dict[EventId, _Book] = {}
        self.versions: dict[EventId, AgreementVersion] = {}
        self.violations: list[Violation] = []

    def refuse(self, event: VerifiedEvent, code: ViolationCode, target: bytes) -> None:
        version = self.versions.get(EventId(target))
        message = MESSAGES[code].format(
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
        if p.kind == "recovery_plan" and any(b != "me" for b in p.binds):
            # A plan is in force on its writer's word alone, so a clause binding the
            # other partner would bind them with no yes (docs/THREAT_MODEL.md §23.1).
            self.refuse(event, _V.PLAN_BINDS_ONLY_ITS_WRITER, event.event_id)
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
            # Owned, not agreed: in force on its writer's word (package docstring).
            self.bring_into_force(book, version, event.body.recorded_at)
        elif base is not None and narrows(version, base, self.members):
            version.narrowing = True
            self.bring_into_force(book, version, event.body.recorded_at, (event.event_id, None))

    def transition(self, event: VerifiedEvent, member: MemberId, t: Transition) -> None:
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
        effect = effect_of(version, member, ACTIONS[type(t)])
        at = event.body.recorded_at
        if effect == "narrowed":
            successor = _narrowed_successor(book, version, self.versions)
            if successor is None:
                # The narrowing that stood for this version is closed too: judge the
                # withdrawal against whatever closed *it* (a partner's concurrent
                # withdrawal is honest, not a finding).
                version = _narrowed_descendant(book, version, self.versions) or version
                effect = _V.WITHDRAW_OF_CLOSED_VERSION
            else:
                version, effect = successor, "withdraw"
        if isinstance(effect, ViolationCode):
            cause = self.cause(version, member, effect)
            if cause is not None and not had_seen(self.membership, event, cause[0]):
                version.without_effect.append(
                    WithoutEffect(member, event.event_id, at, ACTIONS[type(t)], *cause[1:])
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
        if code not in CONCURRENT_CODES:
            return None
        if code is _V.DUPLICATE_CONSENT:
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


def _narrowed_descendant(
    book: _Book, withdrawn: AgreementVersion, versions: Mapping[EventId, AgreementVersion]
) -> AgreementVersion | None:
    """The latest version that descends from ``withdrawn`` through narrowings only,
    whatever its status (None when there is none)."""
    for candidate in reversed(book.versions):
        step = candidate
        while step.narrowing and step.revises is not None:
            step = versions[EventId(step.revises)]
            if step is withdrawn:
                return candidate
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
