"""The three-circles recovery plan belongs to the partner who writes it (issue #17,
docs/PROTOCOL.md §10.3): in force on their word, versioned by them, read by the other
partner, who cannot veto, revise or void it. Histories written when a plan needed the
partner's yes fold by this rule."""

from __future__ import annotations

from schemas.practices import CircleItem, ThreeCircles
from tests.client.agreement_events import (
    accept,
    codes,
    decline,
    fold,
    only,
    propose,
    review,
    version,
    withdraw,
)
from tests.client.builders import paired

PLAN = ThreeCircles(
    inner=["no gambling"],
    middle=["sports news after midnight"],
    items=[
        CircleItem(circle="inner", text="no gambling", definition="any bet, online or not"),
        CircleItem(
            circle="middle",
            text="sports news after midnight",
            type="warning_sign",
            reviewed_with=["sponsor", "therapist"],
        ),
    ],
)


def _plan(writer, *, revises=None, deps=(), circles=PLAN):  # type: ignore[no-untyped-def]
    return propose(
        writer,
        ["Inner circle: no gambling"],
        title="Recovery plan",
        kind="recovery_plan",
        circles=circles,
        revises=revises,
        deps=deps,
    )


def test_a_plan_is_in_force_on_its_writers_word_with_its_item_definitions() -> None:
    pair = paired()
    plan = _plan(pair.alex, deps=[pair.joined])

    view = fold(*pair.membership, plan)

    agreement = only(view)
    assert (agreement.status, agreement.current.proposer) == (  # type: ignore[union-attr]
        "in_force",
        pair.alex.member_id,
    )
    [_, middle] = agreement.current.circles.items  # type: ignore[union-attr]
    assert (middle.type, middle.reviewed_with) == ("warning_sign", ["sponsor", "therapist"])
    assert codes(view) == []


def test_a_plan_written_under_the_old_rule_and_declined_by_the_partner_is_still_in_force() -> None:
    # Under the old rule Blake's decline closed the plan as "declined".
    pair = paired()
    plan = _plan(pair.alex, deps=[pair.joined])
    declined = decline(pair.blake, plan, deps=[plan], reason="not strict enough")

    view = fold(*pair.membership, plan, declined)

    assert only(view).status == "in_force"
    assert codes(view) == ["plan_belongs_to_its_writer"]
    assert "cannot change, decline or end it" in view.violations[0].message


def test_the_partners_withdrawal_does_not_void_the_plan() -> None:
    # Under the old rule: accepted, in force, then voided by Blake's withdrawal.
    pair = paired()
    plan = _plan(pair.alex, deps=[pair.joined])
    read = accept(pair.blake, plan, deps=[plan])
    voided = withdraw(pair.blake, plan, deps=[read])
    reviewed = review(pair.blake, plan, "revise", deps=[voided])

    view = fold(*pair.membership, plan, read, voided, reviewed)

    agreement = only(view)
    assert agreement.status == "in_force"
    assert [c.member for c in version(view, plan).accepted_by] == [pair.blake.member_id]
    assert version(view, plan).reviews == []
    assert codes(view) == ["plan_belongs_to_its_writer"] * 2


def test_only_the_writer_revises_the_plan_and_each_revision_is_in_force_at_once() -> None:
    pair = paired()
    plan = _plan(pair.alex, deps=[pair.joined])
    by_partner = _plan(
        pair.blake, revises=plan, deps=[plan], circles=ThreeCircles(inner=["no phone"])
    )
    revised = _plan(
        pair.alex, revises=plan, deps=[by_partner], circles=ThreeCircles(inner=["no betting"])
    )

    view = fold(*pair.membership, plan, by_partner, revised)

    agreement = only(view)
    assert [v.status for v in agreement.versions] == ["superseded", "in_force"]
    assert agreement.current.circles == ThreeCircles(inner=["no betting"])  # type: ignore[union-attr]
    assert agreement.current.number == 2  # type: ignore[union-attr]
    assert codes(view) == ["plan_belongs_to_its_writer"]


def test_the_writer_may_retire_their_own_plan() -> None:
    pair = paired()
    plan = _plan(pair.alex, deps=[pair.joined])
    retired = withdraw(pair.alex, plan, deps=[plan])

    view = fold(*pair.membership, plan, retired)

    assert only(view).status == "withdrawn"
    assert codes(view) == []


# --- whom a clause binds ----------------------------------------------------------------


def _bound(writer, clauses, binds, *, revises=None, deps=()):  # type: ignore[no-untyped-def]
    from schemas.practices import AgreementProposed

    payload = AgreementProposed(
        title="Phones",
        clauses=list(clauses),
        binds=list(binds),
        review_on="2026-06-01",
        revises=None if revises is None else revises.event_id,
    )
    return writer.write(payload, deps=deps)


def test_the_partners_narrowing_reads_me_and_you_from_their_own_side() -> None:
    # Alex's "me" is Blake's "you": dropping a clause keeps the other one's binding.
    pair = paired()
    proposed = _bound(pair.alex, ["I show my phone", "No phones at dinner"], ["me", "both"])
    accepted = accept(pair.blake, proposed, deps=[proposed])
    narrowed = _bound(pair.blake, ["I show my phone"], ["you"], revises=proposed, deps=[accepted])

    view = fold(*pair.membership, proposed, accepted, narrowed)

    assert version(view, narrowed).status == "in_force"
    assert version(view, narrowed).narrowing
    assert version(view, narrowed).binds == ("you",)


def test_changing_whom_a_clause_binds_is_not_a_narrowing() -> None:
    pair = paired()
    proposed = _bound(pair.alex, ["Phones away", "No phones at dinner"], ["me", "both"])
    accepted = accept(pair.blake, proposed, deps=[proposed])
    shifted = _bound(pair.alex, ["Phones away"], ["you"], revises=proposed, deps=[accepted])

    view = fold(*pair.membership, proposed, accepted, shifted)

    assert version(view, shifted).status == "proposed"
    assert not version(view, shifted).narrowing
