"""One partner against the other, at the relay (docs/PROTOCOL.md §7.11, THREAT_MODEL.md §19).

Each test plays a *modified* client: raw HTTP bodies and raw sync frames, none of the
client library's own checks. A space has two partners for its whole life, and no
operation by one partner's device removes, replaces or locks out the other partner's
devices, except the documented, signed ones.
"""

from __future__ import annotations

import os
import time

import httpx
import msgspec
import nacl.signing

from schemas.errors import ERRORS, ErrorCode
from schemas.http import (
    CreateInviteRequest,
    LeaveRequest,
    RevokeDeviceRequest,
    invite_create_transcript,
    leave_transcript,
    revoke_device_transcript,
)
from schemas.protocol import Error, Hello
from tests.server.conftest import SpaceUnderTest
from tests.server.helpers import Device, SyncClient, admit, invite_body, redeem_body


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def assert_error(response: httpx.Response, code: ErrorCode) -> None:
    assert response.status_code == ERRORS[code].http_status, response.text
    assert response.json()["code"] == code.value, response.text


async def issue(
    http: httpx.AsyncClient,
    issuer: Device,
    space_id: bytes,
    *,
    kind: str = "member",
    for_device: Device | None = None,
) -> tuple[httpx.Response, nacl.signing.SigningKey, bytes]:
    invite_key = nacl.signing.SigningKey.generate()
    invite_id = os.urandom(16)
    if for_device is None:
        body = invite_body(issuer, space_id, invite_key, invite_id=invite_id, kind=kind)
    else:
        now = _now_ms()
        unsigned = CreateInviteRequest(
            device_id=issuer.device_id.hex(),
            invite_id=invite_id.hex(),
            verify_key=bytes(invite_key.verify_key),
            wrapped_keys=os.urandom(80),
            expires_at=now + 3600_000,
            kind="rejoin",
            signed_at=now,
            signature=b"\x00" * 64,
            for_device=for_device.device_id.hex(),
        )
        signed = msgspec.structs.replace(
            unsigned, signature=issuer.sign(invite_create_transcript(space_id, unsigned))
        )
        body = msgspec.to_builtins(signed)
    response = await http.post(f"/v1/spaces/{space_id.hex()}/invites", json=body)
    return response, invite_key, invite_id


async def redeem(
    http: httpx.AsyncClient,
    invite_key: nacl.signing.SigningKey,
    space_id: bytes,
    invite_id: bytes,
    device: Device,
) -> httpx.Response:
    return await http.post(
        f"/v1/invites/{invite_id.hex()}/redeem",
        json=redeem_body(invite_key, space_id, invite_id, device),
    )


async def revoke(
    http: httpx.AsyncClient, by: Device, space_id: bytes, target: Device
) -> httpx.Response:
    now = _now_ms()
    transcript = revoke_device_transcript(space_id, by.device_id, target.device_id, now)
    body = RevokeDeviceRequest(
        device_id=by.device_id.hex(), signed_at=now, signature=by.sign(transcript)
    )
    return await http.post(
        f"/v1/spaces/{space_id.hex()}/devices/{target.device_id.hex()}/revoke",
        json=msgspec.to_builtins(body),
    )


async def leave(http: httpx.AsyncClient, by: Device, space_id: bytes) -> httpx.Response:
    now = _now_ms()
    body = LeaveRequest(
        device_id=by.device_id.hex(),
        signed_at=now,
        signature=by.sign(leave_transcript(space_id, by.device_id, now)),
    )
    return await http.post(f"/v1/spaces/{space_id.hex()}/leave", json=msgspec.to_builtins(body))


async def still_syncs(space: SpaceUnderTest, device: Device) -> None:
    """The device signs in, pushes and is acknowledged: nobody locked it out."""
    client = await space.connect(device)
    try:
        await space.push_ok(client, 1, [device.envelope(space.space_id)])
    finally:
        await client.close()


async def paired(space: SpaceUnderTest, http: httpx.AsyncClient) -> Device:
    """The second partner, joined through a member invite."""
    partner = Device()
    await admit(http, space.creator, space.space_id, partner)
    return partner


# --- a third person ------------------------------------------------------------------


async def test_a_third_member_is_refused_even_from_a_client_that_skips_its_own_check(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    partner = await paired(space, http)
    # A modified client issues a member invite after the partner joined ...
    response, invite_key, invite_id = await issue(http, space.creator, space.space_id)
    assert response.status_code == 201, response.text
    # ... but the relay refuses the third person who redeems it, and admits nobody.
    stranger = Device()
    refused = await redeem(http, invite_key, space.space_id, invite_id, stranger)
    assert_error(refused, ErrorCode.SPACE_FULL)
    client = await SyncClient.open(space.relay.ws_url)
    try:
        await client.send(Hello(space_id=space.space_id, device_id=stranger.device_id))
        reply = await client.receive()
        assert isinstance(reply, Error)
        assert reply.code == ErrorCode.UNKNOWN_DEVICE
    finally:
        await client.close()
    await still_syncs(space, partner)


async def test_a_space_has_two_partners_for_its_whole_life_even_after_one_left(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    partner = await paired(space, http)
    assert (await leave(http, partner, space.space_id)).status_code == 200
    response, invite_key, invite_id = await issue(http, space.creator, space.space_id)
    assert response.status_code == 201
    refused = await redeem(http, invite_key, space.space_id, invite_id, Device())
    assert_error(refused, ErrorCode.SPACE_FULL)


async def test_device_invites_still_add_devices_to_the_inviting_partner(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    partner = await paired(space, http)
    response, invite_key, invite_id = await issue(http, partner, space.space_id, kind="device")
    assert response.status_code == 201, response.text
    laptop = Device()
    assert (await redeem(http, invite_key, space.space_id, invite_id, laptop)).status_code == 200
    # The laptop is the partner's own: the creator cannot remove it, the partner can.
    assert_error(
        await revoke(http, space.creator, space.space_id, laptop), ErrorCode.NOT_YOUR_DEVICE
    )
    await still_syncs(space, laptop)
    assert (await revoke(http, partner, space.space_id, laptop)).status_code == 200


# --- one partner against the other --------------------------------------------------


async def test_a_partner_cannot_revoke_the_other_partners_device(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    partner = await paired(space, http)
    assert_error(
        await revoke(http, space.creator, space.space_id, partner), ErrorCode.NOT_YOUR_DEVICE
    )
    assert_error(
        await revoke(http, partner, space.space_id, space.creator), ErrorCode.NOT_YOUR_DEVICE
    )
    await still_syncs(space, partner)
    await still_syncs(space, space.creator)


async def test_leaving_removes_only_the_leavers_devices_and_keeps_the_space(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    partner = await paired(space, http)
    response = await leave(http, space.creator, space.space_id)
    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": [space.creator.device_id.hex()], "space_deleted": False}
    await still_syncs(space, partner)


async def test_a_device_invite_cannot_move_the_other_partners_device_into_ones_own_group(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    partner = await paired(space, http)
    # The creator redeems its own device invite in the partner's device's name ...
    response, invite_key, invite_id = await issue(
        http, space.creator, space.space_id, kind="device"
    )
    assert response.status_code == 201
    await redeem(http, invite_key, space.space_id, invite_id, partner)
    # ... which changes nothing: the partner's device stays the partner's.
    assert_error(
        await revoke(http, space.creator, space.space_id, partner), ErrorCode.NOT_YOUR_DEVICE
    )
    await still_syncs(space, partner)


async def test_a_rejoin_invite_is_refused_while_the_partner_is_connected(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    partner = await paired(space, http)
    client = await space.connect(partner)
    try:
        response, _, _ = await issue(
            http, space.creator, space.space_id, kind="rejoin", for_device=partner
        )
        assert_error(response, ErrorCode.PARTNER_ACTIVE)
    finally:
        await client.close()


async def test_a_rejoin_invite_cannot_replace_a_partner_who_signed_in_after_it_was_issued(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    partner = await paired(space, http)
    response, invite_key, invite_id = await issue(
        http, space.creator, space.space_id, kind="rejoin", for_device=partner
    )
    assert response.status_code == 201, response.text
    await still_syncs(space, partner)  # the partner is not lost: they just synced
    # The issuer redeems its own rejoin invite to take the partner's place: refused.
    impostor = Device()
    refused = await redeem(http, invite_key, space.space_id, invite_id, impostor)
    assert_error(refused, ErrorCode.PARTNER_ACTIVE)
    assert_error(await revoke(http, impostor, space.space_id, partner), ErrorCode.UNKNOWN_DEVICE)
    await still_syncs(space, partner)


async def test_a_rejoin_for_a_partner_whose_devices_are_silent_still_works(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    partner = await paired(space, http)
    response, invite_key, invite_id = await issue(
        http, space.creator, space.space_id, kind="rejoin", for_device=partner
    )
    assert response.status_code == 201, response.text
    new_phone = Device()
    joined = await redeem(http, invite_key, space.space_id, invite_id, new_phone)
    assert joined.status_code == 200, joined.text
    # A retry by the same device succeeds again; the new device is the partner's own.
    assert (await redeem(http, invite_key, space.space_id, invite_id, new_phone)).status_code == 200
    assert (await revoke(http, new_phone, space.space_id, partner)).status_code == 200
    assert_error(
        await revoke(http, new_phone, space.space_id, space.creator), ErrorCode.NOT_YOUR_DEVICE
    )
    await still_syncs(space, new_phone)
