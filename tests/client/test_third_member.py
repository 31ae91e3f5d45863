"""A space has exactly two partners for its whole life (issue #10; PROTOCOL.md §9.9):
a lying relay that lets a third person in does not get past the client."""

from __future__ import annotations

import datetime

from client.core.integrity import FindingCode, Refusal, Severity, refusal_findings
from client.core.verify import RejectCode, Verdict
from client.views import Moment, build_views
from client.views.fold import causal_order
from schemas.practices import AgreementAccepted, AgreementProposed
from tests.client.builders import (
    Writer,
    admit_accepting,
    entry,
    fixed_bytes,
    genesis,
    invite_issued,
    member_joined,
    new_verifier,
)

SECOND_SECRET = fixed_bytes("second invite secret", 32)


def test_a_third_member_is_refused_with_a_proof_and_everything_they_write_too() -> None:
    alex, blake, carol = Writer("alex", "Alex"), Writer("blake", "Blake"), Writer("carol", "C")
    created = genesis(alex)
    first = invite_issued(alex)
    second = invite_issued(alex, SECOND_SECRET)  # made before Blake joined: honest
    joined = member_joined(blake, deps=[second])
    proposal = alex.write(
        AgreementProposed(title="Phones at night", clauses=["Off by 10"]), deps=[joined]
    )
    accepted = blake.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    verifier = new_verifier()
    admit_accepting(verifier, created, first, second, joined, proposal, accepted)

    intruder = member_joined(carol, SECOND_SECRET, deps=[accepted])
    later = entry(carol, "I can read everything.", deps=[accepted])
    outcomes = [verifier.admit(e.data) for e in (intruder, later)]

    assert [o.verdict for o in outcomes] == [Verdict.REJECTED, Verdict.REJECTED]
    assert {o.code for o in outcomes} == {RejectCode.THIRD_MEMBER}
    assert len(verifier.membership.members) == 2
    assert carol.device_id not in verifier.membership.devices
    findings = refusal_findings(
        [
            Refusal(o.event_id, e.data, str(o.code), o.reason, None)
            for o, e in zip(outcomes, (intruder, later), strict=True)
        ],
        {},
        lambda _: "someone",
    )
    [finding] = findings
    assert finding.code is FindingCode.INVALID_EVENT
    assert finding.severity is Severity.PROOF
    assert set(finding.events) == {intruder.event_id.hex(), later.event_id.hex()}
    assert "third person" in finding.message


def test_agreements_in_force_stay_in_force_when_a_third_person_tries_to_join() -> None:
    alex, blake, carol = Writer("alex", "Alex"), Writer("blake", "Blake"), Writer("carol", "C")
    created = genesis(alex)
    first = invite_issued(alex)
    second = invite_issued(alex, SECOND_SECRET)
    joined = member_joined(blake, deps=[second])
    proposal = alex.write(
        AgreementProposed(title="Phones at night", clauses=["Off by 10"]), deps=[joined]
    )
    accepted = blake.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    intruder = member_joined(carol, SECOND_SECRET, deps=[accepted])
    verifier = new_verifier()
    admit_accepting(verifier, created, first, second, joined, proposal, accepted)
    verifier.admit(intruder.data)
    kept = [created, first, second, joined, proposal, accepted]
    replay = new_verifier()
    events = []
    for built in kept:
        outcome = replay.admit(built.data)
        assert outcome.event is not None
        events.append(outcome.event)
    moment = Moment(now_ms=1_767_225_600_000, tz=datetime.UTC)

    views = build_views(causal_order(events), verifier.membership, moment)

    [agreement] = views.agreements.agreements
    assert agreement.status == "in_force"
