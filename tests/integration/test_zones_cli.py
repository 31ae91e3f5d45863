"""Issue #13: a moment with a time shows in the reader's zone, with the writer's clock
when it shows another time (docs/PROTOCOL.md §10.9). Alex writes in Berlin; Blake reads
in New York, then in Paris (same clock as Berlin: nothing added)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.integration.cli import pair_homes, run
from tests.integration.relay_process import RelayProcess


def run_in(zone: str, home: Path, *args: str) -> str:
    """Run ``trellis`` on a device whose zone is ``zone`` (TZ, as a device has it)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    try:
        return run(home, *args).stdout
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before


@pytest.fixture
def paired(tmp_path: Path, relay: RelayProcess) -> tuple[Path, Path]:
    return pair_homes(tmp_path, relay.url)


def test_a_partner_in_another_zone_sees_their_time_and_the_writers_clock(
    paired: tuple[Path, Path],
) -> None:
    alex, blake = paired
    berlin = "Europe/Berlin"
    run_in(
        berlin, alex, "disclose", "--kind", "other", "--summary", "x", "--when", "2026-03-10T21:00"
    )
    run_in(berlin, alex, "signal", "timeout", "--for", "90")
    run_in(berlin, alex, "sync")
    run_in("America/New_York", blake, "sync")

    # 21:00 in Berlin (UTC+1) is 16:00 in New York (UTC-4 from 8 March 2026).
    listed = run_in("America/New_York", blake, "disclosures")
    assert "2026-03-10 16:00 (21:00 in Alex's time, Europe/Berlin)  [" in listed
    [shared] = json.loads(run_in("America/New_York", blake, "disclosures", "--json"))
    assert shared["writer_zone"] == berlin

    [signal] = json.loads(run_in("America/New_York", blake, "signals", "--json"))
    assert signal["writer_zone"] == berlin
    until = datetime.fromisoformat(signal["until"])
    ny = until.astimezone(ZoneInfo("America/New_York"))
    theirs = until.astimezone(ZoneInfo(berlin))
    clock = theirs.strftime("%H:%M" if theirs.date() == ny.date() else "%Y-%m-%d %H:%M")
    expected = f"back around {ny:%Y-%m-%d %H:%M} ({clock} in Alex's time, Europe/Berlin)"
    assert expected in run_in("America/New_York", blake, "signals")
    assert expected in run_in("America/New_York", blake, "timeline")

    # Paris shows the same clock as Berlin: the writer's time would only repeat it.
    in_paris = run_in("Europe/Paris", blake, "disclosures")
    assert "2026-03-10 21:00  [" in in_paris
    assert "Alex's time" not in in_paris + run_in("Europe/Paris", blake, "signals")
