"""Exports with both partners' consent, through the CLI and a real relay
(docs/PROTOCOL.md "Exports", "Consent")."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.integration.cli import FOR_THERAPIST, pair_homes, run
from tests.integration.relay_process import RelayProcess

REASON = "I am not ready for this yet"


@pytest.fixture
def paired(tmp_path: Path, relay: RelayProcess) -> tuple[Path, Path]:
    return pair_homes(tmp_path, relay.url)


def sync_both(alex: Path, blake: Path) -> None:
    run(alex, "sync")
    run(blake, "sync")
    run(alex, "sync")


def test_the_partners_reason_leaves_only_after_their_export_consent(
    paired: tuple[Path, Path], tmp_path: Path
) -> None:
    alex, blake = paired
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Phones at night",
        "--clause",
        "Phones stay in the kitchen",
        "--review-on",
        "2030-01-01",
    )
    sync_both(alex, blake)
    [listed] = json.loads(run(blake, "agreement", "list", "--json").stdout)
    run(blake, "agreement", "decline", listed["id"], "--reason", REASON)
    sync_both(alex, blake)

    first = tmp_path / "first.html"
    made = run(alex, "export", *FOR_THERAPIST, "--agreements", "--out", str(first))
    assert "Left out a reason for declining" in made.stdout
    assert REASON.encode() not in first.read_bytes()
    report = first.read_text(encoding="utf-8")
    assert report.index('id="summary"') < report.index('id="events"')
    assert "Blake has not consented" in report
    nobody = tmp_path / "nobody"
    checked = run(nobody, "verify-export", str(first))
    assert "For Dr. Rivera; why: our next session; to be used until" in checked.stdout

    until = (date.today() + timedelta(days=10)).isoformat()
    given = run(
        blake,
        "export-consent",
        "--for",
        "dr. rivera",
        "--purpose",
        "Our next session",
        "--until",
        until,
    )
    assert "Your consent is saved" in given.stdout
    sync_both(alex, blake)
    second = tmp_path / "second.html"
    made = run(alex, "export", *FOR_THERAPIST, "--agreements", "--out", str(second))
    assert "Left out" not in made.stdout
    assert REASON.encode() in second.read_bytes()
    assert "Blake consented" in second.read_text(encoding="utf-8")
    assert run(nobody, "verify-export", str(second)).returncode == 0


def test_export_consent_refuses_a_past_date_in_plain_words(paired: tuple[Path, Path]) -> None:
    _, blake = paired
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    refused = run(
        blake,
        "export-consent",
        "--for",
        "Dr. Rivera",
        "--purpose",
        "x",
        "--until",
        yesterday,
        check=False,
    )
    assert refused.returncode != 0
    assert "has passed" in refused.stderr + refused.stdout


def test_a_withdrawn_consent_leaves_the_words_out_of_the_next_export(
    paired: tuple[Path, Path], tmp_path: Path
) -> None:
    """Blake consents, then withdraws while Alex's device is offline: the export Alex's
    device makes before it holds the withdrawal is honest as of what it held; the next
    one leaves Blake's reason out (the last consent for a recipient and purpose counts)."""
    alex, blake = paired
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Phones",
        "--clause",
        "Kitchen",
        "--review-on",
        "2030-01-01",
    )
    sync_both(alex, blake)
    [listed] = json.loads(run(blake, "agreement", "list", "--json").stdout)
    run(blake, "agreement", "decline", listed["id"], "--reason", REASON)
    consent = ("--for", "Dr. Rivera", "--purpose", "our next session")
    until = (date.today() + timedelta(days=10)).isoformat()
    run(blake, "export-consent", *consent, "--until", until)
    sync_both(alex, blake)

    ended = run(blake, "export-consent", *consent, "--withdraw")
    assert "Your consent for Dr. Rivera (our next session) has ended" in ended.stdout
    before = tmp_path / "before.html"
    run(alex, "export", *FOR_THERAPIST, "--agreements", "--out", str(before))
    assert REASON.encode() in before.read_bytes()

    sync_both(alex, blake)
    after = tmp_path / "after.html"
    made = run(alex, "export", *FOR_THERAPIST, "--agreements", "--out", str(after))
    assert "Left out a reason for declining" in made.stdout
    assert REASON.encode() not in after.read_bytes()
    nobody = tmp_path / "nobody"
    assert run(nobody, "verify-export", str(after)).returncode == 0
    timeline = run(alex, "timeline").stdout
    assert "Blake ended their consent to an export for Dr. Rivera" in timeline


def test_withdraw_and_until_together_are_refused_in_plain_words(
    paired: tuple[Path, Path],
) -> None:
    _, blake = paired
    refused = run(
        blake,
        "export-consent",
        "--for",
        "Dr. Rivera",
        "--purpose",
        "x",
        "--until",
        (date.today() + timedelta(days=3)).isoformat(),
        "--withdraw",
        check=False,
    )
    assert refused.returncode != 0
    assert "not both" in refused.stderr + refused.stdout
