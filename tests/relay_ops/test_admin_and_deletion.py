"""The operator's tools and deletion that deletes (issue #18; docs/OPERATIONS.md §12).

``trellis-relay spaces | quota | delete-space`` run as the operator runs them, as their
own process next to a real relay on loopback (through its operator listener) and with
the relay stopped (on the file). After a space is erased, by the operator or because
both partners left, every file the relay keeps is searched for its ciphertext.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from client.space import devices
from schemas.errors import ErrorCode
from schemas.payloads import JournalEntry
from schemas.protocol import Acked, Authenticate, Challenge, Error, Hello, auth_transcript
from server.startup import EXIT_PROBLEMS, EXIT_SETUP
from tests.integration.pairing import pair
from tests.integration.relay_process import REPO_ROOT, RelayProcess
from tests.relay_ops.conftest import RelayFactory
from tests.relay_ops.spaces import new_space
from tests.server.conftest import SpaceUnderTest
from tests.server.helpers import SyncClient

CHUNK = 48
"""Bytes of ciphertext searched for: random, so found only where the envelope is."""


def admin(
    relay: RelayProcess, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``trellis-relay --db DB --operator-port P ARGS`` as the operator types it."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "server",
            "--db",
            str(relay.db),
            "--operator-port",
            str(relay.operator_port),
            *args,
        ],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )


def listed(relay: RelayProcess) -> dict[str, dict[str, int]]:
    result = admin(relay, "spaces", "--json")
    assert result.returncode == 0, result.stderr
    return {s["space_id"]: s for s in json.loads(result.stdout)}


def chunks(envelopes: list[bytes]) -> list[bytes]:
    """A stretch of ciphertext from the middle of each envelope."""
    return [e[len(e) // 2 : len(e) // 2 + CHUNK] for e in envelopes]


def files_holding(folder: Path, needles: list[bytes]) -> list[str]:
    """Every file under ``folder`` that holds any of ``needles``."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found.extend(f"{path.name}" for n in needles if n in data)
    return found


async def push_envelopes(space: SpaceUnderTest, sizes: list[int]) -> list[bytes]:
    client = await space.connect()
    envelopes = [
        space.creator.envelope(space.space_id, ciphertext=os.urandom(size)) for size in sizes
    ]
    await space.push_ok(client, 1, envelopes)
    await client.close()
    return envelopes


# --- spaces --------------------------------------------------------------------------------


async def test_spaces_lists_each_space_by_id_and_numbers_running_or_stopped(
    start_relay: RelayFactory,
) -> None:
    relay = start_relay()
    one, two = await new_space(relay), await new_space(relay)
    pushed = await push_envelopes(one, [100, 200, 300])
    spaces = listed(relay)
    assert set(spaces) == {one.space_id.hex(), two.space_id.hex()}
    first = spaces[one.space_id.hex()]
    assert first["events"] == 4
    assert first["devices"] == first["active_devices"] == 1
    assert first["bytes"] > sum(map(len, pushed))
    assert first["last_entry_at_ms"] >= first["created_at_ms"]
    assert first["max_bytes"] is None, "the relay's default quota"
    table = admin(relay, "spaces")
    assert table.returncode == 0
    assert one.space_id.hex() in table.stdout
    assert "2 spaces" in table.stdout
    relay.stop()
    assert listed(relay) == spaces, "the same answer from the file itself"


# --- quota ----------------------------------------------------------------------------------


async def test_a_quota_for_one_space_holds_from_the_next_push_and_default_restores_it(
    start_relay: RelayFactory,
) -> None:
    relay = start_relay()
    small, other = await new_space(relay), await new_space(relay)
    result = admin(relay, "quota", small.space_id.hex(), "--max-events", "3", "--max-bytes", "0")
    assert result.returncode == 0, result.stderr
    assert "may now hold 0 bytes and 3 events" in result.stdout
    assert listed(relay)[small.space_id.hex()]["max_events"] == 3
    client = await small.connect()
    await small.push_ok(client, 1, [small.creator.envelope(small.space_id) for _ in range(2)])
    refused = await client.push(2, [small.creator.envelope(small.space_id, advance=False)])
    assert isinstance(refused, Error)
    assert refused.code == ErrorCode.QUOTA_EXCEEDED.value
    assert "at most 3 events" in refused.detail
    elsewhere = await other.connect()
    await other.push_ok(elsewhere, 1, [other.creator.envelope(other.space_id) for _ in range(5)])
    await elsewhere.close()

    assert admin(relay, "quota", small.space_id.hex(), "--default").returncode == 0
    assert listed(relay)[small.space_id.hex()]["max_events"] is None
    accepted = await client.push(3, [small.creator.envelope(small.space_id)])
    assert isinstance(accepted, Acked), accepted
    await client.close()


def test_quota_and_delete_space_name_what_is_wrong_with_their_input(
    start_relay: RelayFactory,
) -> None:
    relay = start_relay()
    bad = admin(relay, "quota", "not-a-space", "--default")
    assert bad.returncode == EXIT_SETUP
    assert "is not a space id; a space id is 32 hex digits" in bad.stderr
    unknown = admin(relay, "delete-space", "00" * 16, "--yes")
    assert unknown.returncode == EXIT_PROBLEMS
    assert "the relay has no space 000000" in unknown.stderr
    neither = admin(relay, "quota", "00" * 16)
    assert neither.returncode == EXIT_SETUP
    assert "give --max-bytes and --max-events, or --default" in neither.stderr


# --- delete-space ---------------------------------------------------------------------------


async def test_delete_space_wants_confirmation_before_it_erases_anything(
    start_relay: RelayFactory,
) -> None:
    relay = start_relay()
    space = await new_space(relay)
    result = admin(relay, "delete-space", space.space_id.hex(), stdin="y\n")
    assert result.returncode == EXIT_SETUP
    assert "add --yes" in result.stderr
    assert space.space_id.hex() in listed(relay), "nothing was deleted"


async def test_an_erased_space_leaves_no_ciphertext_in_any_relay_file(
    start_relay: RelayFactory,
) -> None:
    relay = start_relay()
    gone, kept = await new_space(relay), await new_space(relay)
    # Small envelopes live in b-tree pages, large ones in overflow pages: both kinds.
    erased = await push_envelopes(gone, [64, 900, 6000, 70_000])
    remaining = await push_envelopes(kept, [64, 900, 6000, 70_000])
    watcher = await gone.connect()
    folder = relay.db.parent
    assert files_holding(folder, chunks(erased)), "the search finds what is there"

    result = admin(relay, "delete-space", gone.space_id.hex(), "--yes")
    assert result.returncode == 0, result.stderr
    assert "deleted space" in result.stdout
    assert await watcher.close_code() == 4003, "its open connections end"
    assert f"operator deleted space {gone.space_id.hex()[:8]}" in relay.log()

    assert files_holding(folder, chunks(erased)) == []
    assert files_holding(folder, chunks(remaining)), "the other space is untouched"
    assert gone.space_id.hex() not in listed(relay)
    again = await SyncClient.open(relay.ws_url)
    await again.send(Hello(space_id=gone.space_id, device_id=gone.creator.device_id))
    challenge = await again.receive()
    if isinstance(challenge, Challenge):  # the relay may ask before it looks
        transcript = auth_transcript(
            gone.host, gone.space_id, gone.creator.device_id, challenge.nonce
        )
        await again.send(Authenticate(signature=gone.creator.sign(transcript)))
        challenge = await again.receive()
    assert isinstance(challenge, Error)
    assert challenge.code == ErrorCode.UNKNOWN_SPACE.value
    await again.close()
    await kept.assert_still_served_and_nothing_lost()

    # With the relay stopped, the command erases on the file itself.
    relay.stop()
    result = admin(relay, "delete-space", kept.space_id.hex(), "--yes")
    assert result.returncode == 0, result.stderr
    assert f"operator deleted space {kept.space_id.hex()[:8]}" in result.stderr
    assert files_holding(folder, chunks(remaining)) == []


async def test_when_both_partners_leave_no_ciphertext_remains_in_any_relay_file(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "relay-data"
    folder.mkdir()
    relay = RelayProcess(folder / "relay.db").start()
    try:
        alex, blake = await pair(tmp_path, relay.url)
        async with alex, blake:
            for n in range(5):
                await alex.append(JournalEntry(text=f"entry {n} " + "words " * 400 * n))
            await alex.sync()
            await blake.sync()
            with sqlite3.connect(relay.db) as db:
                stored = [bytes(row[0]) for row in db.execute("SELECT envelope FROM events")]
            assert len(stored) >= 7
            assert files_holding(folder, chunks(stored))
            assert not (await devices.leave(alex)).space_deleted
            await blake.sync()
            assert (await devices.leave(blake)).space_deleted
        # Nothing to wait for: the erasure was done before the relay answered.
        assert files_holding(folder, chunks(stored)) == []
    finally:
        relay.stop()
