"""Display names and other plaintext stay out of the local integrity records (issue #10;
docs/THREAT_MODEL.md §22)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import msgspec

from client.space import Space
from tests.client.builders import paired
from tests.integration.cli import PASSPHRASE
from tests.integration.offline_home import build_home
from tests.integration.test_hostile_payloads import hostile_write


def test_stored_findings_hold_no_names_and_shown_findings_do(tmp_path: Path) -> None:
    pair = paired()
    secret = msgspec.msgpack.encode({"type": "disclosure", "kind": "Secret words", "summary": 1})
    hostile = hostile_write(pair.blake, secret, [pair.joined])
    build_home(tmp_path, pair.alex, [*pair.membership, hostile])

    with sqlite3.connect(tmp_path / "trellis.db") as db:
        stored = [row[0] for row in db.execute("SELECT message FROM integrity_findings")]
    assert stored
    assert not any("Blake" in m or "Secret words" in m for m in stored), stored

    async def shown() -> list[str]:
        space = await Space.open(tmp_path, passphrase=PASSPHRASE)
        try:
            return [f.message for f in space.integrity()]
        finally:
            await space.close()

    messages = asyncio.run(shown())
    assert any("Blake's device" in m for m in messages), messages
    assert not any("Secret words" in m for m in messages)
