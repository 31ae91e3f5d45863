"""A real device home built without a relay, fed validly signed events through the
client's own admission (``Space._receive``): for tests of what a partner's modified app
can write, where no relay is involved in the question."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from client.keys import vault
from client.space import Space, SyncReport
from client.store.localstore import LocalStore
from tests.client.builders import EPOCH_KEYS, SPACE_ID, Built, Writer
from tests.integration.cli import PASSPHRASE

UNUSED_RELAY = "http://127.0.0.1:9"


async def make_home(home: Path, device: Writer) -> None:
    """``device``'s home: its keys sealed in the vault, nothing received yet.

    Sealed at :data:`~client.keys.vault.CHEAP_COST`: the tests here open the home
    dozens of times (each listing is a command), and what they prove is about events,
    not the passphrase's cost (test_localstore_and_vault.py and test_cli_contract.py
    check the real one)."""
    store = await LocalStore.open(home / "trellis.db")
    secrets = vault.DeviceSecrets(
        signing_seed=device.signing_seed, box_secret=device.box_secret, space_keys=EPOCH_KEYS
    )
    await store.put(
        {
            "vault": vault.seal(PASSPHRASE, secrets, vault.CHEAP_COST),
            "space_id": SPACE_ID,
            "device_id": device.device_id,
            "relay": UNUSED_RELAY.encode(),
            "cursor": b"0",
        }
    )
    await store.close()


async def deliver(home: Path, events: Sequence[Built]) -> SyncReport:
    """Admit ``events`` as if a relay served them in this order, then assess integrity."""
    report = SyncReport()
    space = await Space.open(home, passphrase=PASSPHRASE)
    try:
        await space._receive([(e.data, None) for e in events], report)
        await space._refresh_integrity()
    finally:
        await space.close()
    return report


def build_home(home: Path, device: Writer, events: Sequence[Built]) -> SyncReport:
    async def run() -> SyncReport:
        await make_home(home, device)
        return await deliver(home, events)

    return asyncio.run(run())


def deliver_more(home: Path, events: Sequence[Built]) -> SyncReport:
    return asyncio.run(deliver(home, events))
