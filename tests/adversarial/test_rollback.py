"""A relay restored from an old backup: each partner is warned about what it lost, the
partners re-seed it, and nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path

from client.space import Space
from tests.adversarial.backup import restore_backup, take_backup
from tests.adversarial.story import codes, event_ids, finding, journal, partners, sync, write
from tests.integration.cli import pair_homes, run
from tests.integration.relay_process import RelayProcess


async def test_a_relay_restored_from_an_old_backup_is_reseeded_with_nothing_lost(
    tmp_path: Path, relay: RelayProcess, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, relay.url, opened)
    await write(alex, "Before the backup.")
    await sync(alex, blake)
    backup = take_backup(relay, tmp_path / "backup")
    await write(alex, "After the backup, Alex.")
    await write(blake, "After the backup, Blake.")
    await sync(alex, blake, alex)
    await write(blake, "Only Blake has this one.")
    await sync(blake)
    everything = event_ids(blake)
    restore_backup(relay, backup)

    await sync(alex)
    lost_by_alex = finding(alex, "rollback")
    assert lost_by_alex.severity.value == "warning"
    assert len(lost_by_alex.events) == 2  # both "after" entries; Alex never had Blake's last
    await sync(blake)
    assert codes(blake) == [("rollback", "warning")]
    assert len(finding(blake, "rollback").events) == 3

    await alex.reseed()
    assert codes(alex) == []
    await sync(blake)  # the relay holds two of Blake's three again: Alex gave them back
    assert len(finding(blake, "rollback").events) == 1
    await blake.reseed()
    assert codes(blake) == []
    await sync(alex)

    assert event_ids(alex) == event_ids(blake) == everything
    assert journal(alex) == journal(blake)
    assert codes(alex) == codes(blake) == []


def status_json(home: Path) -> dict[str, object]:
    result: dict[str, object] = json.loads(run(home, "status", "--json").stdout)
    return result


def test_status_and_verify_show_a_rollback_until_sync_reseed_gives_the_relay_its_data_back(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = pair_homes(tmp_path, relay.url)
    assert status_json(alex)["integrity"] == "ok"
    backup = take_backup(relay, tmp_path / "backup")
    run(alex, "journal", "add", "Written after the backup.")
    run(alex, "sync")
    restore_backup(relay, backup)

    run(alex, "sync")
    integrity = status_json(alex)["integrity"]
    assert isinstance(integrity, list)
    [rollback] = integrity
    assert rollback["code"] == "rollback"
    assert rollback["severity"] == "warning"
    assert rollback["message"]
    assert len(rollback["events"]) == 1
    assert "Integrity:  1 finding(s)" in run(alex, "status").stdout
    assert run(alex, "verify", check=False).returncode == 1

    reseeded = run(alex, "sync", "--reseed")
    assert "Re-seeded" in reseeded.stdout

    assert status_json(alex)["integrity"] == "ok"
    assert run(alex, "verify").returncode == 0
    run(blake, "sync")
    listed = json.loads(run(blake, "journal", "list", "--json").stdout)
    assert [item["text"] for item in listed] == ["Written after the backup."]
    assert status_json(blake)["integrity"] == "ok"
