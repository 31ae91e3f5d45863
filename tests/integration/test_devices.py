"""Devices, revocation, rotation and leaving over the real relay (issue 4).

Alex's phone created the space and Blake joined; Alex adds a laptop, then loses the
phone. Later Alex leaves. Every step is checked on both partners' devices.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import msgspec
import pytest

from client.core.session import SessionEvent, SyncSession
from client.errors import RelayRefused, TrellisError
from client.keys import crypto
from client.keys.vault import CHEAP_COST
from client.space import Space, SyncReport, devices
from client.store.localstore import now_ms
from client.store.relay_http import RelayHttp
from client.store.transport import SyncConnection
from schemas.envelope import encode_envelope
from schemas.http import RevokeDeviceRequest, revoke_device_transcript
from schemas.payloads import EventBody, JournalEntry, encode_payload
from tests.integration.cli import run
from tests.integration.pairing import PASSPHRASE, pair
from tests.integration.relay_process import RelayProcess


def texts(space: Space) -> list[str]:
    return [item.text for item in space.journal()]


def statuses(space: Space) -> dict[str, str]:
    return {r.device_id.hex(): r.status for r in devices.device_rows(space)}


async def add_laptop(tmp_path: Path, phone: Space, blake: Space) -> Space:
    code = await phone.invite(kind="device")
    laptop = await Space.join(
        tmp_path / "laptop",
        code=code,
        name="Alex's laptop",
        passphrase=PASSPHRASE,
        kdf_cost=CHEAP_COST,
    )
    assert laptop.joined
    await phone.sync()
    await blake.sync()
    return laptop


async def test_alex_adds_a_laptop_revokes_the_lost_phone_and_the_phone_reads_nothing_after(
    tmp_path: Path, relay: RelayProcess
) -> None:
    phone, blake = await pair(tmp_path, relay.url)
    await phone.append(JournalEntry(text="written on the phone"))
    await phone.sync()
    laptop = await add_laptop(tmp_path, phone, blake)
    async with phone, blake, laptop:
        # The laptop is Alex's, not a third member, and has the whole history.
        assert laptop.me() == phone.me()
        assert texts(laptop) == ["written on the phone"]
        assert len(blake.members()) == 2
        assert sorted(statuses(blake).values()) == ["active", "active", "active"]
        assert blake.safety_number() == laptop.safety_number() == phone.safety_number()

        await devices.revoke(laptop, phone.device_id.hex()[:10], reason="phone lost")

        with pytest.raises(RelayRefused) as refused:
            await phone.sync()
        assert refused.value.code == "device_revoked"
        await blake.sync()
        for space in (laptop, blake):
            assert statuses(space)[phone.device_id.hex()] == "revoked"
            assert 1 in space.epoch_keys()
        assert laptop.safety_number() == blake.safety_number() != phone.safety_number()

        await blake.append(JournalEntry(text="after the phone was lost"))
        await blake.sync()
        await laptop.sync()
        assert texts(laptop)[-1] == "after the phone was lost"
        after = next(e for e in blake.events() if e.envelope.epoch == 1)
        # Nothing the phone holds opens what is written now.
        assert 1 not in phone.epoch_keys()
        for space_key in phone.epoch_keys().values():
            with pytest.raises(crypto.CryptoError):
                crypto.open_event(crypto.events_key_for(space_key), after.envelope)


async def test_a_revoked_device_connected_at_that_moment_is_cut_off_and_its_pushes_are_refused(
    tmp_path: Path, relay: RelayProcess
) -> None:
    phone, blake = await pair(tmp_path, relay.url)
    laptop = await add_laptop(tmp_path, phone, blake)
    async with phone, blake, laptop:
        connected = asyncio.Event()
        watching = asyncio.create_task(phone.sync(watch=True, connected=connected))
        await asyncio.wait_for(connected.wait(), 30)
        await devices.revoke(laptop, phone.device_id.hex(), reason="phone lost")
        with pytest.raises(RelayRefused) as refused:
            await asyncio.wait_for(watching, 30)
        assert refused.value.code == "device_revoked"

        await blake.sync()
        # Whoever has the phone keeps trying: nothing of it is stored or delivered.
        await phone.append(JournalEntry(text="written by whoever found the phone"))
        with pytest.raises(RelayRefused):
            await phone.sync()
        report = await blake.sync()
        assert report.received == 0
        assert "written by whoever found the phone" not in texts(blake)


async def test_a_revoked_device_replaying_its_old_events_changes_nothing(
    tmp_path: Path, relay: RelayProcess
) -> None:
    phone, blake = await pair(tmp_path, relay.url)
    laptop = await add_laptop(tmp_path, phone, blake)
    async with phone, blake, laptop:
        await devices.revoke(laptop, phone.device_id.hex())
        await blake.sync()
        before = (len(blake.events()), statuses(blake))
        # The relay gives the old signed events to Blake again (a replay): duplicates.
        replay = [(e.canonical, None) for e in phone.events() if e.author == phone.device_id]
        fresh = await blake._receive(replay, SyncReport())
        assert fresh == []
        assert (len(blake.events()), statuses(blake)) == before


async def test_one_partner_cannot_revoke_the_other_partners_device(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        with pytest.raises(TrellisError) as by_client:
            await devices.revoke(alex, blake.device_id.hex())
        assert by_client.value.code == "not_your_device"

        signed_at = now_ms()
        request = RevokeDeviceRequest(
            device_id=alex.device_id.hex(),
            signed_at=signed_at,
            signature=alex.device.sign(
                revoke_device_transcript(alex.space_id, alex.device_id, blake.device_id, signed_at)
            ),
        )
        with pytest.raises(RelayRefused) as by_relay:
            await RelayHttp(alex.endpoint).revoke_device(
                alex.space_id.hex(), blake.device_id.hex(), request
            )
        assert by_relay.value.code == "not_your_device"
        await blake.append(JournalEntry(text="still here"))
        await blake.sync()


async def test_a_device_the_relay_inserted_is_rejected_by_clients_and_reported(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        intruder = crypto.DeviceKeys.generate()
        with sqlite3.connect(relay.db) as db:
            db.execute(
                "INSERT INTO devices (space, device_id, status, added_at, member_group) "
                "VALUES ((SELECT id FROM spaces WHERE space_id = ?), ?, 'active', 0, ?)",
                (alex.space_id, intruder.device_id, intruder.device_id),
            )
        # Any relay write refreshes its view of the space's devices.
        await alex.invite(kind="device")
        forged = crypto.seal_event(
            device=intruder,
            space_id=alex.space_id,
            seq=1,
            prev=None,
            epoch=0,
            events_key=alex.events_key_for_epoch(0),
            plaintext=msgspec.msgpack.encode(
                EventBody(
                    deps=[],
                    lamport=1,
                    recorded_at=now_ms(),
                    occurred_at=now_ms(),
                    payload=msgspec.Raw(encode_payload(JournalEntry(text="I am Blake now"))),
                )
            ),
        )
        await push_as(alex, intruder, encode_envelope(forged))

        report = await blake.sync()
        assert report.rejected == 1
        assert (await blake.status()).rejected == 1
        assert intruder.device_id not in blake.membership.devices


@pytest.mark.own_relay  # it checks the relay holds no event and no space at all after
async def test_alex_leaves_and_blake_keeps_everything_then_the_relay_forgets_the_space(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    async with alex, blake:
        await alex.append(JournalEntry(text="shared before leaving"))
        await alex.sync()
        await blake.sync()

        response = await devices.leave(alex)
        assert response.revoked == [alex.device_id.hex()]
        assert not response.space_deleted
        # The leaver's device does not contact the relay again (THREAT_MODEL §16.2),
        # which would refuse it (device_revoked, tests/server).
        with pytest.raises(TrellisError) as refused:
            await alex.sync()
        assert refused.value.code == "device_removed"
        assert texts(alex) == ["shared before leaving"]  # the leaver keeps its copy

        await blake.sync()  # sees member_left and rotates to a key only Blake holds
        assert statuses(blake)[alex.device_id.hex()] == "revoked"
        assert 1 in blake.epoch_keys()
        assert 1 not in alex.epoch_keys()
        await blake.append(JournalEntry(text="after Alex left"))
        await blake.sync()
        assert texts(blake) == ["shared before leaving", "after Alex left"]

        last = await devices.leave(blake)
        assert last.space_deleted
        with sqlite3.connect(relay.db) as db:
            assert db.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)
            assert db.execute("SELECT COUNT(*) FROM spaces").fetchone() == (0,)


async def test_devices_and_status_tell_both_partners_the_truth_at_each_step(
    tmp_path: Path, relay: RelayProcess
) -> None:
    phone, blake = await pair(tmp_path, relay.url)
    laptop = await add_laptop(tmp_path, phone, blake)
    await phone.close()
    await blake.close()
    await laptop.close()
    homes = {"laptop": tmp_path / "laptop", "blake": tmp_path / "blake"}

    def cli(who: str, *args: str) -> str:
        return run(homes[who], *args, passphrase=PASSPHRASE).stdout

    for who in homes:
        cli(who, "safety-number", "--confirm")
        assert json.loads(cli(who, "status", "--json"))["safety_number_confirmed"] is True
    listed = json.loads(cli("laptop", "devices", "--json"))
    assert {d["member"] for d in listed} == {"Alex", "Blake"}
    assert [d["this_device"] for d in listed].count(True) == 1
    for d in listed:
        assert set(d) >= {"id", "member", "fingerprint", "added_at", "status", "this_device"}
        assert d["status"] == "active"

    cli("laptop", "device", "revoke", phone.device_id.hex()[:8], "--reason", "lost")
    cli("blake", "sync")
    for who in homes:
        devices_now = json.loads(cli(who, "devices", "--json"))
        by_id = {d["id"]: d["status"] for d in devices_now}
        assert by_id[phone.device_id.hex()] == "revoked"
        assert sorted(by_id.values()) == ["active", "active", "revoked"]
        status = json.loads(cli(who, "status", "--json"))
        assert status["safety_number_changed"] is True
        assert "CHANGED" in cli(who, "status")
    for who in homes:
        cli(who, "safety-number", "--confirm")
        assert json.loads(cli(who, "status", "--json"))["safety_number_changed"] is False


async def test_a_changed_passphrase_replaces_the_old_and_wrong_ones_are_slowed_down(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    await blake.close()
    await devices.change_passphrase(alex, "a brand new passphrase", kdf_cost=CHEAP_COST)
    await alex.close()
    home = tmp_path / "alex"
    for _ in range(devices.FREE_PASSPHRASE_ATTEMPTS):
        with pytest.raises(TrellisError) as wrong:
            await Space.open(home, passphrase=PASSPHRASE)
        assert wrong.value.code == "wrong_passphrase"
    with pytest.raises(TrellisError) as waiting:
        await Space.open(home, passphrase="a brand new passphrase")
    assert waiting.value.code == "passphrase_rate_limited"


async def push_as(space: Space, device: crypto.DeviceKeys, envelope: bytes) -> None:
    """Push one envelope as ``device`` (which the relay was made to accept)."""
    session = SyncSession(
        space_id=space.space_id,
        device_id=device.device_id,
        host=space.endpoint.host,
        sign=device.sign,
        cursor=0,
        outbox=[envelope],
    )

    async def ignore(_: SessionEvent) -> None:
        return None

    await SyncConnection(space.endpoint, session).run(ignore, until_up_to_date=True)
