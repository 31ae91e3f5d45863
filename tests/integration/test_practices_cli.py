"""The practices of issue 3, by two partners through the CLI and a real relay."""

from __future__ import annotations

import json
import select
import subprocess
from pathlib import Path

import pytest

from client.space import Space
from schemas.payloads import Payload
from schemas.practices import AgreementAccepted, AgreementWithdrawn
from tests.integration.cli import FOR_THERAPIST, PASSPHRASE, TRELLIS, pair_homes, run, trellis_env
from tests.integration.relay_process import RelayProcess


@pytest.fixture
def paired(tmp_path: Path, relay: RelayProcess) -> tuple[Path, Path]:
    return pair_homes(tmp_path, relay.url)


def sync_both(alex: Path, blake: Path) -> None:
    run(alex, "sync")
    run(blake, "sync")
    run(alex, "sync")


def agreement(home: Path, ident: str) -> dict[str, object]:
    shown = json.loads(run(home, "agreement", "show", ident, "--json").stdout)
    assert isinstance(shown, dict)
    return shown


def test_a_proposal_accepted_by_the_partner_is_in_force_and_withdrawal_shows_at_once(
    paired: tuple[Path, Path],
) -> None:
    alex, blake = paired
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Phones at night",
        "--clause",
        "Phones stay in the kitchen after 22:00",
        "--clause",
        "Either of us can ask to see the screen-time report",
        "--review-on",
        "2030-01-01",
    )
    sync_both(alex, blake)

    [listed] = json.loads(run(blake, "agreement", "list", "--json").stdout)
    assert listed["title"] == "Phones at night"
    assert listed["status"] == "proposed"
    agreement_id = listed["id"]

    run(blake, "agreement", "accept", agreement_id[:10])
    sync_both(alex, blake)
    assert agreement(alex, agreement_id)["status"] == "in_force"

    run(alex, "agreement", "withdraw", agreement_id[:10])
    run(alex, "sync")
    run(blake, "sync")
    shown = agreement(blake, agreement_id)
    assert shown["status"] == "withdrawn"
    versions = shown["versions"]
    assert isinstance(versions, list)
    [version] = versions
    assert version["proposed_by"] == "Alex"
    assert [c["member"] for c in version["accepted_by"]] == ["Blake"]
    assert version["withdrawn_by"]["member"] == "Alex"
    assert version["clauses"] == [
        "Phones stay in the kitchen after 22:00",
        "Either of us can ask to see the screen-time report",
    ]
    assert run(alex, "verify").returncode == 0
    assert run(blake, "verify").returncode == 0


def test_a_proposer_cannot_accept_their_own_proposal(paired: tuple[Path, Path]) -> None:
    alex, _ = paired
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Check-ins",
        "--clause",
        "Sundays",
        "--review-on",
        "2030-01-01",
    )
    [listed] = json.loads(run(alex, "agreement", "list", "--json").stdout)
    result = run(alex, "agreement", "accept", listed["id"], check=False)
    assert result.returncode != 0
    assert "your partner accepts" in result.stderr


def test_a_signal_reaches_a_watching_partner_live(paired: tuple[Path, Path]) -> None:
    alex, blake = paired
    with subprocess.Popen(
        [TRELLIS, "--home", str(alex), "sync", "--watch", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=trellis_env(),
    ) as watcher:
        try:
            sent = run(blake, "signal", "timeout", "--for", "30", "--note", "I need air")
            assert "Delivered" in sent.stdout
            assert "you will be reminded" in sent.stdout
            assert watcher.stdout is not None
            ready, _, _ = select.select([watcher.stdout], [], [], 60)
            assert ready, "the watching partner saw nothing within 60 s"
            event = json.loads(watcher.stdout.readline())
            assert event["kind"] == "signal_sent"
            assert event["author"] == "Blake"
            assert event["payload"]["level"] == "pause"
            # What a notification may show names the kind, never the words.
            assert event["notice"].endswith("Blake took a time-out")
            assert "I need air" not in event["notice"]
        finally:
            watcher.terminate()
            watcher.communicate(timeout=10)
    run(alex, "sync")
    [active] = json.loads(run(alex, "signals", "--json").stdout)
    assert active["level"] == "pause"
    assert active["sender"] == "Blake"
    run(blake, "signal", "clear")
    run(alex, "sync")
    assert json.loads(run(alex, "signals", "--json").stdout) == []


def test_disclosures_check_ins_sobriety_milestones_gratitude_and_timeline(
    paired: tuple[Path, Path],
) -> None:
    alex, blake = paired
    run(alex, "profile", "--in-recovery")
    run(alex, "sobriety", "start", "2026-01-01", "--label", "alcohol")
    run(
        alex,
        "disclose",
        "--kind",
        "slip",
        "--summary",
        "I had a drink at the party",
        "--when",
        "2026-03-10T21:00",
        "--circle",
        "inner",
        "--halt",
        "lonely",
        "--halt",
        "tired",
        "--trigger",
        "old friends",
        "--support",
        "called my sponsor",
        "--next-step",
        "meeting",
    )
    run(alex, "checkin", "--feelings", "nervous", "--needs", "patience", "--mood", "2")
    run(blake, "gratitude", "add", "Thank you for telling me")
    run(blake, "milestone", "add", "First honest month", "--when", "2026-02-01")
    sync_both(alex, blake)

    [disclosure] = json.loads(run(blake, "disclosures", "--json").stdout)
    assert disclosure["kind"] == "slip"
    assert disclosure["slip"]["halt"] == ["lonely", "tired"]
    assert disclosure["mark"] is None
    assert "acknowledged" not in run(blake, "disclosures").stdout
    run(blake, "seen", disclosure["id"][:8], "--response", "Thank you for telling me")
    sync_both(alex, blake)
    [seen] = json.loads(run(alex, "disclosures", "--json").stdout)
    assert seen["acknowledgements"][0]["response"] == "Thank you for telling me"
    assert seen["mark"] == "seen"

    [counter] = json.loads(run(blake, "sobriety", "show", "--json").stdout)
    assert counter["member"] == "Alex"
    assert counter["slips"] == ["2026-03-10"]
    assert counter["total_sober_days"] > counter["current_run_days"] > 0

    timeline = json.loads(run(blake, "timeline", "--json").stdout)
    kinds = [e["kind"] for e in timeline]
    for kind in (
        "space_created",
        "member_joined",
        "sobriety_started",
        "disclosure",
        "check_in",
        "gratitude",
        "milestone",
        "disclosure_acknowledged",
    ):
        assert kind in kinds
    for event in timeline:
        assert {"id", "kind", "author", "recorded_at", "occurred_at"} <= set(event)
    assert timeline == json.loads(run(alex, "timeline", "--json").stdout)
    only = json.loads(run(blake, "timeline", "--json", "--kind", "disclosure").stdout)
    assert {e["kind"] for e in only} == {"disclosure", "disclosure_acknowledged"}


def test_an_export_verifies_offline_and_a_one_byte_edit_fails(
    paired: tuple[Path, Path], tmp_path: Path
) -> None:
    alex, blake = paired
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Money",
        "--clause",
        "Share statements monthly",
        "--review-on",
        "2030-01-01",
    )
    run(alex, "journal", "add", "a private journal line that must not leak")
    sync_both(alex, blake)
    [listed] = json.loads(run(blake, "agreement", "list", "--json").stdout)
    run(blake, "agreement", "accept", listed["id"])
    sync_both(alex, blake)

    for fmt in ("json", "html"):
        out = tmp_path / f"export.{fmt}"
        run(alex, "export", *FOR_THERAPIST, "--agreements", "--format", fmt, "--out", str(out))
        data = out.read_bytes()
        assert b"a private journal line" not in data
        nobody = tmp_path / "nobody"  # verify-export needs no home, keys or account
        ok = run(nobody, "verify-export", str(out), "--show")
        assert "Share statements monthly" in ok.stdout
        middle = len(data) // 2
        edited = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
        out.write_bytes(edited)
        bad = run(nobody, "verify-export", str(out), check=False)
        assert bad.returncode != 0
        assert "does NOT verify" in bad.stdout


def test_verify_export_cross_checks_one_export_from_each_partner(
    paired: tuple[Path, Path], tmp_path: Path
) -> None:
    alex, blake = paired
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Phones",
        "--clause",
        "Away at dinner",
        "--review-on",
        "2030-01-01",
    )
    sync_both(alex, blake)
    [listed] = json.loads(run(blake, "agreement", "list", "--json").stdout)
    run(blake, "agreement", "accept", listed["id"])
    sync_both(alex, blake)
    alex_export, blake_export = tmp_path / "alex.json", tmp_path / "blake.html"
    run(
        alex,
        "export",
        *FOR_THERAPIST,
        "--agreements",
        "--format",
        "json",
        "--out",
        str(alex_export),
    )
    run(
        blake,
        "export",
        *FOR_THERAPIST,
        "--agreements",
        "--format",
        "html",
        "--out",
        str(blake_export),
    )
    nobody = tmp_path / "nobody"

    agree = run(nobody, "verify-export", str(alex_export), str(blake_export), "--show")
    assert "as held by Alex's device" in agree.stdout
    assert "cannot be seen here" in agree.stdout
    assert "The two exports agree" in agree.stdout

    # Blake withdraws; Alex's older export now lacks what Blake's new one holds.
    run(blake, "agreement", "withdraw", listed["id"])
    sync_both(alex, blake)
    run(
        blake,
        "export",
        *FOR_THERAPIST,
        "--agreements",
        "--format",
        "html",
        "--out",
        str(blake_export),
        "--force",
    )
    differ = run(nobody, "verify-export", str(alex_export), str(blake_export), check=False)
    assert differ.returncode == 1
    assert "do NOT agree" in differ.stdout
    assert "left_out" in differ.stdout


async def write_unchecked(space: Space, payload: Payload) -> None:
    """What a modified app does: sign and queue an event without the write rules."""
    await space._accept_own(space._seal(payload, None), relay_seq=None, queue=True)


async def test_verify_lists_illegal_agreement_transitions_and_exits_non_zero(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex_home, blake_home = pair_homes(tmp_path, relay.url)
    run(
        alex_home,
        "agreement",
        "propose",
        "--title",
        "Honesty",
        "--clause",
        "Tell within a day",
        "--review-on",
        "2030-01-01",
    )
    assert run(alex_home, "verify").returncode == 0
    [listed] = json.loads(run(alex_home, "agreement", "list", "--json").stdout)
    version = bytes.fromhex(listed["id"])

    # The client refuses these; a buggy or hostile app could still write them.
    space = await Space.open(alex_home, passphrase=PASSPHRASE)
    async with space:
        await write_unchecked(space, AgreementAccepted(version=version))  # by the proposer
        await write_unchecked(space, AgreementAccepted(version=bytes(32)))  # unknown version
        await space.append(AgreementWithdrawn(version=version))
    space = await Space.open(blake_home, passphrase=PASSPHRASE)
    async with space:
        await space.sync()
    run(alex_home, "sync")
    run(blake_home, "sync")
    space = await Space.open(blake_home, passphrase=PASSPHRASE)
    async with space:
        await write_unchecked(space, AgreementAccepted(version=version))  # after it
        await space.sync()

    run(alex_home, "sync")
    result = run(alex_home, "verify", check=False)
    assert result.returncode == 1
    for code in ("accept_by_proposer", "unknown_version", "accept_of_closed_version"):
        assert code in result.stdout
    assert "not applied" in result.stdout
    assert "violation" not in result.stdout.lower()
    assert (
        json.loads(run(alex_home, "agreement", "show", listed["id"], "--json").stdout)["status"]
        == "withdrawn"
    )
