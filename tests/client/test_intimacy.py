"""The intimacy practices as views (client/views/intimacy/).

The story: Alex created the space, Blake joined. Every event is a real sealed envelope,
admitted by a real verifier, folded in causal order. The convergence tests at the end
deliver the same events in random orders, with the partners writing offline at the same
time, and check that both see the same plan, stage and history, and that a step back
and a move forward at the same time always resolve to the step back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from client.core.verify import Membership, VerifiedEvent
from client.views.fold import causal_order
from client.views.intimacy import (
    build_intimacy_views,
    fold_boundaries,
    fold_language,
    fold_pacing,
    fold_preparations,
    terms_for_signal,
)
from schemas.intimacy import (
    PACING_OFFER_TTL_MS,
    BoundaryAcknowledged,
    BoundarySet,
    BoundaryWithdrawn,
    DisclosurePrepared,
    DisclosureQuestionsMarked,
    IntimacyCheckIn,
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingStage,
    PacingSteppedBack,
    PrivateNote,
    QuestionMark,
    TermAccepted,
    TermProposed,
    TermWithdrawn,
)
from schemas.payloads import Payload
from tests.client.builders import Built, admit_until_settled, new_verifier
from tests.client.test_recovery import Story, recovery_pair

STAGES = [
    PacingStage(title="Non-sexual closeness", includes=["holding hands", "hugs"]),
    PacingStage(title="Sensate focus, no genitals"),
    PacingStage(title="Sensate focus"),
    PacingStage(title="Intercourse, when both want it"),
]


def fold(story: Story) -> tuple[list[VerifiedEvent], Membership]:
    return story.admitted()


def plan_in_use(story: Story) -> Built:
    plan = story.write(story.alex, PacingPlanProposed(stages=STAGES))
    story.write(story.blake, PacingPlanAccepted(version=plan.event_id))
    return plan


def forward(story: Story, plan: Built, from_stage: int) -> tuple[Built, Built]:
    offer = story.write(
        story.alex, PacingForwardProposed(version=plan.event_id, from_stage=from_stage)
    )
    accept = story.write(story.blake, PacingForwardAccepted(offer=offer.event_id))
    return offer, accept


# --- pacing ------------------------------------------------------------------------


def test_a_pacing_plan_is_in_use_only_once_both_partners_accepted_it() -> None:
    story = Story()
    plan = story.write(story.alex, PacingPlanProposed(stages=STAGES))

    before = fold_pacing(*fold(story))
    story.write(story.blake, PacingPlanAccepted(version=plan.event_id))
    after = fold_pacing(*fold(story))

    assert before.plan is None
    assert before.stage is None
    assert [v.id for v in before.pending_versions()] == [plan.event_id]
    assert after.plan is not None
    assert after.plan.id == plan.event_id
    assert after.stage == 0


def test_moving_forward_needs_the_other_partner_to_accept_the_offer() -> None:
    story = Story()
    plan = plan_in_use(story)
    offer = story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=0))
    offered = fold_pacing(*fold(story))
    own = story.write(story.alex, PacingForwardAccepted(offer=offer.event_id))
    self_accepted = fold_pacing(*fold(story))
    story.write(story.blake, PacingForwardAccepted(offer=offer.event_id))

    view = fold_pacing(*fold(story))

    assert offered.stage == 0
    assert [o.id for o in offered.open_offers(story.alex.clock_ms)] == [offer.event_id]
    assert self_accepted.stage == 0
    assert (own.event_id, "answer_own_pacing_offer") in [
        (v.event_id, v.code) for v in self_accepted.violations
    ]
    assert view.stage == 1
    assert [m.kind for m in view.history] == ["plan_in_use", "offered", "forward"]


def test_a_declined_offer_leaves_the_stage_and_says_nothing_more() -> None:
    story = Story()
    plan = plan_in_use(story)
    offer = story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=0))
    story.write(story.blake, PacingForwardDeclined(offer=offer.event_id))
    story.write(story.blake, PacingForwardAccepted(offer=offer.event_id))

    view = fold_pacing(*fold(story))

    assert view.stage == 0
    assert [m.kind for m in view.history] == ["plan_in_use", "offered", "declined"]


def test_an_offer_not_accepted_within_48_hours_lapses() -> None:
    story = Story()
    plan = plan_in_use(story)
    offer = story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=0))
    offered_at = story.alex.clock_ms
    story.blake.clock_ms = offered_at + PACING_OFFER_TTL_MS
    late = story.write(story.blake, PacingForwardAccepted(offer=offer.event_id))

    view = fold_pacing(*fold(story))

    assert view.stage == 0
    assert view.open_offers(offered_at + PACING_OFFER_TTL_MS) == []
    assert (late.event_id, "pacing_forward_not_applied") in [
        (v.event_id, v.code) for v in view.violations
    ]


def test_either_partner_steps_back_alone_at_once_and_the_history_shows_who() -> None:
    story = Story()
    plan = plan_in_use(story)
    forward(story, plan, 0)
    forward(story, plan, 1)
    back = story.write(story.blake, PacingSteppedBack(to_stage=0))

    view = fold_pacing(*fold(story))

    assert view.stage == 0
    assert view.history[-1].kind == "back"
    assert view.history[-1].member == story.blake.member_id
    assert view.history[-1].event_id == back.event_id
    assert view.step_backs == 1
    assert [m.stage for m in view.history] == [0, 0, 1, 1, 2, 0]


def test_a_step_back_never_raises_the_stage() -> None:
    story = Story()
    plan = plan_in_use(story)
    forward(story, plan, 0)
    story.write(story.alex, PacingSteppedBack(to_stage=0))
    story.write(story.blake, PacingSteppedBack(to_stage=2))

    assert fold_pacing(*fold(story)).stage == 0


def offline_forward_and_back(
    story: Story, plan: Built, stage: int, to_stage: int, alex_extra: int, blake_extra: int
) -> tuple[Built, Built]:
    """Alex offers ``stage`` -> next; Blake accepts; Alex, not having seen the
    acceptance, steps back to ``to_stage``. Extra check-ins on either side move the
    step back before or after the acceptance in the causal order."""
    offer = story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=stage))
    alex_has_seen = story.heads["blake"]
    for _ in range(blake_extra):
        story.write(story.blake, IntimacyCheckIn(comfort=2))
    accept = story.write(story.blake, PacingForwardAccepted(offer=offer.event_id))
    blake_head = story.heads["blake"]
    story.heads["blake"] = alex_has_seen
    for _ in range(alex_extra):
        story.write(story.alex, IntimacyCheckIn(fatigue=3))
    back = story.write(story.alex, PacingSteppedBack(to_stage=to_stage))
    story.heads["blake"] = blake_head
    return accept, back


def test_a_step_back_concurrent_with_an_acceptance_wins_in_either_order() -> None:
    # Whichever sorts first, both partners end at stage 0.
    orders = set()
    for alex_extra, blake_extra in ((0, 2), (2, 0), (0, 0)):
        story = Story()
        plan = plan_in_use(story)
        forward(story, plan, 0)
        accept, back = offline_forward_and_back(story, plan, 1, 0, alex_extra, blake_extra)
        ordered, membership = fold(story)
        ids = [e.event_id for e in ordered]
        orders.add(ids.index(back.event_id) < ids.index(accept.event_id))

        view = fold_pacing(ordered, membership)
        assert view.stage == 0, (alex_extra, blake_extra)
        # Honest concurrency is never a violation (PROTOCOL §10.5): Blake had not seen
        # the step back, so an acceptance it overtook changed nothing and broke nothing.
        assert view.violations == [], (alex_extra, blake_extra)
        if ids.index(back.event_id) < ids.index(accept.event_id):
            assert view.without_effect == {accept.event_id}
    assert orders == {True, False}


def test_two_offers_accepted_at_once_move_the_plan_once_and_break_no_rule() -> None:
    """Each partner offers to move on from stage 0 and, offline, each accepts the
    other's offer: the first acceptance in the order moves the plan; the second had not
    seen it, so it is without effect, not a violation (PROTOCOL §10.5)."""
    story = Story()
    plan = plan_in_use(story)
    alex_offer = story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=0))
    blake_offer = story.write(
        story.blake, PacingForwardProposed(version=plan.event_id, from_stage=0)
    )
    alex_saw = story.heads["blake"]
    blake_accepts = story.write(story.blake, PacingForwardAccepted(offer=alex_offer.event_id))
    blake_head = story.heads["blake"]
    story.heads["blake"] = alex_saw
    alex_accepts = story.write(story.alex, PacingForwardAccepted(offer=blake_offer.event_id))
    story.heads["blake"] = blake_head

    view = fold_pacing(*fold(story))

    assert view.stage == 1
    assert view.violations == []
    assert len(view.without_effect & {blake_accepts.event_id, alex_accepts.event_id}) == 1
    assert [m.kind for m in view.history].count("forward") == 1


def test_a_step_back_that_changes_nothing_still_beats_a_concurrent_forward() -> None:
    # At stage 1 Alex offers 1 -> 2, then (not having seen Blake accept) steps back "to
    # 1", which sorts before the acceptance: the acceptance is not applied.
    story = Story()
    plan = plan_in_use(story)
    forward(story, plan, 0)
    accept, back = offline_forward_and_back(story, plan, 1, 1, alex_extra=0, blake_extra=2)
    ordered, membership = fold(story)
    ids = [e.event_id for e in ordered]

    assert ids.index(back.event_id) < ids.index(accept.event_id)
    assert fold_pacing(ordered, membership).stage == 1


# --- check-ins, language, boundaries, preparation ---------------------------------


def test_shared_intimacy_checkins_are_listed_with_only_the_fields_given() -> None:
    story = Story()
    story.write(story.alex, IntimacyCheckIn(comfort=3, desire="responsive", note="tired today"))

    views = build_intimacy_views(*fold(story))

    (checkin,) = views.checkins
    assert (checkin.comfort, checkin.desire, checkin.arousal, checkin.fatigue) == (
        3,
        "responsive",
        None,
        None,
    )
    assert checkin.author == story.alex.member_id


def test_a_term_is_in_use_when_both_accept_and_either_withdraws_it_at_once() -> None:
    story = Story()
    yellow = story.write(story.alex, TermProposed(term="yellow", meaning="slow down", kind="slow"))
    pending, _ = fold_language(*fold(story))
    story.write(story.blake, TermAccepted(version=yellow.event_id))
    in_use, _ = fold_language(*fold(story))
    story.write(story.blake, TermWithdrawn(version=yellow.event_id))
    withdrawn, _ = fold_language(*fold(story))

    assert pending[0].in_use is None
    assert in_use[0].in_use is not None
    assert in_use[0].in_use.term == "yellow"
    assert [t.term for t in terms_for_signal(in_use, "slow")] == ["yellow"]
    assert withdrawn[0].in_use is None
    assert withdrawn[0].withdrawn_by == story.blake.member_id


def test_a_revised_term_replaces_the_old_one_once_both_accept() -> None:
    story = Story()
    first = story.write(story.alex, TermProposed(term="yellow", meaning="slow down", kind="slow"))
    story.write(story.blake, TermAccepted(version=first.event_id))
    second = story.write(
        story.blake,
        TermProposed(term="amber", meaning="slow down", kind="slow", revises=first.event_id),
    )
    story.write(story.alex, TermAccepted(version=second.event_id))

    terms, _ = fold_language(*fold(story))

    assert len(terms) == 1
    assert terms[0].in_use is not None
    assert terms[0].in_use.term == "amber"
    assert [v.term for v in terms[0].versions] == ["yellow", "amber"]


def test_stop_can_never_be_given_another_meaning() -> None:
    story = Story()
    bad = story.write(story.alex, TermProposed(term="Stop", meaning="keep going", kind="ok"))
    story.write(story.blake, TermAccepted(version=bad.event_id))

    terms, violations = fold_language(*fold(story))

    assert terms == []
    assert "stop_cannot_be_redefined" in {v.code for v in violations}


def test_a_boundary_needs_no_consent_and_the_partner_only_acknowledges_it() -> None:
    story = Story()
    first = story.write(
        story.blake,
        BoundarySet(area="digital", when="I find hidden apps", i_will="sleep in the guest room"),
    )
    story.write(story.alex, BoundaryAcknowledged(version=first.event_id))
    revised = story.write(
        story.blake,
        BoundarySet(
            area="digital",
            when="I find hidden apps",
            i_will="stay with my sister for a few days",
            non_negotiable=True,
            revises=first.event_id,
        ),
    )
    hijack = story.write(story.alex, BoundaryWithdrawn(version=revised.event_id))

    boundaries, violations = fold_boundaries(*fold(story))

    (boundary,) = boundaries
    assert boundary.owner == story.blake.member_id
    assert boundary.current.payload.non_negotiable
    assert [len(v.acknowledged_by) for v in boundary.versions] == [1, 0]
    assert boundary.withdrawn_at is None
    assert (hijack.event_id, "not_boundary_owner") in [(v.event_id, v.code) for v in violations]


def test_the_owner_withdraws_a_boundary_and_its_history_stays() -> None:
    story = Story()
    first = story.write(story.blake, BoundarySet(area="talking", i_will="You must call me"))
    story.write(story.blake, BoundaryWithdrawn(version=first.event_id))

    (boundary,), _ = fold_boundaries(*fold(story))

    assert boundary.withdrawn_at is not None
    assert boundary.request_like


def test_a_disclosure_preparation_has_each_question_marked_answered_or_not() -> None:
    story = Story()
    prep = story.write(
        story.blake,
        DisclosurePrepared(
            questions=["When did it start?", "Were there others?"],
            detail_wanted="some",
            topics_not_to_hear=["physical descriptions"],
            safety_needs=["STI testing"],
        ),
    )
    story.write(
        story.alex,
        DisclosureQuestionsMarked(
            preparation=prep.event_id,
            marks=[QuestionMark(index=0, answered=True), QuestionMark(index=1, answered=False)],
        ),
    )
    story.write(
        story.blake,
        DisclosureQuestionsMarked(
            preparation=prep.event_id, marks=[QuestionMark(index=1, answered=True)]
        ),
    )

    (view,), _ = fold_preparations(*fold(story))

    assert view.owner == story.blake.member_id
    first, second = view.mark_of(0), view.mark_of(1)
    assert first is not None
    assert first.answered
    assert first.by == story.alex.member_id
    assert second is not None
    assert second.answered
    assert second.by == story.blake.member_id


def test_a_private_note_in_the_shared_space_is_not_shown_and_verify_says_so() -> None:
    story = Story()
    note = story.write(story.alex, PrivateNote(text="only mine"))

    views = build_intimacy_views(*fold(story))

    assert (note.event_id, "private_note_in_shared_space") in [
        (v.event_id, v.code) for v in views.violations
    ]


# --- convergence under concurrent offline changes ---------------------------------


@dataclass
class _Device:
    writer: Any
    chain: list[Built]
    seen: int = 0
    """How many of the partner's events this device has seen."""
    plans: list[Built] = field(default_factory=list)
    offers: list[Built] = field(default_factory=list)


_OPS = st.tuples(
    st.sampled_from(["alex", "blake"]),
    st.sampled_from(["plan", "accept_plan", "offer", "accept", "decline", "back", "sync"]),
    st.integers(min_value=0, max_value=1_000),
)


def pacing_history(script: list[tuple[str, str, int]]) -> list[Built]:
    """Both partners working on the plan offline, syncing at random moments."""
    pair = recovery_pair()
    devices = {
        "alex": _Device(pair.alex, [pair.genesis, pair.invite]),
        "blake": _Device(pair.blake, [pair.joined], seen=2),
    }
    for who, op, pick in script:
        me = devices[who]
        partner = devices["blake" if who == "alex" else "alex"]
        if op == "sync":
            part = pick % (len(partner.chain) + 1) if pick % 2 else len(partner.chain)
            me.seen = max(me.seen, part)
            continue
        theirs = partner.chain[: me.seen]
        payload: Payload
        their_plans = [e for e in partner.plans if e in theirs]
        plans = me.plans + their_plans
        their_offers = [e for e in partner.offers if e in theirs]
        # Mostly sensible moves (accept the partner's plan or offer, offer from an early
        # stage of the newest plan), sometimes not: both kinds must converge.
        if (op == "plan" and pick % 3 == 0) or not plans:
            payload = PacingPlanProposed(stages=STAGES[: 2 + pick % 3])
        elif op in ("plan", "accept_plan"):
            pool = their_plans if their_plans and pick % 4 else plans
            payload = PacingPlanAccepted(version=pool[-1 - pick % len(pool)].event_id)
        elif op == "offer":
            payload = PacingForwardProposed(version=plans[-1].event_id, from_stage=pick % 2)
        elif op in ("accept", "decline") and (their_offers or me.offers):
            pool = their_offers if their_offers and pick % 4 else their_offers + me.offers
            target = pool[-1 - pick % len(pool)].event_id
            payload = (
                PacingForwardAccepted(offer=target)
                if op == "accept" or pick % 3
                else PacingForwardDeclined(offer=target)
            )
        else:
            payload = PacingSteppedBack(to_stage=pick % 3)
        deps = partner.chain[me.seen - 1 : me.seen] if me.seen else []
        built = me.writer.write(payload, deps=deps)
        me.chain.append(built)
        if isinstance(payload, PacingPlanProposed):
            me.plans.append(built)
        elif isinstance(payload, PacingForwardProposed):
            me.offers.append(built)
    return [*devices["alex"].chain, *devices["blake"].chain]


def _fold_arrival(arrival: list[Built]) -> tuple[list[VerifiedEvent], Membership]:
    verifier = new_verifier()
    outcomes = admit_until_settled(verifier, [e.data for e in arrival])
    events = [o.event for o in outcomes if o.event is not None]
    assert len(events) == len(arrival)
    return causal_order(events), verifier.membership


_SCRIPTS = st.lists(_OPS, min_size=4, max_size=30)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_partners_holding_the_same_events_see_the_same_intimacy_views_whatever_the_order(
    data: st.DataObject,
) -> None:
    history = pacing_history(data.draw(_SCRIPTS, label="script"))
    positions = range(len(history))
    first = data.draw(st.permutations(positions), label="arrival order at device 1")
    second = data.draw(st.permutations(positions), label="arrival order at device 2")

    one = build_intimacy_views(*_fold_arrival([history[i] for i in first]))
    two = build_intimacy_views(*_fold_arrival([history[i] for i in second]))

    assert one == two


@settings(max_examples=80, deadline=None)
@given(
    backs=st.lists(st.integers(min_value=0, max_value=3), max_size=4),
    stage=st.integers(min_value=1, max_value=2),
    to_stage=st.integers(min_value=0, max_value=2),
    alex_extra=st.integers(min_value=0, max_value=3),
    blake_extra=st.integers(min_value=0, max_value=3),
    order=st.randoms(use_true_random=False),
)
def test_a_step_back_and_a_move_forward_at_the_same_time_resolve_to_the_step_back(
    backs: list[int],
    stage: int,
    to_stage: int,
    alex_extra: int,
    blake_extra: int,
    order: Any,
) -> None:
    # Whatever steps back came before, the couple reaches ``stage`` together; then Alex
    # offers to move on and Blake accepts while Alex, offline, steps back to a stage at
    # or below the one Alex last saw. Every arrival order ends at the step back.
    story = Story()
    plan = plan_in_use(story)
    for i, back in enumerate(backs):
        story.write(story.blake if i % 2 else story.alex, PacingSteppedBack(to_stage=back))
    for s in range(stage):
        forward(story, plan, s)
    target = min(to_stage, stage)
    offline_forward_and_back(story, plan, stage, target, alex_extra, blake_extra)
    arrival = list(story.events)
    order.shuffle(arrival)

    view = fold_pacing(*_fold_arrival(arrival))

    assert view.stage == target
    assert view.history[-1].kind == "back"


def test_history_lists_a_step_back_as_a_move_not_a_failure() -> None:
    story = Story()
    plan = plan_in_use(story)
    forward(story, plan, 0)
    story.write(story.alex, PacingSteppedBack(to_stage=0))

    view = fold_pacing(*fold(story))

    assert [m.kind for m in view.history][-1] == "back"
    assert view.step_backs == 1


def _moves(script: list[tuple[str, str, int]]) -> set[str]:
    return {m.kind for m in fold_pacing(*_fold_arrival(pacing_history(script))).history}


REACHING_SCRIPT = [
    ("alex", "plan", 0),
    ("blake", "sync", 0),
    ("blake", "accept_plan", 1),
    ("alex", "sync", 0),
    ("alex", "offer", 0),
    ("blake", "sync", 0),
    ("blake", "accept", 1),
    ("alex", "back", 0),
]


def test_the_pacing_history_strategy_reaches_forward_moves_and_step_backs() -> None:
    # Guards the strategy: scripts it draws (each step is in its domain) include plans in
    # use, moves forward and step backs, not only refused events.
    ops = {"plan", "accept_plan", "offer", "accept", "decline", "back", "sync"}
    assert all(w in ("alex", "blake") and op in ops for w, op, _ in REACHING_SCRIPT)

    assert {"plan_in_use", "offered", "forward", "back"} <= _moves(REACHING_SCRIPT)


def test_after_a_not_now_the_same_partner_waits_a_week_to_offer_again() -> None:
    story = Story()
    plan = plan_in_use(story)
    offer = story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=0))
    story.write(story.blake, PacingForwardDeclined(offer=offer.event_id))
    declined_at = story.blake.clock_ms

    view = fold_pacing(*fold(story))

    assert view.next_offer_at(story.alex.member_id) == declined_at + 7 * 24 * 3600 * 1000
    assert view.next_offer_at(story.blake.member_id) is None
