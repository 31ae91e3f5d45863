"""What a person reads after a command (issue #13): delivery told truthfully, with
exit codes a script can rely on; plain words for bad input and broken surroundings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli import pair_homes, run
from tests.integration.relay_process import RelayProcess

#: Saved on this device, not delivered yet (README "Exit codes").
EXIT_NOT_DELIVERED = 3


@pytest.fixture
def paired(tmp_path: Path, relay: RelayProcess) -> tuple[Path, Path]:
    return pair_homes(tmp_path, relay.url)


def test_a_signal_while_the_relay_is_down_never_says_sent(
    paired: tuple[Path, Path], relay: RelayProcess
) -> None:
    alex, blake = paired
    relay.stop()
    given = run(alex, "signal", "stop", "--note", "I need to stop now", check=False)
    assert given.returncode == EXIT_NOT_DELIVERED, given.stderr
    assert "sent" not in given.stdout.lower().replace("it is sent at", "")
    assert "Delivered" not in given.stdout
    assert "not delivered yet" in given.stdout
    assert "Your partner does not have it yet" in given.stdout
    # Saved here all the same, and delivered once the relay is back.
    relay.start()
    synced = run(alex, "sync")
    assert "1 sent" in synced.stdout
    run(blake, "sync")
    [active] = json.loads(run(blake, "signals", "--json").stdout)
    assert active["level"] == "stop"


def test_a_signal_with_the_relay_up_is_delivered_and_exits_0(paired: tuple[Path, Path]) -> None:
    alex, blake = paired
    given = run(alex, "signal", "slow")
    assert "Delivered" in given.stdout
    assert "not delivered" not in given.stdout
    # Delivered means the partner's next sync has it, with no sync by the sender.
    run(blake, "sync")
    [active] = json.loads(run(blake, "signals", "--json").stdout)
    assert active["level"] == "slow"


def test_every_write_says_whether_it_was_delivered(
    paired: tuple[Path, Path], relay: RelayProcess
) -> None:
    alex, _ = paired
    added = run(alex, "journal", "add", "A calm evening")
    assert added.stdout.strip().endswith("Delivered.")
    relay.stop()
    offline = run(alex, "journal", "add", "Written offline", check=False)
    assert offline.returncode == EXIT_NOT_DELIVERED
    assert "Saved on this device; not delivered yet: the relay cannot be reached" in (
        offline.stdout
    )
    gratitude = run(alex, "gratitude", "add", "Thank you for listening", check=False)
    assert gratitude.returncode == EXIT_NOT_DELIVERED
    assert "not delivered yet" in gratitude.stdout


def test_agreement_accept_says_whether_it_is_in_force(paired: tuple[Path, Path]) -> None:
    alex, blake = paired
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Phones",
        "--clause",
        "Phones stay open",
        "--review-on",
        "2030-01-01",
    )
    run(blake, "sync")
    [listed] = json.loads(run(blake, "agreement", "list", "--json").stdout)
    accepted = run(blake, "agreement", "accept", listed["id"])
    assert "now in force" in accepted.stdout
    assert "Delivered." in accepted.stdout


def test_the_help_documents_the_exit_codes(tmp_path: Path) -> None:
    shown = run(tmp_path, "--help").stdout
    assert "3    saved on this device but not delivered yet" in shown


def test_signals_show_an_id_that_signal_clear_takes(paired: tuple[Path, Path]) -> None:
    alex, blake = paired
    run(alex, "signal", "timeout", "--for", "30", "--note", "I need air")
    run(blake, "sync")
    shown = run(blake, "signals").stdout
    assert "time-out, back around" in shown
    assert '"I need air"' in shown
    short_id = shown.split("]")[0].removeprefix("[")
    assert len(short_id) == 8
    cleared = run(alex, "signal", "clear", short_id)
    assert "Cleared." in cleared.stdout


def test_an_invite_code_used_twice_warns_that_it_may_have_leaked(
    tmp_path: Path, relay: RelayProcess
) -> None:
    sam = tmp_path / "sam"
    run(sam, "init", "--relay", relay.url, "--name", "Sam")
    code = run(sam, "invite").stdout.strip().splitlines()[-1]
    run(tmp_path / "alex", "join", code, "--name", "Alex")
    again = run(tmp_path / "someone", "join", code, "--name", "Someone", check=False)
    assert again.returncode == 1
    assert "it may have leaked" in again.stderr
    assert "compare safety numbers" in again.stderr


def test_disclosures_show_every_field_of_a_slip_and_the_response(
    paired: tuple[Path, Path],
) -> None:
    alex, blake = paired
    run(alex, "profile", "--in-recovery")
    run(
        alex,
        *("disclose", "--kind", "slip", "--summary", "I had a drink", "--circle", "inner"),
        *("--place", "a party", "--halt", "lonely", "--trigger", "old friends"),
        *("--support", "called my sponsor", "--next-step", "meeting tomorrow"),
    )
    run(blake, "sync")
    [listed] = json.loads(run(blake, "disclosures", "--json").stdout)
    run(blake, "seen", listed["id"][:8], "--response", "Thank you for telling me.")
    run(alex, "sync")
    shown = run(alex, "disclosures").stdout
    for words in (
        "where: a party",
        "hungry, angry, lonely, tired: lonely",
        "triggers: old friends",
        "who was reached: called my sponsor",
        "next steps: meeting tomorrow",
        "Blake answered: Thank you for telling me.",
    ):
        assert words in shown, shown
