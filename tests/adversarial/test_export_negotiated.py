"""Negotiated text in an export: what leaves is what both partners agreed to show
(docs/THREAT_MODEL.md §17.7; docs/PROTOCOL.md "Exports", "Consent").

A version of an agreement or a pacing plan that the other partner accepted is both
partners' words and may leave in either's export, with that acceptance revealed beside
it. A proposal the exporter never accepted (or accepted only after it was declined or
withdrawn), a milestone, a sobriety date's label: only their writer wrote them, so they
leave only with the writer's consent, and are otherwise left out, sealed, by id and kind.

Attacks: a hostile exporter who forges an export that shows the partner's unaccepted
proposal, or "accepts" it after it was withdrawn; a hostile partner who writes a proposal
to get their words into the other's report; two offline devices (the partner withdraws
their proposal, or ends their consent, while the export is made).

Every envelope is real (tests/client/builders.py); each forged export is signed by the
forger's own device, as a dishonest partner would.
"""

from __future__ import annotations

import msgspec
import pytest

from client.export import build_export, render_html, verify_export
from client.keys import crypto
from schemas.ids import EventId
from schemas.intimacy import PacingPlanAccepted, PacingPlanProposed, PacingStage
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementWithdrawn,
    LeftOut,
    MilestoneMarked,
    SobrietyStarted,
)
from tests.adversarial.export_story import (
    ASKED,
    CREATED_AT_MS,
    Made,
    admitted,
    couple,
    page_text,
    with_revealed,
)
from tests.adversarial.export_story import codes as _codes
from tests.client.builders import EPOCH_KEYS, SPACE_ID, Built, Writer

BLAKES_WORDS = "Alex must hand over every password"


def _blake_proposes(alex: Writer, blake: Writer, built: list[Built]) -> Built:
    return blake.write(
        AgreementProposed(title="Passwords", clauses=[BLAKES_WORDS], binds=["you"]),
        deps=[built[-1]],
    )


# --- an accepted version is both partners' words ---------------------------------------


def test_the_partners_proposal_the_exporter_accepted_leaves_with_that_acceptance() -> None:
    alex, blake, built = couple()
    proposal = _blake_proposes(alex, blake, built)
    accepted = alex.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    # The exporter chooses the version only: the acceptance that makes it theirs too
    # is revealed beside it, so the verifier can see it.
    made = Made(alex, [*built, proposal, accepted], {proposal.event_id})

    assert made.left_out == []
    assert EventId(accepted.event_id) in made.kept
    assert _codes(made.document) == []
    assert BLAKES_WORDS in page_text(render_html(made.document))


def test_an_accepted_pacing_plan_of_the_partner_leaves_and_an_unaccepted_one_does_not() -> None:
    alex, blake, built = couple()
    plan = blake.write(
        PacingPlanProposed(stages=[PacingStage(title="Holding hands only")]), deps=[built[-1]]
    )
    unaccepted = Made(alex, [*built, plan], {plan.event_id})
    assert [(i.event, i.kind) for i in unaccepted.left_out] == [
        (plan.event_id, "pacing_plan_proposed")
    ]
    assert _codes(unaccepted.document) == []
    assert "a pacing plan proposal by Blake" in render_html(unaccepted.document)

    alex2, blake2, built2 = couple()
    plan2 = blake2.write(
        PacingPlanProposed(stages=[PacingStage(title="Holding hands only")]), deps=[built2[-1]]
    )
    accepted = alex2.write(PacingPlanAccepted(version=plan2.event_id), deps=[plan2])
    agreed = Made(alex2, [*built2, plan2, accepted], {plan2.event_id})
    assert agreed.left_out == []
    assert _codes(agreed.document) == []
    assert "Holding hands only" in render_html(agreed.document)


# --- an unaccepted proposal is its writer's words ---------------------------------------


@pytest.mark.parametrize("answer", ["none", "declined"])
def test_the_partners_unaccepted_proposal_is_left_out_by_id_and_kind(answer: str) -> None:
    alex, blake, built = couple()
    proposal = _blake_proposes(alex, blake, built)
    built = [*built, proposal]
    chosen = {proposal.event_id}
    if answer == "declined":
        declined = alex.write(AgreementDeclined(version=proposal.event_id), deps=[proposal])
        built.append(declined)
        chosen.add(declined.event_id)

    made = Made(alex, built, chosen)

    assert [(i.event, i.kind) for i in made.left_out] == [(proposal.event_id, "agreement_proposed")]
    assert _codes(made.document) == []
    report = render_html(made.document)
    page = page_text(report)
    assert BLAKES_WORDS not in page
    assert "Passwords" not in page
    # The timeline stays auditable: the event's id and kind appear, only the words are
    # withheld, and Blake's chain is carried so "sealed in this file" is true.
    short = proposal.event_id.hex()[:8]
    assert f"Left out: an agreement proposal by Blake (<code>{short}</code>)" in page
    verified, _ = verify_export(made.document)
    assert verified is not None
    blakes = next(c for c in verified.chains if c.device == blake.device_id)
    assert proposal.event_id in blakes.event_ids
    assert proposal.seq not in blakes.revealed_seqs


def test_with_the_partners_consent_their_unaccepted_proposal_leaves_as_theirs() -> None:
    """A hostile partner who writes a proposal to get their words into the other's
    report gets them there only if the exporter chooses that agreement, only with their
    own consent, and shown as their proposal waiting for the exporter, never agreed."""
    alex, blake, built = couple()
    proposal = _blake_proposes(alex, blake, built)
    consent = blake.write(ASKED, deps=[proposal])
    made = Made(alex, [*built, proposal, consent], {proposal.event_id})

    assert made.left_out == []
    assert _codes(made.document) == []
    page = page_text(render_html(made.document))
    assert BLAKES_WORDS in page
    assert "Blake proposed an agreement: Passwords" in page
    assert "proposed, waiting for Alex" in page


def test_the_partners_milestone_and_sobriety_label_are_their_words() -> None:
    alex, blake, built = couple()
    milestone = blake.write(MilestoneMarked(title="Told my sister everything"), deps=[built[-1]])
    sober = blake.write(SobrietyStarted(date="2025-12-01", label="Porn-free"), deps=[milestone])
    unlabelled = blake.write(SobrietyStarted(date="2025-12-02"), deps=[sober])
    written = [milestone, sober, unlabelled]
    made = Made(alex, [*built, *written], {b.event_id for b in written})

    assert {(i.event, i.kind) for i in made.left_out} == {
        (milestone.event_id, "milestone"),
        (sober.event_id, "sobriety_started"),
    }
    assert EventId(unlabelled.event_id) in made.kept  # a date alone is a fact
    assert _codes(made.document) == []
    page = page_text(render_html(made.document))
    assert "Told my sister" not in page
    assert "Porn-free" not in page
    assert "Left out: a milestone by Blake" in page
    assert "Left out: a label on a sobriety date by Blake" in page


# --- forged exports --------------------------------------------------------------------


def test_a_forged_export_that_shows_the_partners_unaccepted_proposal_is_refused() -> None:
    alex, blake, built = couple()
    proposal = _blake_proposes(alex, blake, built)
    made = Made(alex, [*built, proposal], {proposal.event_id})
    held = next(e for e in made.events if e.event_id == proposal.event_id)

    forged = with_revealed(made, [held], alex)

    codes = _codes(forged)
    assert codes == ["words_without_consent"]


def test_an_acceptance_after_the_partners_withdrawal_does_not_make_it_agreed() -> None:
    """The exporter "accepts" Blake's proposal after Blake withdrew it, to show Blake's
    words as agreed: the fold gives that acceptance no effect, and so do the builder
    and the verifier when the withdrawal is revealed."""
    alex, blake, built = couple()
    proposal = _blake_proposes(alex, blake, built)
    withdrawn = blake.write(AgreementWithdrawn(version=proposal.event_id), deps=[proposal])
    late = alex.write(AgreementAccepted(version=proposal.event_id), deps=[withdrawn])
    history = [*built, proposal, withdrawn, late]
    chosen = {proposal.event_id, withdrawn.event_id, late.event_id}

    made = Made(alex, history, chosen)
    assert [i.event for i in made.left_out] == [proposal.event_id]
    assert _codes(made.document) == []

    held = next(e for e in made.events if e.event_id == proposal.event_id)
    assert _codes(with_revealed(made, [held], alex)) == ["words_without_consent"]


def test_a_left_out_proposal_that_is_the_exporters_own_is_refused() -> None:
    """The report would say Blake kept back a proposal that is Alex's."""
    alex, blake, built = couple()
    own = alex.write(AgreementProposed(title="Mine", clauses=["x"]), deps=[built[-1]])
    proposal = _blake_proposes(alex, blake, [*built, own])
    events = admitted([*built, own, proposal])
    declared = alex.write(
        msgspec.structs.replace(
            ASKED, left_out=[LeftOut(event=own.event_id, kind="agreement_proposed")]
        ),
        deps=[proposal],
    )
    document = build_export(
        space_id=SPACE_ID,
        events=admitted([*built, own, proposal, declared]),
        chosen={e.event_id for e in events if e.event_id == built[2].event_id}
        | {EventId(declared.event_id)},
        events_key_for_epoch=lambda epoch: crypto.events_key_for(EPOCH_KEYS[epoch]),
        exporter=alex.device,
        title="Agreements",
        created_at_ms=CREATED_AT_MS,
    )
    assert _codes(document) == ["bad_left_out"]


# --- two offline devices ---------------------------------------------------------------


def test_a_withdrawal_the_exporters_device_has_not_received_cannot_reach_its_export() -> None:
    """Blake withdraws the proposal on one device while Alex, offline, accepts it and
    exports. Alex's device held an open proposal and accepted it: the export is honest
    as of what it held, and says so. Once Alex's device holds the withdrawal too, the two
    are concurrent and the causal order (§10.1) decides, as it does for the fold: if the
    withdrawal comes first, the acceptance had no effect and the next export leaves the
    words out; if the acceptance comes first, the version was in force, then withdrawn."""
    alex, blake, built = couple()
    proposal = _blake_proposes(alex, blake, built)
    accepted = alex.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    made = Made(alex, [*built, proposal, accepted], {proposal.event_id})
    assert made.left_out == []
    assert _codes(made.document) == []

    # Meanwhile Blake withdrew, concurrently (not having seen the acceptance).
    withdrawn = blake.write(AgreementWithdrawn(version=proposal.event_id), deps=[proposal])
    later = Made(
        alex,
        [*built, proposal, accepted, made.declared, withdrawn],
        {proposal.event_id, withdrawn.event_id},
    )
    assert _codes(later.document) == []
    order = [e.event_id for e in later.events]
    page = page_text(render_html(later.document))
    if order.index(EventId(withdrawn.event_id)) < order.index(EventId(accepted.event_id)):
        assert [i.event for i in later.left_out] == [proposal.event_id]
        assert BLAKES_WORDS not in page
    else:
        assert later.left_out == []
        assert "withdrawn by Blake" in page


def test_a_partner_who_ends_their_consent_early_is_heard_by_the_next_export() -> None:
    """Blake gives consent, then gives it again ending today: the later one governs.
    An export Alex's device made before it held the second is not called back; the
    next one leaves Blake's words out."""
    alex, blake, built = couple()
    proposal = _blake_proposes(alex, blake, built)
    consent = blake.write(ASKED, deps=[proposal])
    first = Made(alex, [*built, proposal, consent], {proposal.event_id})
    assert first.left_out == []

    ended = blake.write(
        msgspec.structs.replace(ASKED, expires_at=CREATED_AT_MS - 1), deps=[consent]
    )
    second = Made(alex, [*built, proposal, consent, first.declared, ended], {proposal.event_id})
    assert [i.event for i in second.left_out] == [proposal.event_id]
    assert _codes(second.document) == []


def test_the_partners_unaccepted_revision_is_a_fact_of_the_agreement_in_force() -> None:
    """Blake proposes a revision of an agreement both accepted; Alex has not answered.
    Alex's export shows the version in force, and that Blake proposed a new version,
    without its words."""
    alex, blake, built = couple()
    first = alex.write(
        AgreementProposed(title="Phones", clauses=["Away at dinner"]), deps=[built[-1]]
    )
    accepted = blake.write(AgreementAccepted(version=first.event_id), deps=[first])
    revision = blake.write(
        AgreementProposed(title="Phones", clauses=[BLAKES_WORDS], revises=first.event_id),
        deps=[accepted],
    )
    made = Made(
        alex,
        [*built, first, accepted, revision],
        {first.event_id, accepted.event_id, revision.event_id},
    )

    assert [(i.event, i.about) for i in made.left_out] == [(revision.event_id, first.event_id)]
    assert _codes(made.document) == []
    page = page_text(render_html(made.document))
    assert BLAKES_WORDS not in page
    assert "in force; Blake proposed a new version, as Alex&#x27;s device records it" in page


def test_an_acceptance_of_a_superseded_version_does_not_make_it_agreed() -> None:
    """Blake proposes two revisions; Alex accepts one (it comes into force, the other is
    superseded), then "accepts" the other too. The fold gives that no effect, so the
    superseded revision stays Blake's words: agreed means brought into force."""
    alex, blake, built = couple()
    first = alex.write(
        AgreementProposed(title="Phones", clauses=["Away at dinner"]), deps=[built[-1]]
    )
    accepted = blake.write(AgreementAccepted(version=first.event_id), deps=[first])
    taken = blake.write(
        AgreementProposed(title="Phones", clauses=["Away at meals"], revises=first.event_id),
        deps=[accepted],
    )
    passed = blake.write(
        AgreementProposed(title="Phones", clauses=[BLAKES_WORDS], revises=first.event_id),
        deps=[taken],
    )
    in_force = alex.write(AgreementAccepted(version=taken.event_id), deps=[passed])
    too_late = alex.write(AgreementAccepted(version=passed.event_id), deps=[in_force])
    history = [*built, first, accepted, taken, passed, in_force, too_late]
    made = Made(alex, history, {b.event_id for b in history[3:]})

    assert [i.event for i in made.left_out] == [passed.event_id]
    assert EventId(taken.event_id) in made.kept
    assert _codes(made.document) == []
    assert BLAKES_WORDS not in page_text(render_html(made.document))

    held = next(e for e in made.events if e.event_id == passed.event_id)
    assert _codes(with_revealed(made, [held], alex)) == ["words_without_consent"]
