"""What ``Space.join`` does when its first sync fails (issue #12).

The invite is redeemed and saved before the first sync, so a sync that fails only for
now (the relay restarting or out of reach) leaves ``space.joined`` False and the next
sync completes the join. A sync that can never succeed (the relay refuses this device)
is reported to the caller at once instead of a half-joined space that looks fine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from client.errors import RelayRefused
from client.keys.vault import CHEAP_COST
from client.space import Space, devices
from client.store.relay_http import RelayHttp
from schemas.http import RedeemInviteRequest
from schemas.ids import DeviceId
from tests.integration.pairing import PASSPHRASE
from tests.integration.relay_process import RelayProcess


def after_redeem(
    monkeypatch: pytest.MonkeyPatch, then: Callable[[DeviceId], Awaitable[None]]
) -> None:
    """Run ``then`` between the (real) redeem and the first sync of ``Space.join``:
    the moment a relay restart or a revocation could fall into."""
    redeem = RelayHttp.redeem_invite

    async def redeem_then(self: RelayHttp, invite_id: str, request: RedeemInviteRequest) -> None:
        await redeem(self, invite_id, request)
        await then(DeviceId(bytes.fromhex(request.device_id)))

    monkeypatch.setattr(RelayHttp, "redeem_invite", redeem_then)


async def new_space(tmp_path: Path, relay: RelayProcess) -> Space:
    return await Space.create(
        tmp_path / "phone",
        relay_url=relay.url,
        name="Alex",
        passphrase=PASSPHRASE,
        kdf_cost=CHEAP_COST,
    )


async def test_a_join_whose_first_sync_is_refused_for_good_reports_it(
    tmp_path: Path, relay: RelayProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = await new_space(tmp_path, relay)
    async with phone:
        code = await phone.invite(kind="device")

        async def revoke(device_id: DeviceId) -> None:
            await devices._relay_revoke(phone, device_id)

        after_redeem(monkeypatch, revoke)
        with pytest.raises(RelayRefused) as raised:
            await Space.join(
                tmp_path / "laptop",
                code=code,
                name="Alex",
                passphrase=PASSPHRASE,
                kdf_cost=CHEAP_COST,
            )
        assert raised.value.code == "device_revoked"


async def test_a_join_whose_first_sync_cannot_reach_the_relay_completes_on_the_next(
    tmp_path: Path, relay: RelayProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = await new_space(tmp_path, relay)
    async with phone:
        code = await phone.invite(kind="device")

        async def relay_goes_down(_: DeviceId) -> None:
            relay.stop()

        after_redeem(monkeypatch, relay_goes_down)
        laptop = await Space.join(
            tmp_path / "laptop", code=code, name="Alex", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
        )
        async with laptop:
            assert not laptop.joined
            relay.start()
            await laptop.sync()
            assert laptop.joined
            await phone.sync()
            assert laptop.device_id in phone.membership.devices
