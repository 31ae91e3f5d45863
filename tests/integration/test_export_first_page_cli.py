"""The report's first page through the CLI and a real relay: ``trellis export
--recovery --since DATE`` (docs/PROTOCOL.md "Exports", "The first page")."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.integration.cli import FOR_THERAPIST, pair_homes, run
from tests.integration.relay_process import RelayProcess


@pytest.fixture
def paired(tmp_path: Path, relay: RelayProcess) -> tuple[Path, Path]:
    return pair_homes(tmp_path, relay.url)


def _first_page(report: str) -> str:
    section = report.split('<section id="first-page">', 1)[1].split("</section>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_export_recovery_since_a_date_opens_with_the_first_page(
    paired: tuple[Path, Path], tmp_path: Path
) -> None:
    alex, blake = paired
    three_days_ago = (date.today() - timedelta(days=3)).isoformat()
    run(
        alex,
        "disclose",
        "--kind",
        "slip",
        "--summary",
        "I looked at something I should not have",
        "--when",
        three_days_ago,
        "--circle",
        "inner",
        "--support",
        "my sponsor",
    )
    run(alex, "checkin", "--feelings", "steady")
    run(alex, "signal", "timeout")
    run(alex, "signal", "clear")
    run(blake, "checkin", "--feelings", "worn out")
    for home in (alex, blake, alex):
        run(home, "sync")

    out = tmp_path / "report.html"
    since = (date.today() - timedelta(days=7)).isoformat()
    made = run(alex, "export", *FOR_THERAPIST, "--recovery", "--since", since, "--out", str(out))
    assert "Left out a check-in" in made.stdout  # Blake's words, without Blake's consent
    report = out.read_text(encoding="utf-8")
    first = _first_page(report)
    assert f"Since {since} " in first
    assert "A slip in the inner circle" in first
    # A date-only slip is held at 12:00 UTC that day, so the time from it to now is 2.5
    # to 3.5 days: "2 days later" before noon UTC, "3 days later" after (a CI run after
    # midnight UTC failed on a fixed "3").
    assert re.search(r" [23] days later ", first), first
    assert "Support: my sponsor." in first
    assert "Alex: 1 check-in," in first
    assert "Blake: none in this export" in first
    assert "Alex took a time-out" in first
    assert "Alex came back on" in first
    assert b"worn out" not in out.read_bytes()
    checked = run(tmp_path / "nobody", "verify-export", str(out))
    assert checked.returncode == 0


def test_export_since_a_word_that_is_not_a_date_says_how_to_write_one(
    paired: tuple[Path, Path], tmp_path: Path
) -> None:
    alex, _ = paired
    result = run(
        alex,
        "export",
        *FOR_THERAPIST,
        "--recovery",
        "--since",
        "last tuesday",
        "--out",
        str(tmp_path / "r.html"),
        check=False,
    )
    assert result.returncode != 0
    assert "'last tuesday' is not a date; use a form like 2026-11-26." in result.stderr
    assert not (tmp_path / "r.html").exists()
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    later = run(
        alex,
        "export",
        *FOR_THERAPIST,
        "--recovery",
        "--since",
        tomorrow,
        "--out",
        str(tmp_path / "r.html"),
        check=False,
    )
    assert later.returncode != 0
    assert f"{tomorrow} has not come yet" in later.stderr
    assert not (tmp_path / "r.html").exists()
