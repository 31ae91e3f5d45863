"""Writing and folding agreement events for the agreement tests: Alex and Blake propose,
accept, decline, withdraw and review with real sealed events admitted by a real verifier."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from client.views.agreements import (
    Agreement,
    AgreementsView,
    AgreementVersion,
    fold_agreements,
)
from client.views.fold import causal_order
from schemas.ids import EventId
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementKind,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
    ReviewOutcome,
    ThreeCircles,
)
from tests.client.builders import (
    Built,
    Pair,
    Writer,
    admit_until_settled,
    fixed_bytes,
    new_verifier,
    paired,
)

TODAY = datetime.date(2026, 1, 1)
"""The stories are recorded on 2026-01-01 (UTC), builders.START_MS."""

CLAUSES = (
    "We tell each other about any contact with the person from before.",
    "Phones stay open to each other at home.",
    "Bank statements are shared monthly.",
)
UNKNOWN = EventId(fixed_bytes("an event nobody wrote", 32))


# --- writing agreement events ---------------------------------------------------------


def id_of(of: Built | EventId) -> EventId:
    return of.event_id if isinstance(of, Built) else of


def propose(
    writer: Writer,
    clauses: Sequence[str] = CLAUSES,
    *,
    title: str = "What we share",
    revises: Built | EventId | None = None,
    deps: Sequence[Built] = (),
    kind: AgreementKind = "agreement",
    review_on: str | None = None,
    expires_on: str | None = None,
    circles: ThreeCircles | None = None,
) -> Built:
    payload = AgreementProposed(
        title=title,
        clauses=list(clauses),
        revises=None if revises is None else id_of(revises),
        kind=kind,
        review_on=review_on,
        expires_on=expires_on,
        circles=circles,
    )
    return writer.write(payload, deps=deps)


def accept(
    writer: Writer, of: Built | EventId, *, deps: Sequence[Built] = (), note: str | None = None
) -> Built:
    return writer.write(AgreementAccepted(version=id_of(of), note=note), deps=deps)


def decline(
    writer: Writer, of: Built | EventId, *, deps: Sequence[Built] = (), reason: str | None = None
) -> Built:
    return writer.write(AgreementDeclined(version=id_of(of), reason=reason), deps=deps)


def withdraw(
    writer: Writer, of: Built | EventId, *, deps: Sequence[Built] = (), reason: str | None = None
) -> Built:
    return writer.write(AgreementWithdrawn(version=id_of(of), reason=reason), deps=deps)


def review(
    writer: Writer,
    of: Built | EventId,
    outcome: ReviewOutcome = "keep",
    *,
    next_review_on: str | None = None,
    deps: Sequence[Built] = (),
) -> Built:
    payload = AgreementReviewed(version=id_of(of), outcome=outcome, next_review_on=next_review_on)
    return writer.write(payload, deps=deps)


# --- folding ----------------------------------------------------------------------------


def fold(
    *events: Built, today: datetime.date = TODAY, arrival: Sequence[Built] | None = None
) -> AgreementsView:
    """Admit the events (in ``arrival`` order if given) and fold what was accepted."""
    verifier = new_verifier()
    accepted = admit_until_settled(verifier, [e.data for e in (arrival or events)])
    assert len(accepted) == len(events), "every event of the story must be accepted"
    ordered = causal_order(o.event for o in accepted if o.event is not None)
    return fold_agreements(ordered, verifier.membership, today)


def only(view: AgreementsView) -> Agreement:
    [agreement] = view.agreements
    return agreement


def version(view: AgreementsView, of: Built) -> AgreementVersion:
    [found] = [v for a in view.agreements for v in a.versions if v.id == of.event_id]
    return found


def codes(view: AgreementsView) -> list[str]:
    return [v.code for v in view.violations]


@dataclass
class InForce:
    """Alex proposed the three clauses; Blake accepted: the agreement is in force."""

    pair: Pair
    proposal: Built
    accepted: Built

    @property
    def story(self) -> list[Built]:
        return [*self.pair.membership, self.proposal, self.accepted]


def in_force(*, review_on: str | None = None, expires_on: str | None = None) -> InForce:
    pair = paired()
    proposed = propose(pair.alex, deps=[pair.joined], review_on=review_on, expires_on=expires_on)
    return InForce(pair, proposed, accept(pair.blake, proposed, deps=[proposed]))
