"""The intimacy practices of issue 16, by two partners through the CLI and a real relay."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from client.cli.parser import build_parser
from client.cli.private import NOT_SAFE_POINTER
from tests.integration.cli import FOR_THERAPIST, pair_homes, run
from tests.integration.relay_process import RelayProcess


@pytest.fixture
def paired(tmp_path: Path, relay: RelayProcess) -> tuple[Path, Path]:
    return pair_homes(tmp_path, relay.url)


def as_json(home: Path, *args: str) -> Any:
    return json.loads(run(home, *args, "--json").stdout)


def test_pacing_forward_needs_both_and_a_step_back_is_one_partner_s_alone(
    paired: tuple[Path, Path],
) -> None:
    alex, blake = paired
    run(alex, "pacing", "propose")
    run(alex, "sync")
    run(blake, "sync")
    run(blake, "pacing", "accept")
    run(blake, "sync")
    run(alex, "sync")
    assert as_json(alex, "pacing", "show")["stage"] == 0
    # Each move is a sentence about who did what (not "Blake the plan came into use").
    assert "Blake accepted the plan; it came into use" in run(alex, "pacing", "show").stdout

    offered = run(alex, "pacing", "forward")
    assert "needs both of you" in offered.stdout
    assert as_json(alex, "pacing", "show")["stage"] == 0
    run(alex, "sync")
    run(blake, "sync")
    accepted = run(blake, "pacing", "forward")
    assert "move forward" in accepted.stdout
    run(alex, "sync")
    assert as_json(alex, "pacing", "show")["stage"] == 1

    back = run(blake, "pacing", "back")
    assert "Stepped back" in back.stdout
    run(alex, "sync")
    shown = as_json(alex, "pacing", "show")

    assert shown["stage"] == 0
    assert shown["step_backs"] == 1
    assert [(m["move"], m["by"]) for m in shown["history"]] == [
        ("plan_in_use", "Blake"),
        ("offered", "Alex"),
        ("forward", "Blake"),
        ("back", "Blake"),
    ]
    timeline = run(alex, "timeline").stdout
    assert "Blake stepped back to stage 1" in timeline
    assert "fail" not in timeline.lower()
    assert run(alex, "verify").returncode == 0
    run(alex, "private", "add", "only mine to read")
    exported = paired[0].parent / "pacing.json"
    run(alex, "export", *FOR_THERAPIST, "--pacing", "--format", "json", "--out", str(exported))
    checked = run(alex, "verify-export", str(exported), "--show")
    assert "Blake stepped back to stage 1" in checked.stdout
    assert "wrote in the journal" not in checked.stdout
    assert b"only mine" not in exported.read_bytes()
    refused = run(alex, "pacing", "back", check=False)
    assert refused.returncode == 2
    assert "first stage" in refused.stderr


def test_language_boundaries_and_disclosure_preparation_between_partners(
    paired: tuple[Path, Path],
) -> None:
    alex, blake = paired
    run(alex, "language", "propose", "yellow", "--means", "slow down", "--kind", "slow")
    run(
        blake,
        "boundary",
        "set",
        "--area",
        "digital",
        "--when",
        "I find hidden apps",
        "--i-will",
        "sleep in the guest room",
        "--non-negotiable",
        "--review-on",
        "2030-01-01",
    )
    run(
        blake,
        "disclosure-prep",
        "set",
        "--question",
        "When did it start?",
        "--question",
        "Were there others?",
        "--detail",
        "some",
        "--not-to-hear",
        "physical descriptions",
        "--safety-need",
        "STI testing",
    )
    run(alex, "sync")
    run(blake, "sync")
    run(alex, "sync")
    term = as_json(blake, "language", "show")["terms"][0]
    run(blake, "language", "accept", term["versions"][0]["version"][:8])
    boundary = as_json(alex, "boundaries")[0]
    run(alex, "boundary", "ack", boundary["version"][:8])
    prep = as_json(alex, "disclosure-prep", "show")[0]
    assert prep["topics_not_to_hear"] == ["physical descriptions"]
    run(alex, "disclosure-prep", "mark", "--answered", "1", "--not-answered", "2")
    run(blake, "sync")
    run(alex, "sync")
    run(blake, "sync")

    language = as_json(blake, "language", "show")
    assert language["terms"][0]["in_use"]["term"] == "yellow"
    assert language["signals"]["slow"] == ["yellow"]
    assert as_json(blake, "boundaries")[0]["acknowledged_by"] == ["Alex"]
    questions = as_json(blake, "disclosure-prep", "show")[0]["questions"]
    assert [(q["answered"], q["marked_by"]) for q in questions] == [(True, "Alex"), (False, "Alex")]

    run(alex, "language", "withdraw", term["id"][:8])
    run(blake, "sync")
    assert as_json(blake, "language", "show")["terms"][0]["in_use"] is None
    hijack = run(alex, "boundary", "withdraw", boundary["id"][:8], check=False)
    assert hijack.returncode == 1
    stop = run(alex, "language", "propose", "stop", "--means", "go on", "--kind", "ok", check=False)
    assert stop.returncode == 2


def test_private_check_ins_and_notes_never_reach_the_partner_until_shared(
    paired: tuple[Path, Path], tmp_path: Path
) -> None:
    alex, blake = paired
    run(alex, "intimacy", "checkin", "--comfort", "1", "--fatigue", "4", "--note", "not tonight")
    shared = run(alex, "intimacy", "checkin", "--comfort", "3", "--desire", "curious", "--share")
    assert "information, not a request" in shared.stdout
    added = run(alex, "private", "add", "what I want to say on Sunday")
    note_id = added.stdout.split("(")[-1].split(")")[0]
    run(alex, "sync")
    run(blake, "sync")

    seen = as_json(blake, "intimacy", "checkins")
    assert [c["comfort"] for c in seen["shared"]] == [3]
    assert seen["private"] == []
    assert seen["reminder"] == "A check-in is information, not a request."
    mine = as_json(alex, "intimacy", "checkins")
    assert [c["comfort"] for c in mine["private"]] == [1]
    assert as_json(blake, "private", "list") == []
    everything = run(blake, "timeline", "--json").stdout
    assert "Sunday" not in everything
    assert "not tonight" not in everything
    assert as_json(alex, "private", "list")[0]["text"] == "what I want to say on Sunday"

    run(alex, "private", "share", note_id)
    run(alex, "sync")
    run(blake, "sync")
    assert "what I want to say on Sunday" in [e["text"] for e in as_json(blake, "journal", "list")]
    assert as_json(alex, "private", "list")[0]["shared"] is True
    out = tmp_path / "mine.json"
    run(alex, "private", "export", "--out", str(out))
    assert json.loads(out.read_text())[0]["text"] == "what I want to say on Sunday"


def test_the_not_safe_page_opens_without_a_passphrase_and_keeps_the_user_s_resources(
    tmp_path: Path,
) -> None:
    home = tmp_path / "nobody-yet"
    run(home, "not-safe", "--add", "Dr Lee, therapist: 555 0100", passphrase="")
    page = run(home, "not-safe", passphrase="")

    assert "Dr Lee, therapist: 555 0100" in page.stdout
    assert "left the space" in page.stdout
    assert "wrote nothing, sent nothing" in page.stdout
    assert not (home / "trellis.db").exists()


def _every_parser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _every_parser(child)
    return found


def test_every_command_s_help_points_to_the_not_safe_page() -> None:
    parsers = _every_parser(build_parser())

    assert len(parsers) > 40
    assert [p.prog for p in parsers if NOT_SAFE_POINTER not in p.format_help()] == []
