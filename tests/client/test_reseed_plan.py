"""Re-seeding a relay, round by round, sans-I/O (client/core/decisions.py ReseedPlan,
docs/PROTOCOL.md §9.7).

The flow that runs the rounds against real relays is tested in
tests/integration/test_relocation.py and tests/adversarial/test_relay_move.py; here the
plan is driven directly with what a relay could answer: everything taken, one author
refused, a refusal repeated, a refusal that names no envelope.
"""

from __future__ import annotations

from client.core.decisions import MOVE_WAITS_FOR, ReseedPlan, ReseedRefusal, ReseedRound
from client.core.session import PushRefused
from tests.client.builders import Built, entry, paired


def copy() -> tuple[list[Built], list[Built], list[Built]]:
    """A device's verified copy: Alex's chain and Blake's chain, in accepted order."""
    pair = paired()
    alex = [pair.genesis, pair.invite, entry(pair.alex, "from Alex", deps=[pair.joined])]
    blake = [pair.joined, entry(pair.blake, "from Blake")]
    return [*alex, *blake], alex, blake


def ids(built: list[Built]) -> set[bytes]:
    return {b.event_id for b in built}


def data(built: list[Built]) -> list[bytes]:
    return [b.data for b in built]


def refused(b: Built | None, code: str = "unknown_author") -> PushRefused:
    return PushRefused(code, "not taken", None if b is None else b.data)


def test_the_first_round_pushes_the_whole_copy_in_order_and_reads_from_the_start() -> None:
    everything, _, _ = copy()
    plan = ReseedPlan(data(everything))

    assert plan.next_round() == ReseedRound(push=data(everything), from_start=True)


def test_a_round_with_no_refusal_ends_the_reseed() -> None:
    everything, _, _ = copy()
    plan = ReseedPlan(data(everything))
    plan.next_round()

    plan.record(ids(everything), [])

    assert plan.next_round() is None
    assert plan.stored == ids(everything)
    assert plan.refusals == []


def test_a_refused_author_is_reported_once_and_left_out_of_the_next_round() -> None:
    everything, alex, blake = copy()
    plan = ReseedPlan(data(everything))
    plan.next_round()

    # The relay stored Alex's events and refused Blake's from the first one on.
    plan.record(ids(alex), [refused(blake[0]), refused(blake[1])])

    assert plan.refusals == [
        ReseedRefusal(blake[0].author, blake[0].seq, "unknown_author", "not taken")
    ]
    # Alex's events are stored and Blake's are left out: nothing is left to push.
    assert plan.next_round() is None


def test_events_already_acknowledged_are_not_pushed_again() -> None:
    everything, alex, blake = copy()
    plan = ReseedPlan(data(everything))
    plan.next_round()

    # Only Alex's first event was taken before Blake's chain was refused.
    plan.record({alex[0].event_id}, [refused(blake[0])])

    assert plan.next_round() == ReseedRound(push=data(alex[1:]), from_start=False)
    plan.record(ids(alex[1:]), [])
    assert plan.next_round() is None
    assert plan.stored == ids(alex)


def test_an_author_refused_again_in_a_later_round_is_not_reported_twice() -> None:
    everything, _, blake = copy()
    plan = ReseedPlan(data(everything))
    plan.next_round()
    plan.record(set(), [refused(blake[0])])
    plan.next_round()

    # A relay answering with a refusal of an author already left out (a lying or
    # confused relay) adds nothing to the report.
    plan.record(set(), [refused(blake[1])])

    assert [r.author for r in plan.refusals] == [blake[0].author]


def test_a_refusal_naming_no_envelope_is_reported_and_the_rounds_stay_bounded() -> None:
    everything, _, _ = copy()
    plan = ReseedPlan(data(everything))
    rounds = 0
    while (step := plan.next_round()) is not None:
        rounds += 1
        assert step.push == data(everything)
        plan.record(set(), [refused(None, "quota_exceeded")])

    # Two authors: at most four rounds, each reported (it names nobody to leave out).
    assert rounds == 4
    assert [(r.author, r.first_seq, r.code) for r in plan.refusals] == [
        (None, None, "quota_exceeded")
    ] * 4


def test_an_empty_copy_still_reads_the_relay_once_from_the_start() -> None:
    plan = ReseedPlan([])

    assert plan.next_round() == ReseedRound(push=[], from_start=True)
    plan.record(set(), [])
    assert plan.next_round() is None


def test_a_move_waits_only_when_the_new_relay_does_not_know_this_device() -> None:
    assert {"unknown_device", "device_revoked"} == MOVE_WAITS_FOR
    assert "space_unknown" not in MOVE_WAITS_FOR
