"""A partner who lost every device rejoins through the other partner (issue 4).

Alex's only phone is lost. Blake issues a rejoin invite for Alex ('trellis invite
--rejoin'); Alex's new phone joins with it ('trellis join') as the same member, gets the
whole history from the relay, and in the same step removes the lost phone and rotates
the key. Illegal rejoin invites are refused by the relay where it can tell.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from client.errors import RelayRefused
from client.keys import crypto, vault
from client.space import Space, devices
from client.store.localstore import now_ms
from client.store.relay_http import RelayHttp
from schemas.http import CreateInviteRequest, invite_create_transcript
from schemas.ids import DeviceId
from schemas.payloads import JournalEntry
from schemas.practices import AgreementProposed
from tests.integration.cli import run
from tests.integration.pairing import PASSPHRASE, pair
from tests.integration.relay_process import RelayProcess


def cli(home: Path, *args: str) -> str:
    return run(home, *args, passphrase=PASSPHRASE).stdout


def proposers(shown: object) -> set[str]:
    """Every ``proposed_by`` anywhere in 'trellis agreement show --json' output."""
    if isinstance(shown, dict):
        found = {shown["proposed_by"]} if "proposed_by" in shown else set()
        return found.union(*(proposers(v) for v in shown.values()))
    if isinstance(shown, list):
        return set().union(*(proposers(v) for v in shown))
    return set()


async def test_alex_loses_his_only_phone_and_rejoins_through_blake(
    tmp_path: Path, relay: RelayProcess
) -> None:
    lost, blake = await pair(tmp_path, relay.url)
    await lost.append(JournalEntry(text="written on the lost phone"))
    await lost.append(AgreementProposed(title="Sundays", clauses=["We check in on Sundays"]))
    await lost.sync()
    await blake.append(JournalEntry(text="Blake, before the loss"))
    await blake.sync()
    alex_member = lost.me()
    assert alex_member is not None
    await blake.close()
    # The phone is gone: nobody syncs it again until whoever found it tries below.

    printed = cli(tmp_path / "blake", "invite", "--rejoin", "--hours", "1")
    code = printed.strip().splitlines()[-1]
    joined = cli(tmp_path / "new-phone", "join", code, "--name", "ignored for a rejoin")
    assert "1 lost device(s) are removed" in joined
    cli(tmp_path / "blake", "sync")

    new_phone = await Space.open(tmp_path / "new-phone", passphrase=PASSPHRASE)
    blake = await Space.open(tmp_path / "blake", passphrase=PASSPHRASE)
    async with lost, new_phone, blake:
        # The same member, with the whole history: names and authorship are Alex's.
        assert new_phone.me() == alex_member
        assert len(blake.members()) == len(new_phone.members()) == 2
        assert sorted(i.text for i in new_phone.journal()) == [
            "Blake, before the loss",
            "written on the lost phone",
        ]
        assert {new_phone.member_name(i.author) for i in new_phone.journal()} == {"Alex", "Blake"}
        for home in (tmp_path / "new-phone", tmp_path / "blake"):
            [listed] = json.loads(cli(home, "agreement", "list", "--json"))
            shown = json.loads(cli(home, "agreement", "show", listed["id"], "--json"))
            assert proposers(shown) == {"Alex"}

        # 'trellis devices' tells both partners the truth.
        for home, me in ((tmp_path / "new-phone", new_phone), (tmp_path / "blake", blake)):
            listed_devices = {d["id"]: d for d in json.loads(cli(home, "devices", "--json"))}
            assert listed_devices[lost.device_id.hex()]["status"] == "revoked"
            assert listed_devices[lost.device_id.hex()]["member"] == "Alex"
            assert listed_devices[new_phone.device_id.hex()]["status"] == "active"
            assert listed_devices[new_phone.device_id.hex()]["member"] == "Alex"
            assert listed_devices[me.device_id.hex()]["this_device"] is True
            assert sorted(d["status"] for d in listed_devices.values()) == [
                "active",
                "active",
                "revoked",
            ]
        assert new_phone.safety_number() == blake.safety_number()

        # The lost phone is refused, and nothing it holds opens what is written now.
        with pytest.raises(RelayRefused) as refused:
            await lost.sync()
        assert refused.value.code == "device_revoked"
        await blake.append(JournalEntry(text="after the rejoin"))
        await blake.sync()
        await new_phone.sync()
        assert "after the rejoin" in {i.text for i in new_phone.journal()}
        after = next(e for e in blake.events() if e.envelope.epoch == 1)
        assert 1 in new_phone.epoch_keys()
        assert 1 not in lost.epoch_keys()
        for space_key in lost.epoch_keys().values():
            with pytest.raises(crypto.CryptoError):
                crypto.open_event(crypto.events_key_for(space_key), after.envelope)


async def create_rejoin_invite(space: Space, for_device: DeviceId) -> None:
    """A signed rejoin invite request naming any device, as a modified client could."""
    keys = crypto.InviteKeys.from_secret(crypto.new_invite_secret())
    now = now_ms()
    unsigned = CreateInviteRequest(
        device_id=space.device_id.hex(),
        invite_id=keys.invite_id.hex(),
        verify_key=keys.verify_key,
        wrapped_keys=keys.wrap(vault.encode_space_keys(vault.SpaceKeys(space_keys={}))),
        expires_at=now + 3_600_000,
        kind="rejoin",
        signed_at=now,
        signature=bytes(64),
        for_device=for_device.hex(),
    )
    request = msgspec.structs.replace(
        unsigned, signature=space.device.sign(invite_create_transcript(space.space_id, unsigned))
    )
    await RelayHttp(space.endpoint).create_invite(space.space_id.hex(), request)


async def test_the_relay_refuses_a_rejoin_invite_for_the_issuer_a_stranger_or_a_leaver(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        for target in (blake.device_id, DeviceId(bytes(32))):
            with pytest.raises(RelayRefused) as refused:
                await create_rejoin_invite(blake, target)
            assert refused.value.code == "bad_request"
        # The client itself will not ask for its own member either.
        with pytest.raises(RelayRefused):
            await blake.invite(kind="rejoin", for_member=blake.me().member_id)  # type: ignore[union-attr]

        await devices.leave(alex)
        with pytest.raises(RelayRefused) as refused:
            await create_rejoin_invite(blake, alex.device_id)
        assert refused.value.code == "bad_request"
        await blake.sync()
        with pytest.raises(Exception, match="nobody to re-pair"):
            await devices.rejoin_invite(blake, ttl_s=3600)
