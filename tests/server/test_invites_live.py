"""Pairing through a real relay process: invite, show, redeem, then sync."""

from __future__ import annotations

import os

import httpx
import nacl.signing

from schemas.errors import ERRORS, ErrorCode
from tests.server.conftest import SpaceUnderTest
from tests.server.helpers import Device, invite_body, redeem_body


def assert_error(response: httpx.Response, code: ErrorCode) -> None:
    assert response.status_code == ERRORS[code].http_status, response.text
    assert response.json()["code"] == code.value


async def test_an_invite_admits_exactly_one_device_which_can_then_sync(
    space: SpaceUnderTest, http: httpx.AsyncClient
) -> None:
    invite_key = nacl.signing.SigningKey.generate()
    invite_id = os.urandom(16)
    body = invite_body(space.creator, space.space_id, invite_key, invite_id=invite_id)
    response = await http.post(f"/v1/spaces/{space.space_id.hex()}/invites", json=body)
    assert response.status_code == 201, response.text
    shown = await http.get(f"/v1/invites/{invite_id.hex()}")
    assert shown.status_code == 200
    assert shown.json()["space_id"] == space.space_id.hex()

    joiner, latecomer = Device(), Device()
    redeem_url = f"/v1/invites/{invite_id.hex()}/redeem"
    wrong_key = nacl.signing.SigningKey.generate()
    forged = redeem_body(wrong_key, space.space_id, invite_id, joiner)
    assert_error(await http.post(redeem_url, json=forged), ErrorCode.BAD_INVITE_PROOF)

    redeemed = await http.post(
        redeem_url, json=redeem_body(invite_key, space.space_id, invite_id, joiner)
    )
    assert redeemed.status_code == 200, redeemed.text
    reused = await http.post(
        redeem_url, json=redeem_body(invite_key, space.space_id, invite_id, latecomer)
    )
    assert_error(reused, ErrorCode.INVITE_USED)
    assert_error(await http.get(f"/v1/invites/{invite_id.hex()}"), ErrorCode.INVITE_USED)

    # The joiner is a device of the space now: it signs in and writes its first event.
    client = await space.connect(joiner)
    await space.push_ok(client, 1, [joiner.envelope(space.space_id)])
    await client.close()
    await space.assert_still_served_and_nothing_lost()


async def test_the_relay_answers_typed_errors_for_malformed_requests(
    http: httpx.AsyncClient,
) -> None:
    assert_error(await http.post("/v1/spaces", content=b"\xff\xfe"), ErrorCode.BAD_REQUEST)
    assert_error(await http.get("/v1/invites/12"), ErrorCode.BAD_REQUEST)
    assert_error(await http.get(f"/v1/invites/{'ab' * 16}"), ErrorCode.INVITE_NOT_FOUND)
