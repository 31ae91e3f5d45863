"""Helpers that pair two partners' devices through a real relay."""

from __future__ import annotations

from pathlib import Path

from client.keys.vault import CHEAP_COST
from client.space import Space

PASSPHRASE = "correct horse battery staple"


async def pair(tmp_path: Path, relay_url: str) -> tuple[Space, Space]:
    """Alex creates the space, invites Blake, Blake joins; both are synced after.

    Library-level tests seal vaults at the cheapest Argon2id cost (a parameter of the
    vault); the CLI tests run the real one."""
    alex = await Space.create(
        tmp_path / "alex",
        relay_url=relay_url,
        name="Alex",
        passphrase=PASSPHRASE,
        kdf_cost=CHEAP_COST,
    )
    code = await alex.invite()
    blake = await Space.join(
        tmp_path / "blake", code=code, name="Blake", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    )
    assert blake.joined, "Blake's join should complete in the first sync"
    await alex.sync()
    return alex, blake
