"""A recovery plan that binds the other partner (docs/THREAT_MODEL.md §23.1).

A recovery plan is in force on its writer's word alone (issue #17), so a modified app
could write a "plan" whose clause binds the *other* partner ("Alex checks in with me
every hour", ``binds: you``) and have it in force with no yes of theirs: the consent an
agreement needs, skipped by choosing another kind. The fold refuses such a version
(``plan_binds_only_its_writer``); it is never in force and binds nobody.
"""

from __future__ import annotations

import pytest

from schemas.practices import AgreementProposed, Binds
from tests.client.builders import paired
from tests.client.test_agreements import codes, fold


@pytest.mark.parametrize("binds", [["you"], ["me", "both"]])
def test_a_plan_clause_that_binds_the_partner_is_never_in_force(binds: list[Binds]) -> None:
    pair = paired()
    plan = pair.blake.write(
        AgreementProposed(
            title="My recovery plan",
            clauses=["Alex checks in with me every hour", "I go to meetings"][: len(binds)],
            kind="recovery_plan",
            binds=binds,
        ),
        deps=[pair.joined],
    )

    view = fold(*pair.membership, plan)

    assert [a for a in view.agreements if a.status == "in_force"] == []
    assert codes(view) == ["plan_binds_only_its_writer"]
    assert "binds only its writer" in view.violations[0].message


def test_a_plan_that_binds_its_writer_is_in_force() -> None:
    pair = paired()
    plan = pair.blake.write(
        AgreementProposed(
            title="My recovery plan",
            clauses=["I go to meetings"],
            kind="recovery_plan",
            binds=["me"],
        ),
        deps=[pair.joined],
    )

    view = fold(*pair.membership, plan)

    assert [a.status for a in view.agreements] == ["in_force"]
    assert codes(view) == []
