"""Issue #13: ``trellis plan`` and ``trellis windows`` have their own ``show``,
``accept``, ``decline`` and ``withdraw``. A window is a mutual agreement, so all four
apply; the recovery plan is its writer's (issue #17, DOMAIN.md), so ``accept`` and
``decline`` say plainly that it needs no one's yes, and write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli import pair_homes, run
from tests.integration.relay_process import RelayProcess


@pytest.fixture
def paired(tmp_path: Path, relay: RelayProcess) -> tuple[Path, Path]:
    return pair_homes(tmp_path, relay.url)


def sync_both(alex: Path, blake: Path) -> None:
    run(alex, "sync")
    run(blake, "sync")
    run(alex, "sync")


def events(home: Path) -> int:
    count = json.loads(run(home, "status", "--json").stdout)["events"]
    assert isinstance(count, int)
    return count


def test_the_plan_commands_say_plainly_that_a_plan_needs_no_yes_and_its_writer_retires_it(
    paired: tuple[Path, Path],
) -> None:
    alex, blake = paired
    run(alex, "plan", "propose", "--inner", "no gambling", "--outer", "evening walk")
    # A second `plan propose` revises the plan in use: one plan, a new version.
    again = run(alex, "plan", "propose", "--inner", "no gambling", "--inner", "no casinos")
    assert "version 2 of your recovery plan" in again.stdout
    sync_both(alex, blake)
    [plan] = json.loads(run(blake, "plan", "list", "--json").stdout)
    assert plan["status"] == "in_force"

    shown = run(blake, "plan", "show").stdout  # no id: the plan in use
    assert "inner circle: no casinos" in shown
    assert "Version 2" in shown

    before = events(blake)
    for action in ("accept", "decline"):
        answer = run(blake, "plan", action, check=False)
        assert answer.returncode == 1
        assert "needs no one's yes, so there is nothing to accept or decline" in answer.stderr
        assert "'trellis plan show'" in answer.stderr
        assert "Traceback" not in answer.stderr
    assert events(blake) == before  # nothing was written

    refused = run(blake, "plan", "withdraw", check=False)
    assert refused.returncode == 1
    assert "This recovery plan is Alex's" in refused.stderr
    assert events(blake) == before

    retired = run(alex, "plan", "withdraw")
    assert "Your recovery plan is retired" in retired.stdout
    sync_both(alex, blake)
    [plan] = json.loads(run(blake, "plan", "list", "--json").stdout)
    assert plan["status"] == "withdrawn"
    assert "retired by its writer" in run(blake, "plan", "list").stdout


def test_windows_are_shown_accepted_declined_and_withdrawn_with_their_own_commands(
    paired: tuple[Path, Path],
) -> None:
    alex, blake = paired
    window = ("windows", "propose", "--weekday", "sunday", "--time", "19:00")
    run(alex, *window, "--tz", "Europe/Berlin", "--topic", "finances")
    run(alex, *window, "--tz", "Europe/Berlin", "--topic", "the week")
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Phones",
        "--clause",
        "x",
        "--review-on",
        "2099-01-01",
    )
    sync_both(alex, blake)
    listed = json.loads(run(blake, "windows", "list", "--json").stdout)["windows"]
    finances = next(w for w in listed if w["title"].endswith("finances"))["id"][:10]
    week = next(w for w in listed if w["title"].endswith("the week"))["id"][:10]
    [phones] = json.loads(run(blake, "agreement", "list", "--json").stdout)

    wrong = run(blake, "windows", "accept", phones["id"][:10], check=False)
    assert wrong.returncode == 1
    assert "is an agreement, not a window: use 'trellis agreement ...'" in wrong.stderr

    assert "in force" in run(blake, "windows", "accept", finances).stdout
    run(blake, "windows", "decline", week, "--reason", "not Sundays")
    sync_both(alex, blake)
    shown = run(alex, "windows", "show", finances).stdout
    assert "Sundays" in shown or "Sunday" in shown
    assert "accepted by Blake" in shown
    declined = json.loads(run(alex, "windows", "show", week, "--json").stdout)
    assert declined["status"] == "declined"

    # A time of day moves the next time later the same day (README's walk-through).
    date_only = run(alex, "windows", "postpone", finances, "--to", "2030-01-06", check=False)
    assert date_only.returncode == 2
    assert "with a time: --to 20:30 (the same day)" in date_only.stderr
    moved = run(alex, "windows", "postpone", finances, "--to", "20:30").stdout
    assert moved.startswith("Postponed from ")
    assert " 20:30. A time can be postponed once" in moved

    withdrawn = run(alex, "windows", "withdraw", finances)
    assert "Consent withdrawn. This takes effect now." in withdrawn.stdout
    sync_both(alex, blake)
    statuses = {
        w["title"]: w["status"]
        for w in json.loads(run(blake, "windows", "list", "--json").stdout)["windows"]
    }
    assert statuses == {
        "Transparency window: finances": "withdrawn",
        "Transparency window: the week": "declined",
    }
