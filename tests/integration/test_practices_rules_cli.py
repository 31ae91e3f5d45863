"""Issue #17 through the CLI and a real relay: the recovery plan belongs to its
writer, only inner-circle slips shorten the run, nothing pressures the partner, a
time-out is not a stop, and windows follow a time-zone name."""

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


def test_the_plan_is_its_writers_and_the_partner_reads_it_but_cannot_void_it(
    paired: tuple[Path, Path],
) -> None:
    alex, blake = paired
    written = run(
        alex,
        "plan",
        "write",
        "--inner",
        "no gambling",
        "--definition",
        "any bet, online or not",
        "--reviewed-with",
        "sponsor",
        "--middle",
        "sports news after midnight",
        "--type",
        "warning_sign",
        "--outer",
        "evening walk",
    )
    assert "version 1 of your recovery plan" in written.stdout
    sync_both(alex, blake)

    [plan] = json.loads(run(blake, "plan", "list", "--json").stdout)
    assert plan["status"] == "in_force"
    refused = run(blake, "agreement", "withdraw", plan["id"][:10], check=False)
    assert refused.returncode != 0
    assert "This recovery plan is Alex's" in refused.stderr
    assert run(
        blake, "plan", "write", "--inner", "x", "--revises", plan["id"], check=False
    ).returncode
    shown = run(blake, "plan", "show", plan["id"][:10]).stdout
    assert "what counts: any bet, online or not" in shown
    assert "middle circle, warning sign: sports news after midnight" in shown

    # Writing again revises Alex's own plan: versioned, in use at once.
    again = run(alex, "plan", "write", "--inner", "no gambling", "--inner", "no casinos")
    assert "version 2 of your recovery plan" in again.stdout
    sync_both(alex, blake)
    [plan] = json.loads(run(blake, "plan", "list", "--json").stdout)
    shown_json = json.loads(run(blake, "plan", "show", plan["id"], "--json").stdout)
    assert [v["status"] for v in shown_json["versions"]] == ["superseded", "in_force"]


def test_a_middle_circle_slip_is_recorded_as_a_risk_and_the_run_holds(
    paired: tuple[Path, Path],
) -> None:
    alex, blake = paired
    run(alex, "profile", "--in-recovery")
    run(alex, "sobriety", "start", "2026-01-01")
    unsure = run(alex, "disclose", "--kind", "slip", "--summary", "x", check=False)
    assert unsure.returncode != 0
    assert "Which circle was it?" in unsure.stderr
    outer = run(
        alex, "disclose", "--kind", "slip", "--summary", "x", "--circle", "outer", check=False
    )
    assert outer.returncode != 0
    risk = run(
        alex,
        "disclose",
        "--kind",
        "slip",
        "--circle",
        "middle",
        "--summary",
        "Looked at old photos late at night",
        "--when",
        "2026-03-10T23:00",
    )
    assert "recorded as a risk" in risk.stdout
    formal = run(alex, "disclose", "--kind", "formal_disclosure", "--summary", "x", check=False)
    assert formal.returncode != 0
    assert "therapist's office" in formal.stderr
    run(alex, "milestone", "add", "--formal-disclosure", "--when", "2026-04-01")
    sync_both(alex, blake)

    [disclosure] = json.loads(run(blake, "disclosures", "--json").stdout)
    assert (disclosure["kind"], disclosure["breaks_sobriety"]) == ("risk", False)
    [counter] = json.loads(run(blake, "sobriety", "show", "--json").stdout)
    assert counter["slips"] == []
    assert counter["risks"] == ["2026-03-10"]
    assert counter["current_run_days"] == counter["total_sober_days"]
    [milestone] = json.loads(run(blake, "milestone", "list", "--json").stdout)
    assert (milestone["kind"], milestone["title"], milestone["note"]) == (
        "formal_disclosure",
        "Formal disclosure",
        None,
    )
    assert "(partner)" in run(blake, "profile").stdout


def test_words_that_do_not_pressure(paired: tuple[Path, Path]) -> None:
    alex, blake = paired
    run(alex, "disclose", "--kind", "meeting", "--summary", "Went to my meeting")
    run(alex, "checkin", "--ownership", "I snapped at you; I'm sorry", "--struggles", "tired")
    sync_both(alex, blake)

    listing = run(blake, "disclosures").stdout
    assert "acknowledged" not in listing
    [disclosure] = json.loads(run(blake, "disclosures", "--json").stdout)
    need_time = run(blake, "seen", disclosure["id"][:8], "--need-time")
    assert "Nothing is expected of you" in need_time.stdout
    sync_both(alex, blake)
    assert "Blake: needs time" in run(alex, "disclosures").stdout

    checkins = run(blake, "checkins").stdout
    assert "nothing you need to reply" in checkins
    assert "struggles and self-care: tired" in checkins
    helped = " ".join(run(blake, "checkin", "--help").stdout.split())
    assert "something I said or did, with an apology" in helped
    assert "not necessarily met by your partner" in helped

    run(alex, "journal", "add", "something I regret writing")
    [entry] = json.loads(run(alex, "journal", "list", "--json").stdout)
    retracted = run(alex, "journal", "retract", entry["id"][:8])
    assert "The history still shows it" in retracted.stdout


def test_a_time_out_returns_and_a_stop_owes_no_return(paired: tuple[Path, Path]) -> None:
    alex, blake = paired
    assert run(alex, "signal", "stop", "--until", "2030-01-01T09:00", check=False).returncode
    too_long = run(alex, "signal", "timeout", "--for", str(25 * 60), check=False)
    assert too_long.returncode != 0
    assert "24 hours" in too_long.stderr
    run(alex, "signal", "timeout", "--preset", "will_return")
    run(blake, "signal", "stop")
    run(alex, "sync")
    run(blake, "sync")

    signals = {s["sender"]: s for s in json.loads(run(blake, "signals", "--json").stdout)}
    timeout, stop = signals["Alex"], signals["Blake"]
    assert timeout["level"] == "pause"
    assert timeout["preset_text"] == "I want to come back to this."
    assert timeout["until"] is not None
    assert timeout["return_due"] is False  # Blake is never reminded of Alex's return
    assert stop["until"] is None


def test_a_window_keeps_its_zone_name_and_is_postponed_once(paired: tuple[Path, Path]) -> None:
    alex, blake = paired
    bad = run(
        alex,
        "windows",
        "propose",
        "--weekday",
        "sun",
        "--time",
        "19:00",
        "--tz",
        "Mars/Base",
        check=False,
    )
    assert bad.returncode != 0
    run(
        alex,
        "windows",
        "propose",
        "--weekday",
        "sunday",
        "--time",
        "19:00",
        "--tz",
        "Europe/London",
        "--topic",
        "finances",
    )
    sync_both(alex, blake)
    [window] = json.loads(run(blake, "windows", "list", "--json").stdout)["windows"]
    run(blake, "agreement", "accept", window["id"][:10])
    sync_both(alex, blake)

    listed = json.loads(run(alex, "windows", "list", "--json").stdout)
    assert "(Europe/London)" in listed["next"]["window"]
    scheduled = listed["next"]["starts_at"]
    later = scheduled[:10] + "T23:30+00:00"
    run(blake, "windows", "postpone", window["id"][:10], "--to", later)
    sync_both(alex, blake)
    moved = json.loads(run(alex, "windows", "list", "--json").stdout)["next"]
    assert moved["postponed"] is True
    assert moved["scheduled_at"] == scheduled
    again = run(alex, "windows", "postpone", window["id"][:10], "--to", later, check=False)
    assert again.returncode != 0
    assert "only once" in again.stderr


def test_an_agreement_without_a_review_date_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    result = run(
        tmp_path / "nobody", "agreement", "propose", "--title", "t", "--clause", "c", check=False
    )
    assert result.returncode != 0
    assert "needs a date to review it together" in result.stderr
    assert not (tmp_path / "nobody").exists()
