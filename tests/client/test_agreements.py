"""From proposals to agreements in force: proposing, accepting, declining and withdrawing
(client/views/agreements/, docs/PROTOCOL.md §10.3).

Alex and Blake write real sealed events, admitted by a real verifier. Each transition has
its legal case and its illegal ones. Revisions, review dates and convergence are in the
sibling test_agreements_*.py modules; the shared builders in tests/client/agreement_events.py.
"""

from __future__ import annotations

import pytest

from client.views.agreements import (
    Consent,
)
from tests.client.agreement_events import (
    CLAUSES,
    UNKNOWN,
    accept,
    codes,
    decline,
    fold,
    in_force,
    only,
    propose,
    version,
    withdraw,
)
from tests.client.builders import (
    Writer,
    entry,
    fixed_bytes,
    genesis,
    invite_issued,
    member_joined,
    paired,
)

# --- proposing and accepting ----------------------------------------------------------


def test_a_proposal_starts_an_agreement_that_waits_for_the_partner() -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined])

    view = fold(*pair.membership, proposal)

    agreement = only(view)
    [first] = agreement.versions
    assert (agreement.id, agreement.status, agreement.title) == (
        proposal.event_id,
        "proposed",
        "What we share",
    )
    assert agreement.current is first
    assert (first.number, first.agreement_id, first.revises) == (1, proposal.event_id, None)
    assert first.proposer == pair.alex.member_id
    assert first.clauses == CLAUSES
    assert first.accepted_by == []
    assert first.in_force_since is None
    assert view.violations == []


def test_the_partners_acceptance_puts_the_version_in_force() -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined])
    accepted = accept(pair.blake, proposal, deps=[proposal], note="Yes, and thank you.")

    view = fold(*pair.membership, proposal, accepted)

    agreement = only(view)
    assert agreement.status == "in_force"
    current = agreement.current
    assert current is not None
    [consent] = current.accepted_by
    assert consent == Consent(
        pair.blake.member_id, accepted.event_id, consent.at, "Yes, and thank you."
    )
    assert current.in_force_since == consent.at
    assert view.violations == []


def test_an_acceptance_by_the_proposer_is_a_violation_and_changes_nothing() -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined])
    own = accept(pair.alex, proposal)

    view = fold(*pair.membership, proposal, own)

    assert only(view).status == "proposed"
    assert only(view).versions[0].accepted_by == []
    assert codes(view) == ["accept_by_proposer"]
    assert view.violations[0].event_id == own.event_id


def test_an_acceptance_from_another_device_of_the_proposer_is_still_the_proposers() -> None:
    pair = paired()
    laptop_secret = fixed_bytes("alex laptop invite secret", 20)
    proposal = propose(pair.alex, deps=[pair.joined])
    device_invite = invite_issued(pair.alex, laptop_secret, kind="device")
    laptop = Writer("alex laptop", "Alex")
    laptop_joined = member_joined(laptop, laptop_secret, deps=[device_invite])
    from_laptop = accept(laptop, proposal)

    view = fold(*pair.membership, proposal, device_invite, laptop_joined, from_laptop)

    assert only(view).status == "proposed"
    assert codes(view) == ["accept_by_proposer"]


def test_an_acceptance_of_an_unknown_version_is_a_violation() -> None:
    pair = paired()
    journal = entry(pair.alex, "Not an agreement.", deps=[pair.joined])
    of_nothing = accept(pair.blake, UNKNOWN, deps=[journal])
    of_a_journal_entry = accept(pair.blake, journal)

    view = fold(*pair.membership, journal, of_nothing, of_a_journal_entry)

    assert view.agreements == []
    assert codes(view) == ["unknown_version", "unknown_version"]


def test_an_acceptance_after_consent_was_withdrawn_needs_a_new_proposal() -> None:
    agreed = in_force()
    withdrawn = withdraw(agreed.pair.alex, agreed.proposal, deps=[agreed.accepted])
    again = accept(agreed.pair.blake, agreed.proposal, deps=[withdrawn])

    view = fold(*agreed.story, withdrawn, again)

    assert only(view).status == "withdrawn"
    assert codes(view) == ["accept_of_closed_version"]
    assert view.violations[0].event_id == again.event_id


def test_an_acceptance_of_a_withdrawn_proposal_is_a_violation() -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined])
    taken_back = withdraw(pair.alex, proposal)
    too_late = accept(pair.blake, proposal, deps=[taken_back])

    view = fold(*pair.membership, proposal, taken_back, too_late)

    assert only(view).status == "withdrawn"
    assert only(view).versions[0].accepted_by == []
    assert codes(view) == ["accept_of_closed_version"]


def test_a_second_acceptance_by_the_same_partner_is_a_duplicate() -> None:
    agreed = in_force()
    twice = accept(agreed.pair.blake, agreed.proposal)

    view = fold(*agreed.story, twice)

    assert only(view).status == "in_force"
    assert len(only(view).versions[0].accepted_by) == 1
    assert codes(view) == ["duplicate_consent"]


def test_while_the_proposer_is_the_only_member_nothing_comes_into_force() -> None:
    alex = Writer("alex", "Alex")
    created = genesis(alex)
    proposal = propose(alex)
    own = accept(alex, proposal)

    view = fold(created, proposal, own)

    assert only(view).status == "proposed"
    assert codes(view) == ["accept_by_proposer"]


def test_an_acceptance_by_a_partner_who_joined_after_the_proposal_puts_it_in_force() -> None:
    alex, blake = Writer("alex", "Alex"), Writer("blake", "Blake")
    created = genesis(alex)
    proposal = propose(alex)
    invited = invite_issued(alex)
    joined = member_joined(blake, deps=[invited])
    accepted = accept(blake, proposal)

    assert only(fold(created, proposal, invited, joined, accepted)).status == "in_force"


# --- declining --------------------------------------------------------------------------


def test_the_partner_can_decline_a_proposal_with_a_reason() -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined])
    declined = decline(pair.blake, proposal, deps=[proposal], reason="Not ready for this.")

    view = fold(*pair.membership, proposal, declined)

    agreement = only(view)
    assert agreement.status == "declined"
    [no] = agreement.versions[0].declined_by
    assert (no.member, no.event_id, no.note) == (
        pair.blake.member_id,
        declined.event_id,
        "Not ready for this.",
    )
    assert view.violations == []


def test_a_decline_by_the_proposer_is_a_violation() -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined])
    own = decline(pair.alex, proposal)

    view = fold(*pair.membership, proposal, own)

    assert only(view).status == "proposed"
    assert codes(view) == ["decline_by_proposer"]


def test_declining_a_version_in_force_is_a_violation_withdrawing_is_the_way_out() -> None:
    agreed = in_force()
    declined = decline(agreed.pair.blake, agreed.proposal)

    view = fold(*agreed.story, declined)

    assert only(view).status == "in_force"
    assert codes(view) == ["decline_of_closed_version"]


def test_an_acceptance_of_a_declined_proposal_is_a_violation() -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined])
    declined = decline(pair.blake, proposal, deps=[proposal])
    changed_mind = accept(pair.blake, proposal)

    view = fold(*pair.membership, proposal, declined, changed_mind)

    assert only(view).status == "declined"
    assert codes(view) == ["accept_of_closed_version"]


# --- withdrawing ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alex", "blake"])
def test_either_partner_withdraws_consent_from_a_version_in_force_at_once(who: str) -> None:
    agreed = in_force()
    writer = agreed.pair.alex if who == "alex" else agreed.pair.blake
    withdrawn = withdraw(writer, agreed.proposal, deps=[agreed.accepted])

    view = fold(*agreed.story, withdrawn)

    agreement = only(view)
    assert agreement.status == "withdrawn"
    assert agreement.current is agreement.versions[0]
    by = agreement.versions[0].withdrawn_by
    assert by is not None
    assert (by.member, by.event_id, by.note) == (writer.member_id, withdrawn.event_id, None)
    assert view.violations == []


@pytest.mark.parametrize("who", ["alex", "blake"])
def test_either_partner_can_withdraw_a_proposal_before_it_is_in_force(who: str) -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined])
    writer = pair.alex if who == "alex" else pair.blake
    withdrawn = withdraw(writer, proposal, deps=[proposal])

    view = fold(*pair.membership, proposal, withdrawn)

    assert only(view).status == "withdrawn"
    assert view.violations == []


def test_withdrawing_a_version_already_withdrawn_or_declined_is_a_violation() -> None:
    agreed = in_force()
    first = withdraw(agreed.pair.alex, agreed.proposal, deps=[agreed.accepted])
    second = withdraw(agreed.pair.blake, agreed.proposal, deps=[first])
    proposal = propose(agreed.pair.alex, ["Something else."], deps=[second])
    declined = decline(agreed.pair.blake, proposal, deps=[proposal])
    after_decline = withdraw(agreed.pair.alex, proposal, deps=[declined])

    view = fold(*agreed.story, first, second, proposal, declined, after_decline)

    assert [a.status for a in view.agreements] == ["withdrawn", "declined"]
    assert codes(view) == ["withdraw_of_closed_version", "withdraw_of_closed_version"]
    assert [v.event_id for v in view.violations] == [second.event_id, after_decline.event_id]


def test_withdrawing_a_version_superseded_by_a_widening_is_a_violation() -> None:
    agreed = in_force()
    wider = propose(
        agreed.pair.alex, [*CLAUSES, "Location sharing on."], revises=agreed.proposal,
        deps=[agreed.accepted],
    )  # fmt: skip
    accepted = accept(agreed.pair.blake, wider, deps=[wider])
    stale = withdraw(agreed.pair.blake, agreed.proposal)

    view = fold(*agreed.story, wider, accepted, stale)

    assert only(view).status == "in_force"
    assert only(view).current is version(view, wider)
    assert codes(view) == ["withdraw_of_closed_version"]


def test_an_acceptance_concurrent_with_a_withdrawal_ends_withdrawn_on_both_devices() -> None:
    pair = paired()
    proposal = propose(pair.alex, deps=[pair.joined])
    accepted = accept(pair.blake, proposal, deps=[proposal])
    withdrawn = withdraw(pair.alex, proposal)  # Alex has not seen Blake's acceptance.
    story = [*pair.membership, proposal, accepted, withdrawn]

    as_sent = fold(*story)
    reversed_arrival = fold(*story, arrival=list(reversed(story)))

    assert accepted.lamport == withdrawn.lamport
    assert only(as_sent).status == "withdrawn"
    assert reversed_arrival == as_sent
