"""Pairing, devices and the relay through the app's forms, over HTTP with a real
relay: a device invite made in the app adds Alex's laptop, the app removes it again,
leaving needs its box ticked, and Settings moves the space to another relay. These
flows open their own sync session, so the app's live session is paused around them
(AppState.sync_paused) and back afterwards."""

from __future__ import annotations

import re
from pathlib import Path

from client.keys.vault import CHEAP_COST
from client.space import Space, devices
from schemas.payloads import JournalEntry
from tests.app.inprocess import app_client, post, sign_in, unlock
from tests.app.screens_helpers import arrives
from tests.integration.pairing import PASSPHRASE, pair
from tests.integration.relay_process import RelayProcess


async def test_a_device_is_added_and_removed_from_the_app(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    await alex.close()
    try:
        async with app_client(tmp_path / "alex") as (state, client):
            await sign_in(state, client)
            csrf = await unlock(client, PASSPHRASE)
            made = await post(client, "/pairing/invite", {"csrf": csrf, "kind": "device"})
            assert made.headers["location"] == "/pairing#invite"
            page = (await client.get("/pairing")).text
            code = re.search(r'id="invite-code">([^<]+)<', page)
            assert code is not None
            assert "data:image/svg+xml" in page  # the QR code, as an image of this page
            assert code.group(1) not in str(made.url)

            laptop = await Space.join(
                tmp_path / "laptop",
                code=code.group(1),
                name="Alex",
                passphrase=PASSPHRASE,
                kdf_cost=CHEAP_COST,
            )
            assert laptop.joined
            laptop_id = laptop.device_id
            await laptop.close()
            space = state.space
            assert space is not None
            # The live session brings the laptop's first event.
            await arrives(lambda: laptop_id in space.membership.devices, timeout_s=30.0)

            await post(client, "/pairing/revoke", {"csrf": csrf, "device": laptop_id.hex()})
            assert (
                f"Device {laptop_id.hex()[:12]} is removed" in (await client.get("/pairing")).text
            )
            assert {r.device_id: r.status for r in devices.device_rows(space)}[
                laptop_id
            ] == "revoked"

            await post(client, "/pairing/leave", {"csrf": csrf})
            assert "Tick the box" in (await client.get("/pairing")).text
            assert not space.membership.lifecycle.left
    finally:
        await blake.close()


async def test_the_relay_is_moved_from_settings(tmp_path: Path, relay: RelayProcess) -> None:
    """Settings moves the space to another relay (the same flow as 'trellis relay
    set'); the live session carries on there, and the partner's move brings their
    events across."""
    alex, blake = await pair(tmp_path, relay.url)
    await alex.close()
    new_relay = RelayProcess(tmp_path / "new-relay.db").start()
    try:
        async with app_client(tmp_path / "alex") as (state, client):
            await sign_in(state, client)
            csrf = await unlock(client, PASSPHRASE)
            await post(client, "/settings/relay", {"csrf": csrf, "relay": new_relay.url})
            page = (await client.get("/settings")).text
            assert f"This space now syncs through {new_relay.url}" in page
            space = state.space
            assert space is not None
            assert space.endpoint.url == new_relay.url

            await blake.move_relay(new_relay.url)
            await blake.append(JournalEntry(text="Written after the move."))
            await blake.sync()
            # The app's live session is on the new relay.
            await arrives(
                lambda: "Written after the move." in [i.text for i in space.journal()],
                timeout_s=30.0,
            )
    finally:
        await blake.close()
        new_relay.stop()
