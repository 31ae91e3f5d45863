"""What a partner may write, and files on the device, through the ``trellis`` CLI with a
real relay (issue #10; docs/PROTOCOL.md §9.9, §10.5, §10.6; THREAT_MODEL.md §22)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.integration.cli import FOR_THERAPIST, pair_homes, run
from tests.integration.relay_process import RelayProcess


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _journal(home: Path) -> list[dict[str, object]]:
    items: list[dict[str, object]] = json.loads(run(home, "journal", "list", "--json").stdout)
    return items


def _only_agreement(home: Path) -> str:
    [agreement] = json.loads(run(home, "agreement", "list", "--json").stdout)
    return str(agreement["id"])


def test_invite_is_refused_once_the_partner_has_joined(tmp_path: Path, relay: RelayProcess) -> None:
    alex, blake = pair_homes(tmp_path, relay.url)

    for home in (alex, blake):
        refused = run(home, "invite", check=False)
        assert refused.returncode == 1
        assert "already joined" in refused.stderr
        assert "trellis device invite" in refused.stderr
        assert "@" not in refused.stdout  # no code was made
    # A device of one's own is still welcome.
    assert run(alex, "device", "invite").returncode == 0


def test_writing_what_the_partner_may_not_write_is_refused_before_it_is_written(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = pair_homes(tmp_path, relay.url)
    run(alex, "journal", "add", "A hard evening.")
    run(alex, "disclose", "--kind", "meeting", "--summary", "Went to my meeting.")
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Phones at night",
        "--clause",
        "Off by 10",
        "--review-on",
        "2030-01-01",
    )
    run(alex, "sync")
    run(blake, "sync")
    [item] = _journal(blake)
    entry_id = str(item["id"])[:8]
    agreement = _only_agreement(blake)[:8]
    [disclosure] = json.loads(run(alex, "disclosures", "--json").stdout)

    attempts = [
        (blake, ("journal", "amend", entry_id, "Not what Alex wrote."), "only they can update"),
        (blake, ("journal", "retract", entry_id), "only they can withdraw"),
        (alex, ("acknowledge", str(disclosure["id"])[:8]), "for your partner"),
        (alex, ("agreement", "accept", agreement), "You proposed this"),
    ]
    run(blake, "agreement", "accept", agreement)
    attempts.append((blake, ("agreement", "accept", agreement), "no proposal waiting"))
    for home, args, words in attempts:
        before = run(home, "status", "--json").stdout
        refused = run(home, *args, check=False)
        assert refused.returncode == 1, args
        assert words in refused.stderr, (args, refused.stderr)
        assert "Updated" not in refused.stdout
        after = run(home, "status", "--json").stdout
        assert json.loads(after)["events"] == json.loads(before)["events"], args
    run(blake, "sync")
    run(alex, "sync")
    for home in (alex, blake):
        assert run(home, "verify").returncode == 0
        assert json.loads(run(home, "status", "--json").stdout)["integrity"] == "ok"
    assert [i["text"] for i in _journal(blake)] == ["A hard evening."]


def test_accepting_while_offline_after_a_withdrawal_verifies_clean_and_shows_what_happened(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """The README's walk-through with the two partners working at the same time."""
    alex, blake = pair_homes(tmp_path, relay.url)
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Phones at night",
        "--clause",
        "Off by 10",
        "--review-on",
        "2030-01-01",
    )
    run(alex, "sync")
    run(blake, "sync")
    agreement = _only_agreement(blake)[:8]
    # Blake, offline, writes and then accepts; Alex, at the same time, withdraws.
    run(blake, "journal", "add", "Thinking about the phones.")
    run(blake, "agreement", "accept", agreement)
    run(alex, "agreement", "withdraw", agreement)
    run(alex, "sync")
    run(blake, "sync")
    run(alex, "sync")

    shows = []
    for home in (alex, blake):
        assert run(home, "verify").returncode == 0, run(home, "verify", check=False).stdout
        assert json.loads(run(home, "status", "--json").stdout)["integrity"] == "ok"
        show = run(home, "agreement", "show", agreement).stdout
        assert "Blake accepted after Alex had withdrawn; it had no effect" in show
        shows.append(json.loads(run(home, "agreement", "show", agreement, "--json").stdout))
    assert shows[0] == shows[1]
    timeline = run(blake, "timeline").stdout
    assert "Blake accepted an agreement (this had no effect" in timeline


def test_the_home_folder_is_private_and_looser_modes_are_tightened_with_a_notice(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = tmp_path / "alex"
    old_umask = os.umask(0o022)
    try:
        run(home, "init", "--relay", relay.url, "--name", "Alex")
        run(home, "journal", "add", "Private.")
    finally:
        os.umask(old_umask)
    assert _mode(home) == 0o700
    files = [p for p in home.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"trellis.db"}
    assert all(_mode(p) == 0o600 for p in files), {p.name: oct(_mode(p)) for p in files}

    home.chmod(0o755)
    for p in files:
        p.chmod(0o644)
    result = run(home, "status")
    assert "now private to you" in result.stderr
    assert _mode(home) == 0o700
    assert all(_mode(p) == 0o600 for p in home.iterdir() if p.is_file())
    assert "now private" not in run(home, "status").stderr  # said once


def test_export_writes_a_private_file_and_never_overwrites_without_force(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, _ = pair_homes(tmp_path, relay.url)
    run(
        alex,
        "agreement",
        "propose",
        "--title",
        "Phones at night",
        "--clause",
        "Off by 10",
        "--review-on",
        "2030-01-01",
    )
    out = tmp_path / "export.html"

    made = run(alex, "export", *FOR_THERAPIST, "--agreements", "--out", str(out))
    assert _mode(out) == 0o600
    assert "decrypted text" in made.stdout
    assert "keys" in made.stdout

    out.write_bytes(b"something else")
    refused = run(alex, "export", *FOR_THERAPIST, "--agreements", "--out", str(out), check=False)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert out.read_bytes() == b"something else"

    out.chmod(0o644)
    run(alex, "export", *FOR_THERAPIST, "--agreements", "--out", str(out), "--force")
    assert out.read_bytes() != b"something else"
    assert _mode(out) == 0o600
