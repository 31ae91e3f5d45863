"""Consent in the intimacy practices, attacked by a hostile partner (THREAT_MODEL §23.2,
§23.3).

Every event here is a real sealed envelope, admitted by a real verifier and folded in
causal order (the story builders of tests/client). The attacks:

* **A pause that an old "yes" outlives.** Blake offers to move forward, then pauses
  (steps back). Later the couple comes back to that stage together, and Alex accepts
  Blake's old offer, written before the pause: the plan would move forward on a "yes"
  Blake withdrew by pausing. A step back closes every offer open at that moment.
* **An old plan brought back by one partner.** Alex proposed a plan, then chose
  Blake's finer-grained one instead; Alex's old proposal stayed open, so Blake alone
  could later accept it and put it in use, with the current stage number carried over
  to a plan whose stage at that number is further on. A version that another one
  replaced before it came into use can no longer come into use.
* **A withdrawn word brought back by the other partner alone.** Alex withdrew a word of
  the shared language; Blake accepted the *older* version of it, which both had
  accepted before it was revised, and it was in use again with no new yes from Alex.
  The CLI offered this to an honest user (``trellis language accept`` takes any
  version's id). A withdrawal closes every version, and a version coming into use
  closes the others.
* **"stop" in disguise.** The rule that "stop" and "no" always mean stop held only for
  the plain lower-case word: "STOP!", "stop." or "s\u200btop" (a zero-width space,
  invisible on screen) could be given the meaning "keep going".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from client.views.intimacy import fold_language, fold_pacing
from client.views.intimacy.boundaries import looks_like_request
from client.views.intimacy.language import redefines_stop
from schemas.intimacy import (
    IntimacyCheckIn,
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingStage,
    PacingSteppedBack,
    TermAccepted,
    TermProposed,
    TermWithdrawn,
)
from tests.client.test_intimacy import STAGES, fold, forward, plan_in_use
from tests.client.test_recovery import Story
from tests.integration.cli import pair_homes, run
from tests.integration.relay_process import RelayProcess


def show(home: Path) -> Any:
    return json.loads(run(home, "language", "show", "--json").stdout)


def status(home: Path) -> Any:
    return json.loads(run(home, "status", "--json").stdout)


def test_an_offer_made_before_a_step_back_cannot_be_accepted_after_it() -> None:
    story = Story()
    plan = plan_in_use(story)
    forward(story, plan, 0)  # Alex offers 0 -> 1, Blake accepts: stage 1.
    # Blake offers 1 -> 2, then thinks better of it and steps back to the start.
    old_offer = story.write(story.blake, PacingForwardProposed(version=plan.event_id, from_stage=1))
    story.write(story.blake, PacingSteppedBack(to_stage=0))
    paused = fold_pacing(*fold(story))
    # Days later (within 48 hours of the old offer) they move 0 -> 1 together again.
    forward(story, plan, 0)
    back_at_one = fold_pacing(*fold(story))
    # Alex accepts Blake's offer from before the pause.
    late = story.write(story.alex, PacingForwardAccepted(offer=old_offer.event_id))

    view = fold_pacing(*fold(story))

    assert paused.stage == 0
    assert paused.open_offers(story.alex.clock_ms) == []
    assert back_at_one.stage == 1
    assert old_offer.event_id not in [o.id for o in back_at_one.open_offers(story.alex.clock_ms)]
    assert view.stage == 1, "a yes given before a pause must not move the plan on after it"
    assert (late.event_id, "pacing_forward_not_applied") in [
        (v.event_id, v.code) for v in view.violations
    ]


def test_a_step_back_by_the_other_partner_also_closes_an_open_offer() -> None:
    story = Story()
    plan = plan_in_use(story)
    forward(story, plan, 0)
    offer = story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=1))
    story.write(story.blake, PacingSteppedBack(to_stage=0))
    forward(story, plan, 0)
    # Blake, having paused, accepts the old offer: a fresh offer is what asks again.
    story.write(story.blake, PacingForwardAccepted(offer=offer.event_id))

    view = fold_pacing(*fold(story))

    assert view.stage == 1
    assert [m.kind for m in view.history][-1] == "forward"
    assert view.history[-1].stage == 1


def test_a_fresh_offer_after_a_step_back_still_moves_forward_with_both() -> None:
    story = Story()
    plan = plan_in_use(story)
    forward(story, plan, 0)
    story.write(story.blake, PacingSteppedBack(to_stage=0))
    forward(story, plan, 0)
    forward(story, plan, 1)

    assert fold_pacing(*fold(story)).stage == 2


FINER = [
    PacingStage(title="Holding hands"),
    PacingStage(title="Hugs"),
    PacingStage(title="Sensate focus, no genitals"),
    PacingStage(title="Sensate focus"),
    PacingStage(title="Intercourse, when both want it"),
]


def test_a_plan_version_replaced_before_it_came_into_use_cannot_be_brought_back() -> None:
    story = Story()
    coarse = story.write(story.alex, PacingPlanProposed(stages=STAGES))
    finer = story.write(story.blake, PacingPlanProposed(stages=FINER))
    story.write(story.alex, PacingPlanAccepted(version=finer.event_id))
    for stage in range(3):  # together, to "Sensate focus" (stage 3 of the finer plan)
        offer = story.write(
            story.alex, PacingForwardProposed(version=finer.event_id, from_stage=stage)
        )
        story.write(story.blake, PacingForwardAccepted(offer=offer.event_id))
    before = fold_pacing(*fold(story))
    # Months later Blake alone accepts Alex's old proposal: stage 3 there is intercourse.
    late = story.write(story.blake, PacingPlanAccepted(version=coarse.event_id))

    view = fold_pacing(*fold(story))

    assert before.plan is not None
    assert before.plan.id == finer.event_id
    assert before.stage == 3
    assert coarse.event_id not in [v.id for v in before.pending_versions()]
    assert view.plan is not None
    assert view.plan.id == finer.event_id, "Alex never agreed to go back to the old plan"
    assert view.stage == 3
    assert (late.event_id, "pacing_plan_not_applied") in [
        (v.event_id, v.code) for v in view.violations
    ]


def test_a_plan_proposed_after_the_one_in_use_still_comes_into_use_with_both() -> None:
    story = Story()
    plan = plan_in_use(story)
    newer = story.write(story.blake, PacingPlanProposed(stages=FINER, revises=plan.event_id))
    pending = fold_pacing(*fold(story))
    story.write(story.alex, PacingPlanAccepted(version=newer.event_id))

    view = fold_pacing(*fold(story))

    assert [v.id for v in pending.pending_versions()] == [newer.event_id]
    assert view.plan is not None
    assert view.plan.id == newer.event_id
    assert view.violations == []


def revised_word(story: Story) -> tuple[bytes, bytes]:
    """'green' (keep going), in use, then revised to 'go on' and in use: both versions
    have had both partners' yes."""
    first = story.write(story.alex, TermProposed(term="green", meaning="keep going", kind="ok"))
    story.write(story.blake, TermAccepted(version=first.event_id))
    second = story.write(
        story.alex,
        TermProposed(term="go on", meaning="keep going", kind="ok", revises=first.event_id),
    )
    story.write(story.blake, TermAccepted(version=second.event_id))
    return first.event_id, second.event_id


def test_a_withdrawn_word_cannot_be_brought_back_by_the_other_partner_alone() -> None:
    story = Story()
    first, second = revised_word(story)
    story.write(story.alex, TermWithdrawn(version=second))
    story.write(story.blake, TermAccepted(version=first))

    terms, _ = fold_language(*fold(story))

    assert terms[0].in_use is None, "Alex withdrew it; only a new yes from Alex brings it back"
    assert terms[0].withdrawn_by == story.alex.member_id


def test_a_replaced_version_cannot_be_put_back_by_one_partner() -> None:
    story = Story()
    first, second = revised_word(story)
    story.write(story.blake, TermAccepted(version=first))

    terms, _ = fold_language(*fold(story))

    assert terms[0].in_use is not None
    assert terms[0].in_use.id == second


def test_a_new_version_accepted_by_both_brings_a_withdrawn_word_back() -> None:
    story = Story()
    _, second = revised_word(story)
    story.write(story.alex, TermWithdrawn(version=second))
    again = story.write(
        story.blake,
        TermProposed(term="green", meaning="keep going", kind="ok", revises=second),
    )
    story.write(story.alex, TermAccepted(version=again.event_id))

    terms, _ = fold_language(*fold(story))

    assert terms[0].in_use is not None
    assert terms[0].in_use.id == again.event_id


@pytest.mark.parametrize(
    "term",
    [
        "STOP",
        "Stop!",
        "stop.",
        " stop ",
        "s\u200btop",  # zero-width space: shown as "stop"
        "\uff53\uff54\uff4f\uff50",  # fullwidth letters
        "No!",
        "n\u00ado",  # soft hyphen: invisible
        "Freezing",
        "silence.",
    ],
)
def test_stop_in_disguise_can_never_be_given_another_meaning(term: str) -> None:
    story = Story()
    bad = story.write(story.alex, TermProposed(term=term, meaning="keep going", kind="ok"))
    story.write(story.blake, TermAccepted(version=bad.event_id))

    terms, violations = fold_language(*fold(story))

    assert redefines_stop(term, "ok")
    assert [t.in_use for t in terms if t.in_use is not None] == []
    assert "stop_cannot_be_redefined" in {v.code for v in violations}


@pytest.mark.parametrize("term", ["stopping point", "not now", "nope", "go", "stoplight"])
def test_words_that_only_contain_stop_or_no_keep_their_own_meaning(term: str) -> None:
    assert not redefines_stop(term, "ok")
    assert not redefines_stop("stop", "stop")


def test_the_cli_refuses_to_accept_a_closed_version_and_writes_nothing(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = pair_homes(tmp_path, relay.url)
    run(alex, "language", "propose", "green", "--means", "keep going", "--kind", "ok")
    run(alex, "sync")
    run(blake, "sync")
    first = show(blake)["terms"][0]["versions"][0]["version"]
    run(blake, "language", "accept", first[:8])
    run(blake, "sync")
    run(alex, "sync")
    run(alex, "language", "withdraw", first[:8])
    run(alex, "sync")
    run(blake, "sync")
    events_before = status(blake)["events"]

    late = run(blake, "language", "accept", first[:8], check=False)

    assert late.returncode == 1
    assert "closed" in late.stderr
    assert status(blake)["events"] == events_before
    assert show(blake)["terms"][0]["in_use"] is None


@pytest.mark.parametrize("term", ["STOP", "Stop!", "n\u00ado"])
def test_the_cli_refuses_to_give_stop_in_disguise_another_meaning(
    tmp_path: Path, relay: RelayProcess, term: str
) -> None:
    home, _ = pair_homes(tmp_path, relay.url)

    refused = run(
        home, "language", "propose", term, "--means", "go on", "--kind", "ok", check=False
    )

    assert refused.returncode == 2
    assert "always means stop" in refused.stderr


def test_an_acceptance_dated_back_into_the_48_hours_does_not_revive_a_lapsed_offer() -> None:
    """Times are the writers' own. Blake offered three days ago and has written since
    (by Blake's own clock, well past 48 hours); Alex's app dates its acceptance an hour
    after the offer. Alex had seen Blake's later event, so the offer had lapsed by the
    offerer's own clock whatever Alex's says."""
    story = Story()
    plan = plan_in_use(story)
    offer = story.write(story.blake, PacingForwardProposed(version=plan.event_id, from_stage=0))
    offered_at = story.blake.clock_ms
    story.blake.clock_ms = offered_at + 3 * 24 * 3600 * 1000
    story.write(story.blake, IntimacyCheckIn(comfort=2))
    story.alex.clock_ms = offered_at + 3600 * 1000  # dated back
    late = story.write(story.alex, PacingForwardAccepted(offer=offer.event_id))

    view = fold_pacing(*fold(story))

    assert view.stage == 0
    assert (late.event_id, "pacing_forward_not_applied") in [
        (v.event_id, v.code) for v in view.violations
    ]


def test_an_acceptance_within_48_hours_still_moves_forward_with_a_slow_clock() -> None:
    """The offerer wrote again within the 48 hours: the acceptance applies even if the
    acceptor's clock is behind."""
    story = Story()
    plan = plan_in_use(story)
    offer = story.write(story.blake, PacingForwardProposed(version=plan.event_id, from_stage=0))
    offered_at = story.blake.clock_ms
    story.blake.clock_ms = offered_at + 24 * 3600 * 1000
    story.write(story.blake, IntimacyCheckIn(comfort=3))
    story.alex.clock_ms = offered_at - 3600 * 1000  # an hour behind
    story.write(story.alex, PacingForwardAccepted(offer=offer.event_id))

    assert fold_pacing(*fold(story)).stage == 1


def test_an_acceptance_concurrent_with_another_version_coming_into_use_is_no_violation() -> None:
    """Honest concurrency: Blake, offline, accepts Alex's first proposal while Alex
    accepts Blake's. One comes into use; the other acceptance has no effect, and is no
    violation, because its author had not seen the other come into use."""
    story = Story()
    alexs = story.write(story.alex, PacingPlanProposed(stages=STAGES))
    blakes = story.write(story.blake, PacingPlanProposed(stages=FINER))
    blake_has_seen = story.heads["alex"]
    story.write(story.alex, PacingPlanAccepted(version=blakes.event_id))
    alex_head = story.heads["alex"]
    story.heads["alex"] = blake_has_seen
    story.write(story.blake, PacingPlanAccepted(version=alexs.event_id))
    story.heads["alex"] = alex_head

    view = fold_pacing(*fold(story))

    assert view.plan is not None
    assert view.plan.id in {alexs.event_id, blakes.event_id}
    assert view.violations == []


def test_offers_repeated_after_a_not_now_by_a_modified_app_are_never_open() -> None:
    """Blake said "not now". The CLI and the app make Alex wait a week before offering
    again; a modified app offered again at once, and again, each one open on Blake's
    screen: asking until the answer changes."""
    story = Story()
    plan = plan_in_use(story)
    first = story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=0))
    story.write(story.blake, PacingForwardDeclined(offer=first.event_id))
    again = [
        story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=0))
        for _ in range(3)
    ]

    view = fold_pacing(*fold(story))

    assert view.open_offers(story.alex.clock_ms) == []
    assert [(v.event_id, v.code) for v in view.violations] == [
        (e.event_id, "offer_cooling_down") for e in again
    ]


def test_an_offer_a_week_after_a_not_now_is_open_again() -> None:
    story = Story()
    plan = plan_in_use(story)
    first = story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=0))
    story.write(story.blake, PacingForwardDeclined(offer=first.event_id))
    story.alex.clock_ms = story.blake.clock_ms + 7 * 24 * 3600 * 1000
    later = story.write(story.alex, PacingForwardProposed(version=plan.event_id, from_stage=0))

    view = fold_pacing(*fold(story))

    assert [o.id for o in view.open_offers(story.alex.clock_ms)] == [later.event_id]
    assert view.violations == []


@pytest.mark.parametrize(
    "text",
    [
        "YOU MUST tell me first",
        "You  must tell me",
        '"You must tell me"',
        "- you should ask",
        "You\u00a0must tell me",
        "\uff39ou must tell me",
    ],
)
def test_a_demand_dressed_up_is_still_pointed_out_as_a_request(text: str) -> None:
    assert looks_like_request(text)


@pytest.mark.parametrize("text", ["I will leave the room", "If you must know, I will rest"])
def test_what_the_owner_will_do_is_not_called_a_request(text: str) -> None:
    assert not looks_like_request(text)
