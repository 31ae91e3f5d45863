"""Random histories in random arrival orders: both partners always fold to the same
agreements (DESIGN.md, "Both partners converge").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from client.core.verify import VerifiedEvent
from client.views.agreements import (
    AgreementsView,
    fold_agreements,
)
from client.views.fold import causal_order
from schemas.ids import EventId
from schemas.practices import (
    AgreementKind,
    AgreementProposed,
    ReviewOutcome,
)
from tests.client.agreement_events import (
    CLAUSES,
    TODAY,
    UNKNOWN,
    accept,
    codes,
    decline,
    propose,
    review,
    withdraw,
)
from tests.client.builders import (
    Built,
    Writer,
    admit_until_settled,
    new_verifier,
    paired,
)

# --- convergence (Hypothesis) ---------------------------------------------------------------


@dataclass
class _Device:
    writer: Writer
    chain: list[Built]
    seen: int = 0
    """How many of the partner's events this device has received (a prefix)."""
    proposals: list[Built] = field(default_factory=list)


_DATES = st.sampled_from([None, "2025-12-31", "2026-01-01", "2026-06-01"])
_OPS = st.tuples(
    st.sampled_from(["alex", "blake"]),
    st.sampled_from(
        ["propose", "revise", "narrow", "accept", "accept", "decline", "withdraw", "review"]
        + ["sync"] * 3
    ),
    st.integers(min_value=0, max_value=1_000),
    _DATES,
)


def _payload(built: Built) -> AgreementProposed:
    assert isinstance(built.payload, AgreementProposed)
    return built.payload


@st.composite
def histories(draw: st.DrawFn) -> list[Built]:
    """Two partners writing agreement events about what each has seen, legal or not:
    new proposals (now and then of another kind), revisions that widen or only remove
    clauses, and accepts, declines, withdrawals and reviews of any version either has
    seen, sometimes of one that does not exist."""
    pair = paired()
    devices = {
        "alex": _Device(pair.alex, [pair.genesis, pair.invite]),
        "blake": _Device(pair.blake, [pair.joined], seen=2),
    }
    accepted: set[EventId] = set()
    for who, op, pick, day in draw(st.lists(_OPS, min_size=4, max_size=24)):
        me = devices[who]
        partner = devices["blake" if who == "alex" else "alex"]
        if op == "sync":
            part = pick % (len(partner.chain) + 1) if pick % 2 else len(partner.chain)
            me.seen = max(me.seen, part)
            continue
        answering = op in ("accept", "decline") and pick % 4 != 0
        if answering:
            # Mostly an answer to the partner's newest proposals, as people answer: having
            # received them first. Otherwise to any version either has seen, own included.
            me.seen = len(partner.chain)
        deps = partner.chain[me.seen - 1 : me.seen] if me.seen else []
        theirs = [p for p in partner.proposals if p in partner.chain[: me.seen]]
        known = theirs[-2:] if answering and theirs else me.proposals + theirs
        if op == "narrow":  # Mostly of a version someone accepted: it may be in force.
            known = [p for p in known if p.event_id in accepted] or known
        target = known[pick % len(known)] if known else None
        if op == "propose" or target is None:
            kind: AgreementKind = "recovery_plan" if pick % 5 == 0 else "agreement"
            count = 1 + pick % len(CLAUSES)
            built = propose(
                me.writer, CLAUSES[:count], kind=kind, review_on=day, expires_on=day, deps=deps
            )
            me.proposals.append(built)
        elif op in ("revise", "narrow"):
            base = _payload(target)
            clauses = base.clauses[1:] if op == "narrow" else [*base.clauses, f"{who} {pick}"]
            other_kind: AgreementKind = "window" if pick % 9 == 0 else base.kind
            built = propose(
                me.writer, clauses, title=base.title, kind=other_kind, revises=target,
                review_on=base.review_on, expires_on=base.expires_on, deps=deps,
            )  # fmt: skip
            me.proposals.append(built)
        else:
            of = UNKNOWN if pick % 11 == 0 else target.event_id
            write = {"accept": accept, "decline": decline, "withdraw": withdraw}.get(op)
            if write is not None:
                built = write(me.writer, of, deps=deps)
                if op == "accept":
                    accepted.add(of)
            else:
                outcome: ReviewOutcome = "keep" if pick % 2 else "revise"
                built = review(me.writer, of, outcome, next_review_on=day, deps=deps)
        me.chain.append(built)
    return [*devices["alex"].chain, *devices["blake"].chain]


def _fold_arrival(arrival: list[Built], today: datetime.date) -> AgreementsView:
    verifier = new_verifier()
    accepted = admit_until_settled(verifier, [e.data for e in arrival])
    assert len(accepted) == len(arrival)
    events: list[VerifiedEvent] = [o.event for o in accepted if o.event is not None]
    return fold_agreements(causal_order(events), verifier.membership, today)


_TODAYS = st.sampled_from([datetime.date(2026, 1, 1), datetime.date(2026, 7, 1)])


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_partners_holding_the_same_events_see_the_same_agreements_whatever_the_arrival_order(
    data: st.DataObject,
) -> None:
    history = data.draw(histories(), label="history")
    today = data.draw(_TODAYS, label="today")
    first = _fold_arrival(data.draw(st.permutations(history), label="arrival 1"), today)
    second = _fold_arrival(data.draw(st.permutations(history), label="arrival 2"), today)

    assert [(a.id, a.status, [v.status for v in a.versions]) for a in first.agreements] == [
        (a.id, a.status, [v.status for v in a.versions]) for a in second.agreements
    ]
    assert first.violations == second.violations
    assert first == second


@settings(max_examples=40, deadline=None)
@given(histories())
def test_every_version_in_force_has_the_partners_consent_or_narrows_one_that_had_or_is_a_plan(
    history: list[Built],
) -> None:
    view = _fold_arrival(history, TODAY)

    for agreement in view.agreements:
        by_id = {v.id: v for v in agreement.versions}
        live = [v for v in agreement.versions if v.status in ("in_force", "expired")]
        assert len(live) <= 1
        assert agreement.current is (live[0] if live else agreement.versions[-1])
        for v in live:
            if agreement.kind == "recovery_plan":
                # Owned by its writer, in force on their word (docs/PROTOCOL.md §10.3).
                assert v.proposer == agreement.versions[0].proposer
                continue
            while v.narrowing and v.revises is not None:
                v = by_id[v.revises]
                assert v.status == "superseded"
            consenting = {c.member for c in v.accepted_by}
            assert consenting
            assert v.proposer not in consenting


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
def test_the_history_strategy_reaches_narrowings_supersessions_and_violations() -> None:
    # Guards the strategy: the convergence test is only as good as what it exercises.
    def exercises_the_rules(history: list[Built]) -> bool:
        view = _fold_arrival(history, TODAY)
        statuses = {v.status for a in view.agreements for v in a.versions}
        narrowed = any(v.narrowing for a in view.agreements for v in a.versions)
        return narrowed and {"superseded", "withdrawn"} <= statuses and len(codes(view)) >= 2

    find(
        histories(),
        exercises_the_rules,
        settings=settings(
            max_examples=500, database=None, phases=[Phase.generate], derandomize=True
        ),
    )
