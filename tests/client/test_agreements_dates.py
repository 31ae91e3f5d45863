"""Expiry and review dates, an agreement's whole history, and finding one by id prefix
(docs/PROTOCOL.md §10.3).
"""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest

from client.views.agreements import (
    AgreementsView,
)
from schemas.ids import EventId
from tests.client.agreement_events import (
    CLAUSES,
    UNKNOWN,
    accept,
    fold,
    in_force,
    only,
    propose,
    review,
    version,
    withdraw,
)
from tests.client.builders import (
    paired,
)

# --- time: expiry and review dates --------------------------------------------------------


def test_an_agreement_in_force_is_flagged_expired_the_day_after_its_expiry_date() -> None:
    agreed = in_force(expires_on="2026-03-31")

    last_day = only(fold(*agreed.story, today=datetime.date(2026, 3, 31)))
    day_after = only(fold(*agreed.story, today=datetime.date(2026, 4, 1)))

    assert (last_day.status, last_day.expired) == ("in_force", False)
    assert (day_after.status, day_after.expired) == ("expired", True)
    assert day_after.current is not None
    assert day_after.current.status == "expired"


def test_consent_to_an_expired_agreement_can_still_be_withdrawn() -> None:
    agreed = in_force(expires_on="2025-12-31")
    withdrawn = withdraw(agreed.pair.blake, agreed.proposal)

    view = fold(*agreed.story, withdrawn, today=datetime.date(2026, 2, 1))

    assert only(view).status == "withdrawn"
    assert view.violations == []


def test_a_proposal_past_its_expiry_date_is_not_flagged_expired() -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined], expires_on="2025-12-31")

    agreement = only(fold(*pair.membership, proposal))

    assert (agreement.status, agreement.expired) == ("proposed", False)


def test_a_review_is_due_from_the_review_date() -> None:
    agreed = in_force(review_on="2026-02-01")

    assert not only(fold(*agreed.story, today=datetime.date(2026, 1, 31))).review_due
    assert only(fold(*agreed.story, today=datetime.date(2026, 2, 1))).review_due


def test_a_proposal_is_never_due_for_review() -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined], review_on="2025-06-01")

    assert not only(fold(*pair.membership, proposal)).review_due


def test_a_review_that_keeps_the_agreement_on_its_review_date_clears_the_flag() -> None:
    agreed = in_force(review_on="2026-01-01")
    kept = review(agreed.pair.alex, agreed.proposal, "keep", deps=[agreed.accepted])

    assert only(fold(*agreed.story, today=datetime.date(2026, 1, 1))).review_due
    assert not only(fold(*agreed.story, kept, today=datetime.date(2027, 1, 1))).review_due


def test_a_review_before_the_review_date_leaves_the_date_as_it_was() -> None:
    agreed = in_force(review_on="2026-01-02")
    early = review(agreed.pair.alex, agreed.proposal, "keep", deps=[agreed.accepted])

    assert only(fold(*agreed.story, early, today=datetime.date(2026, 1, 2))).review_due


def test_a_review_with_a_next_date_moves_the_review_date() -> None:
    agreed = in_force(review_on="2026-01-01")
    kept = review(agreed.pair.blake, agreed.proposal, "keep", next_review_on="2026-07-01")
    story = [*agreed.story, kept]

    assert not only(fold(*story, today=datetime.date(2026, 6, 30))).review_due
    assert only(fold(*story, today=datetime.date(2026, 7, 1))).review_due


def test_a_review_that_asks_for_a_revision_keeps_the_agreement_flagged() -> None:
    agreed = in_force(review_on="2026-12-31")
    to_revise = review(agreed.pair.blake, agreed.proposal, "revise")

    assert not only(fold(*agreed.story, today=datetime.date(2026, 1, 2))).review_due
    assert only(fold(*agreed.story, to_revise, today=datetime.date(2026, 1, 2))).review_due


# --- the agreement as a whole: status, events, lookup ---------------------------------------


def test_the_agreement_lists_every_event_of_its_history_in_causal_order() -> None:
    agreed = in_force()
    twice = accept(agreed.pair.blake, agreed.proposal)  # A violation: still part of it.
    wider = propose(agreed.pair.alex, [*CLAUSES, "More."], revises=agreed.proposal, deps=[twice])
    accepted = accept(agreed.pair.blake, wider, deps=[wider])
    withdrawn = withdraw(agreed.pair.alex, wider, deps=[accepted])
    elsewhere = propose(agreed.pair.blake, ["Another matter."], deps=[withdrawn])
    stray = accept(agreed.pair.alex, UNKNOWN, deps=[elsewhere])

    view = fold(*agreed.story, twice, wider, accepted, withdrawn, elsewhere, stray)

    first, second = view.agreements
    assert first.event_ids == [
        e.event_id for e in (agreed.proposal, agreed.accepted, twice, wider, accepted, withdrawn)
    ]
    assert second.event_ids == [elsewhere.event_id]


def test_find_takes_the_first_characters_of_an_agreement_or_version_id() -> None:
    agreed = in_force()
    narrower = propose(
        agreed.pair.blake, CLAUSES[:2], revises=agreed.proposal, deps=[agreed.accepted]
    )
    view = fold(*agreed.story, narrower)
    agreement = only(view)

    assert view.find(agreed.proposal.event_id.hex()[:4]) is agreement
    assert view.find(f"  {agreed.proposal.event_id.hex()[:10].upper()} ") is agreement
    assert view.find(narrower.event_id.hex()[:8]) is version(view, narrower)
    assert view.find(narrower.event_id.hex()) is version(view, narrower)


@pytest.mark.parametrize(
    ("prefix", "says"),
    [("abc", "at least 4"), ("not-hex", "at least 4"), ("", "at least 4")],
)
def test_find_refuses_what_is_not_an_id_prefix(prefix: str, says: str) -> None:
    view = fold(*in_force().story)

    with pytest.raises(LookupError, match=says):
        view.find(prefix)


def test_find_says_when_nothing_matches() -> None:
    agreed = in_force()
    view = fold(*agreed.story)
    absent = "0000" if not agreed.proposal.event_id.hex().startswith("0000") else "ffff"

    with pytest.raises(LookupError, match="No agreement or version"):
        view.find(absent)


def test_find_says_when_a_prefix_is_ambiguous() -> None:
    agreement = only(fold(*in_force().story))
    one = replace(agreement, id=EventId(bytes.fromhex("abcd" + "00" * 30)), versions=[])
    two = replace(agreement, id=EventId(bytes.fromhex("abcd" + "11" * 30)), versions=[])
    view = AgreementsView([one, two], [])

    with pytest.raises(LookupError, match="2 agreement or version ids"):
        view.find("abcd")
    assert view.find("abcd00") is one
