"""``trellis-relay migrate-store --from PATH --to URL`` (docs/OPERATIONS.md §15): a
SQLite relay's spaces, devices, invites and sequence numbers move into PostgreSQL,
``trellis-relay check`` finds the copy sound, and the partners' apps sync on against the
PostgreSQL relay at the same address with no integrity finding."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from client.space import Space
from schemas.payloads import JournalEntry
from tests.integration.pairing import pair
from tests.integration.relay_process import REPO_ROOT, RelayProcess


def relay_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
async def test_a_sqlite_relay_moves_to_postgresql_and_apps_sync_on(
    tmp_path: Path, pg_url: str
) -> None:
    sqlite_relay = RelayProcess(tmp_path / "relay.db").start()
    alex, blake = await pair(tmp_path, sqlite_relay.url)
    async with alex, blake:
        await moved_and_synced(tmp_path, pg_url, sqlite_relay, alex, blake)


async def moved_and_synced(
    tmp_path: Path, pg_url: str, sqlite_relay: RelayProcess, alex: Space, blake: Space
) -> None:
    try:
        for n in range(5):
            await alex.append(JournalEntry(text=f"before the move {n}"))
        await alex.sync()
        await blake.sync()
        await blake.invite(kind="device")  # an open invite moves too
    finally:
        assert sqlite_relay.stop() == 0
    with sqlite3.connect(tmp_path / "relay.db") as db:
        sqlite_heads = db.execute("SELECT space_id, head, bytes FROM spaces").fetchall()
    db.close()

    moved = relay_command("migrate-store", "--from", str(tmp_path / "relay.db"), "--to", pg_url)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "copied 1 spaces, 2 devices, 2 invites" in moved.stdout
    assert "password" not in moved.stdout
    checked = relay_command("check", "--db", pg_url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("ok:")

    again = relay_command("migrate-store", "--from", str(tmp_path / "relay.db"), "--to", pg_url)
    assert again.returncode == 1
    assert "already holds spaces" in again.stderr

    conn = await asyncpg.connect(pg_url)
    try:
        pg_heads = await conn.fetch("SELECT space_id, head, bytes FROM spaces")
    finally:
        await conn.close()
    assert [tuple(r) for r in pg_heads] == sqlite_heads, "every sequence number kept"

    pg_relay = RelayProcess(tmp_path / "pg.db", port=sqlite_relay.port, database_url=pg_url).start()
    try:
        await blake.append(JournalEntry(text="after the move"))
        await blake.sync()
        await alex.sync()
        texts = [item.text for item in alex.journal()]
        assert "after the move" in texts
        assert all(f"before the move {n}" in texts for n in range(5))
        assert alex.integrity() == []
        assert blake.integrity() == []
    finally:
        pg_relay.stop()
