"""The CLI contract of issue 2, checked exactly, through the installed ``trellis``."""

from __future__ import annotations

import json
import select
import subprocess
from pathlib import Path

import msgspec
import pytest

from client.keys import crypto, vault
from client.space.state import META_VAULT
from client.store.localstore import DB_FILE_NAME, LocalStore
from tests.integration.cli import TRELLIS, pair_homes, run, trellis_env
from tests.integration.relay_process import RelayProcess

# The contract is the installed program's: every command here is a real process.
pytestmark = pytest.mark.cli_process


@pytest.fixture
def paired(tmp_path: Path, relay: RelayProcess) -> tuple[Path, Path]:
    return pair_homes(tmp_path, relay.url)


def test_two_homes_pair_and_sync_journal_entries_both_ways(paired: tuple[Path, Path]) -> None:
    alex, blake = paired
    run(alex, "journal", "add", "From Alex, with care")
    run(blake, "journal", "add", "-", stdin="From Blake\nover two lines\n")
    run(alex, "sync")
    run(blake, "sync")
    run(alex, "sync")

    for home in (alex, blake):
        entries = json.loads(run(home, "journal", "list", "--json").stdout)
        by_text = {e["text"]: e for e in entries}
        assert set(by_text) == {"From Alex, with care", "From Blake\nover two lines"}
        assert by_text["From Alex, with care"]["author"] == "Alex"
        assert by_text["From Blake\nover two lines"]["author"] == "Blake"
        for entry in entries:
            assert len(entry["id"]) == 64
            assert entry["recorded_at"].endswith("Z")


def test_safety_numbers_match_after_pairing(paired: tuple[Path, Path]) -> None:
    alex, blake = paired
    number = run(alex, "safety-number").stdout.strip()
    assert number == run(blake, "safety-number").stdout.strip()
    assert len(number.replace(" ", "")) == 30


def test_status_json_reports_relay_space_members_devices_outbox_and_last_sync(
    paired: tuple[Path, Path], relay: RelayProcess
) -> None:
    alex, blake = paired
    relay.stop()  # a write is delivered at once when it can be: make it wait
    assert run(alex, "journal", "add", "not yet sent", check=False).returncode == 3
    status = json.loads(run(alex, "status", "--json").stdout)
    assert status["relay"] == relay.url
    assert len(status["space"]) == 32
    assert sorted(m["name"] for m in status["members"]) == ["Alex", "Blake"]
    assert sum(len(m["devices"]) for m in status["members"]) == 2
    assert status["outbox"] == 1
    assert status["last_sync"] is not None
    assert json.loads(run(blake, "status", "--json").stdout)["space"] == status["space"]


def test_watch_prints_each_arriving_event_as_one_json_line(paired: tuple[Path, Path]) -> None:
    alex, blake = paired
    env = trellis_env()
    watcher = subprocess.Popen(
        [TRELLIS, "--home", str(blake), "sync", "--watch", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        run(alex, "journal", "add", "watched in real time")
        run(alex, "sync")
        assert watcher.stdout is not None
        ready, _, _ = select.select([watcher.stdout], [], [], 60)
        assert ready, "the watcher printed nothing within 60 s"
        event = json.loads(watcher.stdout.readline())
        assert event["kind"] == "journal_entry"
        assert event["text"] == "watched in real time"
        assert event["author"] == "Alex"
    finally:
        watcher.terminate()
        watcher.communicate(timeout=10)


def test_a_wrong_passphrase_fails_with_one_calm_line(paired: tuple[Path, Path]) -> None:
    alex, _ = paired
    result = run(alex, "journal", "list", passphrase="not the passphrase", check=False)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "passphrase" in lines[0].lower()
    assert "not the passphrase" not in result.stderr


def test_sync_says_clearly_when_the_relay_cannot_be_reached(
    paired: tuple[Path, Path], relay: RelayProcess
) -> None:
    alex, _ = paired
    relay.stop()
    result = run(alex, "sync", check=False)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "could not reach the relay" in result.stderr.lower()


async def sealed_cost(home: Path) -> vault.KdfCost:
    """The Argon2id cost the vault in ``home`` records (PROTOCOL.md §3.6)."""
    store = await LocalStore.open(home / DB_FILE_NAME)
    try:
        sealed = await store.get(META_VAULT)
    finally:
        await store.close()
    assert sealed is not None
    blob = msgspec.msgpack.decode(sealed, type=crypto.VaultBlob)
    return vault.KdfCost(blob.opslimit, blob.memlimit)


async def test_init_and_join_seal_each_vault_at_the_real_cost(
    tmp_path: Path, relay: RelayProcess
) -> None:
    # The other CLI tests pair homes sealed at the cheap cost (tests/integration/cli.py);
    # this is the one place the CLI's own choice is checked: a person's device is never
    # sealed at less than REAL_COST.
    alex, blake = tmp_path / "alex", tmp_path / "blake"
    run(alex, "init", "--relay", relay.url, "--name", "Alex")
    code = run(alex, "invite").stdout.strip().splitlines()[-1]
    run(blake, "join", code, "--name", "Blake")

    assert await sealed_cost(alex) == vault.REAL_COST
    assert await sealed_cost(blake) == vault.REAL_COST


def test_a_used_invite_code_is_refused(tmp_path: Path, relay: RelayProcess) -> None:
    # A space of its own: a paired one takes no third member at all (space_full).
    alex = tmp_path / "alex"
    run(alex, "init", "--relay", relay.url, "--name", "Alex")
    code = run(alex, "invite").stdout.strip().splitlines()[-1]
    run(tmp_path / "first", "join", code, "--name", "First")
    again = run(tmp_path / "second", "join", code, "--name", "Second", check=False)
    assert again.returncode != 0
    assert "already used" in again.stderr
    assert code.split("@")[0] not in again.stderr


def test_a_mistyped_or_unknown_code_is_refused(tmp_path: Path, relay: RelayProcess) -> None:
    garbage = run(
        tmp_path / "x", "join", "not-a-code", "--name", "X", "--relay", relay.url, check=False
    )
    assert garbage.returncode != 0
    assert "not an invite code" in garbage.stderr
    unknown = run(
        tmp_path / "y",
        "join",
        "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA",
        "--name",
        "Y",
        "--relay",
        relay.url,
        check=False,
    )
    assert unknown.returncode != 0
    assert "no invite matches" in unknown.stderr.lower()
    assert not (tmp_path / "y" / "trellis.db").exists(), "a failed join leaves nothing behind"


def test_safety_numbers_match_right_after_joining_without_a_manual_sync(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = tmp_path / "alex", tmp_path / "blake"
    run(alex, "init", "--relay", relay.url, "--name", "Alex")
    alone = run(alex, "safety-number", check=False)
    assert alone.returncode != 0
    assert "partner is not in this space" in alone.stderr
    code = run(alex, "invite").stdout.strip().splitlines()[-1]
    run(blake, "join", code, "--name", "Blake")
    assert run(alex, "safety-number").stdout == run(blake, "safety-number").stdout
