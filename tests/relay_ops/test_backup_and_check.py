"""``trellis-relay backup`` and ``check``, restoring, and migrations that back up first
(issue #6, operations; docs/OPERATIONS.md §6-7)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from schemas.envelope import event_id_of
from schemas.protocol import Acked, Push
from server._migrations import migrations
from server.ingest import check_batch
from server.ops import check_database
from server.sqlite_store import PAGE_SIZE, SqliteStore
from server.store import NewEvent, full_envelope
from tests.integration.relay_process import REPO_ROOT
from tests.relay_ops.conftest import RelayFactory
from tests.relay_ops.spaces import new_space
from tests.server.conftest import SpaceUnderTest
from tests.server.helpers import Device, new_space_id

BATCH = 50
PUSH_INTERVAL_S = 0.02


def relay_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def keep_pushing(space: SpaceUnderTest, stop: asyncio.Event) -> None:
    client = await space.connect()
    req = 0
    while not stop.is_set():
        req += 1
        await client.send(
            Push(req=req, envelopes=[space.creator.envelope(space.space_id) for _ in range(BATCH)])
        )
        reply = await client.receive_reply()
        assert isinstance(reply, Acked), reply
        for ack in reply.acks:
            space.acked[ack.event_id] = ack.seq  # type: ignore[index]
        await asyncio.sleep(PUSH_INTERVAL_S)  # a steady writer, within max_pushes_per_s
    await client.close()


def files_beside(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(path.name))


def restore(backup: Path, db: Path) -> None:
    """docs/OPERATIONS.md §6: move the old files aside (here: remove), copy the backup."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, db)


def stored_ids(db: Path) -> dict[bytes, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT e.envelope, e.seq, s.space_id, d.device_id FROM events e "
            "JOIN spaces s ON s.id = e.space JOIN devices d ON d.id = e.author"
        ).fetchall()
    conn.close()
    # Envelopes are kept without their space id and author (server/store.py).
    return {
        event_id_of(full_envelope(bytes(e), bytes(space_id), bytes(author))): int(s)
        for e, s, space_id, author in rows
    }


async def test_a_backup_taken_while_serving_is_consistent_and_restores(
    tmp_path: Path, start_relay: RelayFactory
) -> None:
    relay = start_relay()
    space = await new_space(relay)
    stop = asyncio.Event()
    pusher = asyncio.create_task(keep_pushing(space, stop))
    await asyncio.sleep(0.3)
    acked_before = dict(space.acked)
    backup = tmp_path / "backups" / "relay-1.db"
    backup.parent.mkdir()
    result = await asyncio.to_thread(
        relay_command, "--db", str(relay.db), "backup", "--out", str(backup)
    )
    await asyncio.sleep(0.2)
    stop.set()
    await pusher
    assert result.returncode == 0, result.stderr
    assert "checked: ok" in result.stdout
    assert backup.stat().st_mode & 0o777 == 0o600
    assert files_beside(backup) == [backup], "a backup is one self-contained file"

    checked = relay_command("check", "--db", str(backup))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("ok: schema version")
    in_backup = stored_ids(backup)
    for event_id, seq in acked_before.items():
        assert in_backup.get(event_id) == seq, "acknowledged before the backup began"
    assert len(in_backup) < len(space.acked), "the relay kept writing during the backup"

    # Restore (docs/OPERATIONS.md §6): stop, move the files aside, copy, start.
    assert relay.stop() == 0
    restore(backup, relay.db)
    relay.start()
    client = await space.connect()
    stored = {event_id_of(s.envelope): s.seq for s in await space.pull_all(client)}
    await client.close()
    assert stored == in_backup


def test_backup_refuses_to_overwrite_and_check_needs_a_database(tmp_path: Path) -> None:
    existing = tmp_path / "exists.db"
    existing.write_bytes(b"precious")
    db = tmp_path / "relay.db"
    sqlite3.connect(db).close()
    result = relay_command("--db", str(db), "backup", "--out", str(existing))
    assert result.returncode == 1
    assert "exists already" in result.stderr
    assert existing.read_bytes() == b"precious"
    missing = relay_command("check", "--db", str(tmp_path / "nothing.db"))
    assert missing.returncode == 1
    assert "there is no database" in missing.stderr


async def test_check_finds_a_changed_envelope_a_gap_and_a_wrong_byte_count(
    tmp_path: Path,
) -> None:
    db = tmp_path / "relay.db"
    store = SqliteStore(str(db))
    await store.open()
    try:
        await fill(store, events=6)
    finally:
        await store.close()
    assert check_database(str(db)).ok

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET envelope = CAST(envelope || x'00' AS BLOB) WHERE seq = 3")
        conn.execute("DELETE FROM events WHERE seq = 5")
    conn.close()
    report = check_database(str(db))
    assert not report.ok
    text = report.summary()
    assert "not a canonical envelope" in text
    assert "prev does not name the author's previous event" in text  # seq 4 after 3
    assert "seqs must be 1..head without gaps" in text
    assert "bytes is" in text
    assert "author seq" in text  # the chain around the deleted event
    result = relay_command("check", "--db", str(db))
    assert result.returncode == 1
    assert "problems found" in result.stdout


async def fill(store: SqliteStore, events: int) -> None:
    """A space with a chain of ``events`` signed envelopes, through the store."""
    device, space_id = Device(), new_space_id()
    raws = [device.envelope(space_id) for _ in range(events)]
    checked = check_batch(raws, space_id, 1 << 20)
    assert isinstance(checked, list)
    rows = [
        NewEvent(space_id, n + 1, c.event_id, c.author, c.envelope.seq, c.canonical, 0)
        for n, c in enumerate(checked)
    ]
    assert await store.create_space(rows[0], 0)
    await store.append_events(rows[1:], {space_id: events})


async def test_a_migration_backs_the_database_up_first(tmp_path: Path) -> None:
    db = tmp_path / "relay.db"
    # A database as relay schema version 1 left it, with data in it.
    version_1 = migrations()[0][1]
    conn = sqlite3.connect(db)
    conn.executescript(version_1)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (1)")
    device, space_id = Device(), new_space_id()
    genesis = device.envelope(space_id)
    conn.execute("INSERT INTO spaces (space_id, created_at, head) VALUES (?, 0, 1)", (space_id,))
    conn.execute("INSERT INTO devices VALUES (?, ?, 'active', 0)", (space_id, device.device_id))
    conn.execute(
        "INSERT INTO events VALUES (?, 1, ?, ?, 1, ?, 0)",
        (space_id, event_id_of(genesis), device.device_id, genesis),
    )
    conn.commit()
    conn.close()

    store = SqliteStore(str(db))
    await store.open()
    await store.close()

    [backup] = [p for p in files_beside(db) if p.name.startswith("relay.db.v1-before-v")]
    with sqlite3.connect(backup) as old:
        assert old.execute("SELECT MAX(version) FROM schema_version").fetchone() == (1,)
        assert old.execute("SELECT COUNT(*) FROM events").fetchone() == (1,)
    old.close()
    with sqlite3.connect(db) as new:
        assert new.execute("SELECT MAX(version) FROM schema_version").fetchone() == (
            len(migrations()),
        )
        assert new.execute("SELECT bytes FROM spaces").fetchone() == (len(genesis),)
        # Schema version 5: integer ids, no stored event id; version 7: 16 KiB pages.
        assert new.execute("PRAGMA page_size").fetchone() == (PAGE_SIZE,)
        assert new.execute("SELECT space, seq, author, author_seq FROM events").fetchall() == [
            (1, 1, 1, 1)
        ]
    new.close()
    assert check_database(str(db)).ok


async def test_a_database_with_64_kib_pages_is_backed_up_and_rebuilt_with_16_kib(
    tmp_path: Path,
) -> None:
    """Schema version 7: a relay that ran versions 5 and 6 (64 KiB pages) is rebuilt with
    16 KiB pages once, after the upgrade's backup, keeping every event byte for byte."""
    db = tmp_path / "relay.db"
    await _as_version_6_with_64_kib_pages(db)
    before = stored_ids(db)

    store = SqliteStore(str(db))
    await store.open()
    await store.close()

    [backup] = [p for p in files_beside(db) if p.name.startswith("relay.db.v6-before-v7")]
    with sqlite3.connect(backup) as old:
        assert old.execute("PRAGMA page_size").fetchone() == (65536,)
    old.close()
    with sqlite3.connect(db) as new:
        assert new.execute("PRAGMA page_size").fetchone() == (PAGE_SIZE,) == (16384,)
        assert new.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert new.execute("SELECT MAX(version) FROM schema_version").fetchone() == (7,)
    new.close()
    assert stored_ids(db) == before
    assert check_database(str(db)).ok


async def _as_version_6_with_64_kib_pages(db: Path) -> None:
    store = SqliteStore(str(db))
    await store.open()
    try:
        await fill(store, events=20)
    finally:
        await store.close()
    with sqlite3.connect(db, isolation_level=None) as conn:
        conn.execute("DELETE FROM schema_version WHERE version = 7")
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA page_size=65536")
        conn.execute("VACUUM")
        conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


async def test_a_rebuild_that_cannot_run_now_leaves_the_relay_serving_and_runs_later(
    tmp_path: Path,
) -> None:
    """Another process holding the file open (an operator's backup or check, here a
    reader in the middle of a transaction) keeps the rewrite from running: the relay
    starts anyway with the pages it has, in WAL mode, and rebuilds at the next start."""
    db = tmp_path / "relay.db"
    await _as_version_6_with_64_kib_pages(db)
    before = stored_ids(db)
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM events").fetchone()
        store = SqliteStore(str(db))
        await store.open()  # does not fail
        await store.close()
    finally:
        reader.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA page_size").fetchone() == (65536,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    assert stored_ids(db) == before

    store = SqliteStore(str(db))
    await store.open()
    await store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA page_size").fetchone() == (PAGE_SIZE,)
    conn.close()
    assert stored_ids(db) == before
    assert check_database(str(db)).ok


async def test_a_new_database_needs_no_backup(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "relay.db"))
    await store.open()
    await store.close()
    assert not [p for p in files_beside(tmp_path / "relay.db") if p.suffix == ".bak"]
