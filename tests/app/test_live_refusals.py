"""A push the relay refuses during the app's live session (docs/PROTOCOL.md §9.14): the
session no longer stops pushing silently. Every page and the form say the relay's own
reason in the CLI's words (one table), the entry stays saved on this device and marked
not delivered, and what follows depends on the reason: a quota is retried until the relay
takes it, a relay that lost this device's events gets them back, a removed device stops.
Real relay processes; the apps run in this test's event loop."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from client.keys.vault import CHEAP_COST
from client.space import Space, devices
from client.views.present import refusal_why
from tests.app.screens_helpers import Partner, arrives, flash, two_partners
from tests.app.test_live_session import restart
from tests.integration.pairing import PASSPHRASE
from tests.integration.relay_process import RelayProcess

QUOTA_WHY = refusal_why("quota_exceeded")


def texts(partner: Partner) -> list[str]:
    return [item.text for item in partner.space.journal()]


async def test_a_push_over_the_quota_says_why_and_goes_out_once_the_relay_takes_it(
    tmp_path: Path,
) -> None:
    relay = RelayProcess(tmp_path / "relay.db").start()
    try:
        async with two_partners(tmp_path, relay.url) as (alex, blake):
            await restart(relay, ["--max-space-events", "1"])  # every push is over it
            page = await alex.send("/journal", {"text": "Written over the quota"})
            assert f"Saved. Saved on this device; not delivered yet: {QUOTA_WHY}." in flash(page)
            assert "cannot be reached" not in flash(page)
            today = await alex.get("/today")
            assert f"The relay did not take this device's latest events: {QUOTA_WHY}." in today
            assert "marked not delivered" in today
            assert await alex.space.outbox_size() == 1, "kept on this device, not delivered"
            assert "saved here, not delivered yet" in await alex.get("/journal")
            assert "(saved here, not delivered yet)" in await alex.get("/timeline")

            await restart(relay, [])  # the operator raised the quota
            await arrives(lambda: "Written over the quota" in texts(blake), timeout_s=60.0)
            await arrives(lambda: alex.state.sync_problem is None, timeout_s=60.0)
            assert await alex.space.outbox_size() == 0
            assert "not delivered yet" not in await alex.get("/journal")
    finally:
        relay.stop()


def _copy(files: list[Path], to: Path) -> None:
    to.mkdir(exist_ok=True)
    for f in files:
        shutil.copy2(f, to / f.name)


async def test_a_relay_that_lost_this_devices_events_gets_them_back_from_the_live_session(
    tmp_path: Path,
) -> None:
    relay = RelayProcess(tmp_path / "relay.db").start()
    backup = tmp_path / "backup"
    try:
        async with two_partners(tmp_path, relay.url) as (alex, blake):

            def take_backup() -> None:
                relay.stop()
                _copy([f for f in relay.files() if f != relay.log_path], backup)
                relay.start()

            def restore_backup() -> None:
                relay.stop()
                for f in relay.files():
                    if f != relay.log_path:
                        f.unlink()
                for f in backup.iterdir():
                    shutil.copy2(f, relay.db.parent / f.name)
                relay.start()

            await asyncio.to_thread(take_backup)
            page = await alex.send("/journal", {"text": "Lost by the relay"})
            await arrives(lambda: "Lost by the relay" in texts(blake), timeout_s=60.0)
            assert "Delivered." in flash(page)
            await asyncio.to_thread(restore_backup)  # the relay forgets that entry

            # The relay refuses the next push as a gap in Alex's chain; the live session
            # gives it this device's copy and the entry goes out. Blake's device can only
            # receive it once the relay holds the lost one before it.
            await alex.send("/journal", {"text": "Written after the restore"})
            await arrives(lambda: "Written after the restore" in texts(blake), timeout_s=60.0)
            await arrives(lambda: alex.state.sync_problem is None, timeout_s=60.0)
            assert await alex.space.outbox_size() == 0
            assert not alex.state.sync_stopped
    finally:
        relay.stop()


async def test_a_removed_device_stops_with_the_reason_and_keeps_what_is_written(
    tmp_path: Path,
) -> None:
    relay = RelayProcess(tmp_path / "relay.db").start()
    try:
        async with two_partners(tmp_path, relay.url) as (alex, _blake):
            async with alex.state.sync_paused() as space:
                code = await space.invite(kind="device")
            laptop = await Space.join(
                tmp_path / "laptop",
                code=code,
                name="Alex's laptop",
                passphrase=PASSPHRASE,
                kdf_cost=CHEAP_COST,
            )
            try:
                await devices.revoke(laptop, alex.space.device_id.hex(), reason="lost")
            finally:
                await laptop.close()
            await arrives(lambda: alex.state.sync_stopped, timeout_s=60.0)
            today = await alex.get("/today")
            assert "This device was removed from the space and can no longer sync." in today
            assert "Live sync has stopped" in today
            assert "Trellis keeps trying" not in today

            page = await alex.send("/journal", {"text": "Written after removal"})
            assert (
                f"not delivered yet: {refusal_why('device_revoked')}. It stays on this device."
                in flash(page)
            )
            assert "Written after removal" in texts(alex)
            assert await alex.space.outbox_size() == 1
    finally:
        relay.stop()
