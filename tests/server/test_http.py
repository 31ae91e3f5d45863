"""HTTP endpoints, in process with a clock the tests move (server/http_api.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import nacl.signing
import pytest
from litestar.testing import AsyncTestClient

from schemas.envelope import decode_envelope, encode_envelope
from schemas.errors import ERRORS, ErrorCode
from schemas.http import CreateSpaceRequest
from server.app import create_app
from server.settings import Settings
from tests.server.helpers import Device, create_space_body, invite_body, new_space_id, redeem_body

HOUR_MS = 3600 * 1000


class Clock:
    def __init__(self) -> None:
        self.now_ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.now_ms


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(tmp_path: Path, clock: Clock) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(Settings(db=str(tmp_path / "relay.db")), clock_ms=clock)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


def assert_error(response: Any, code: ErrorCode) -> None:
    assert response.status_code == ERRORS[code].http_status, response.text
    body = response.json()
    assert body["code"] == code.value, body
    assert isinstance(body["detail"], str)
    assert body["detail"]


async def new_space(client: AsyncTestClient[Any]) -> tuple[bytes, Device]:
    creator, space_id = Device(), new_space_id()
    response = await client.post("/v1/spaces", json=create_space_body(creator, space_id))
    assert response.status_code == 201, response.text
    assert response.json() == {"space_id": space_id.hex(), "seq": 1}
    return space_id, creator


def invite(
    clock: Clock, issuer: Device, space_id: bytes, **kwargs: Any
) -> tuple[dict[str, Any], nacl.signing.SigningKey, bytes]:
    invite_key = nacl.signing.SigningKey.generate()
    invite_id = os.urandom(16)
    kwargs.setdefault("signed_at", clock.now_ms)
    kwargs.setdefault("expires_at", clock.now_ms + HOUR_MS)
    body = invite_body(issuer, space_id, invite_key, invite_id=invite_id, **kwargs)
    return body, invite_key, invite_id


async def issued_invite(
    client: AsyncTestClient[Any], clock: Clock
) -> tuple[bytes, nacl.signing.SigningKey, bytes]:
    space_id, creator = await new_space(client)
    body, invite_key, invite_id = invite(clock, creator, space_id)
    response = await client.post(f"/v1/spaces/{space_id.hex()}/invites", json=body)
    assert response.status_code == 201, response.text
    assert response.json() == {"invite_id": invite_id.hex(), "expires_at": body["expires_at"]}
    return space_id, invite_key, invite_id


# --- health, schema, Litestar's own refusals -------------------------------------


async def test_health_answers_ok_with_the_version(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["version"]


async def test_the_openapi_schema_is_served(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert "/v1/spaces" in response.json()["paths"]


async def test_a_body_that_is_not_json_is_bad_request(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/v1/spaces", content=b"{not json")
    assert_error(response, ErrorCode.BAD_REQUEST)


async def test_a_body_missing_fields_is_bad_request_naming_the_field(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.post("/v1/spaces", json={"space_id": "00" * 16})
    assert_error(response, ErrorCode.BAD_REQUEST)
    assert "genesis" in response.json()["detail"]


async def test_an_unknown_route_is_an_error_body_too(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == ErrorCode.BAD_REQUEST.value


async def test_a_body_over_the_frame_limit_is_refused(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/v1/spaces", content=b"x" * (2 * 1024 * 1024))
    assert_error(response, ErrorCode.FRAME_TOO_LARGE)


# --- spaces ------------------------------------------------------------------------


async def test_creating_a_space_again_with_the_same_genesis_succeeds_again(
    client: AsyncTestClient[Any],
) -> None:
    creator, space_id = Device(), new_space_id()
    body = create_space_body(creator, space_id)
    for _ in range(2):
        response = await client.post("/v1/spaces", json=body)
        assert response.status_code == 201, response.text


async def test_a_taken_space_id_is_space_exists(client: AsyncTestClient[Any]) -> None:
    space_id, _ = await new_space(client)
    response = await client.post("/v1/spaces", json=create_space_body(Device(), space_id))
    assert_error(response, ErrorCode.SPACE_EXISTS)


async def test_a_genesis_that_is_not_an_envelope_is_bad_envelope(
    client: AsyncTestClient[Any],
) -> None:
    body = msgspec.to_builtins(CreateSpaceRequest(space_id="ab" * 16, genesis=b"\x01\x02"))
    assert_error(await client.post("/v1/spaces", json=body), ErrorCode.BAD_ENVELOPE)


async def test_a_genesis_of_another_space_is_refused(client: AsyncTestClient[Any]) -> None:
    body = create_space_body(Device(), new_space_id())
    body["space_id"] = new_space_id().hex()
    assert_error(await client.post("/v1/spaces", json=body), ErrorCode.WRONG_SPACE)


async def test_a_genesis_after_seq_1_is_refused(client: AsyncTestClient[Any]) -> None:
    creator, space_id = Device(), new_space_id()
    genesis = creator.envelope(space_id, seq=2, prev=os.urandom(32))
    body = msgspec.to_builtins(CreateSpaceRequest(space_id=space_id.hex(), genesis=genesis))
    assert_error(await client.post("/v1/spaces", json=body), ErrorCode.BAD_ENVELOPE)


async def test_a_genesis_with_a_bad_signature_is_refused(client: AsyncTestClient[Any]) -> None:
    creator, space_id = Device(), new_space_id()
    env = decode_envelope(creator.envelope(space_id))
    forged = encode_envelope(msgspec.structs.replace(env, signature=os.urandom(64)))
    body = msgspec.to_builtins(CreateSpaceRequest(space_id=space_id.hex(), genesis=forged))
    assert_error(await client.post("/v1/spaces", json=body), ErrorCode.BAD_SIGNATURE)


# --- issuing invites ---------------------------------------------------------------


async def test_an_invite_is_shown_to_whoever_has_its_id(
    client: AsyncTestClient[Any], clock: Clock
) -> None:
    space_id, _, invite_id = await issued_invite(client, clock)
    response = await client.get(f"/v1/invites/{invite_id.hex()}")
    assert response.status_code == 200, response.text
    info = response.json()
    assert (info["invite_id"], info["space_id"], info["kind"]) == (
        invite_id.hex(),
        space_id.hex(),
        "member",
    )


async def test_issuing_the_same_invite_twice_succeeds_but_another_with_its_id_does_not(
    client: AsyncTestClient[Any], clock: Clock
) -> None:
    space_id, creator = await new_space(client)
    body, invite_key, invite_id = invite(clock, creator, space_id)
    url = f"/v1/spaces/{space_id.hex()}/invites"
    assert (await client.post(url, json=body)).status_code == 201
    assert (await client.post(url, json=body)).status_code == 201
    other = invite_body(
        creator,
        space_id,
        invite_key,
        invite_id=invite_id,
        kind="device",
        signed_at=clock.now_ms,
        expires_at=clock.now_ms + HOUR_MS,
    )
    assert_error(await client.post(url, json=other), ErrorCode.INVITE_EXISTS)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"signed_at_delta": -11 * 60 * 1000}, ErrorCode.AUTH_FAILED),
        ({"signed_at_delta": 11 * 60 * 1000}, ErrorCode.AUTH_FAILED),
        ({"expires_at_delta": -1}, ErrorCode.BAD_REQUEST),
        ({"expires_at_delta": 8 * 24 * HOUR_MS}, ErrorCode.BAD_REQUEST),
        ({"sign_with_other_key": True}, ErrorCode.AUTH_FAILED),
    ],
    ids=["signed-long-ago", "signed-in-the-future", "expired", "too-long", "forged"],
)
async def test_a_bad_invite_request_is_refused(
    client: AsyncTestClient[Any], clock: Clock, change: dict[str, Any], code: ErrorCode
) -> None:
    space_id, creator = await new_space(client)
    kwargs: dict[str, Any] = {}
    if "signed_at_delta" in change:
        kwargs["signed_at"] = clock.now_ms + change["signed_at_delta"]
    if "expires_at_delta" in change:
        kwargs["expires_at"] = clock.now_ms + change["expires_at_delta"]
    if change.get("sign_with_other_key"):
        kwargs["sign_with"] = Device()
    body, _, _ = invite(clock, creator, space_id, **kwargs)
    response = await client.post(f"/v1/spaces/{space_id.hex()}/invites", json=body)
    assert_error(response, code)


async def test_only_a_device_of_the_space_can_issue_invites(
    client: AsyncTestClient[Any], clock: Clock
) -> None:
    space_id, _ = await new_space(client)
    stranger = Device()
    body, _, _ = invite(clock, stranger, space_id)
    response = await client.post(f"/v1/spaces/{space_id.hex()}/invites", json=body)
    assert_error(response, ErrorCode.UNKNOWN_DEVICE)
    unknown = new_space_id()
    body, _, _ = invite(clock, stranger, unknown)
    response = await client.post(f"/v1/spaces/{unknown.hex()}/invites", json=body)
    assert_error(response, ErrorCode.UNKNOWN_SPACE)


@pytest.mark.parametrize("path", ["/v1/spaces/xyz/invites", "/v1/spaces/ABCD/invites"])
async def test_a_malformed_space_id_in_the_path_is_bad_request(
    client: AsyncTestClient[Any], clock: Clock, path: str
) -> None:
    body, _, _ = invite(clock, Device(), new_space_id())
    assert_error(await client.post(path, json=body), ErrorCode.BAD_REQUEST)


# --- showing and redeeming ---------------------------------------------------------


async def test_a_malformed_invite_id_is_bad_request_and_an_unknown_one_not_found(
    client: AsyncTestClient[Any],
) -> None:
    assert_error(await client.get("/v1/invites/not-hex"), ErrorCode.BAD_REQUEST)
    assert_error(await client.get(f"/v1/invites/{'00' * 16}"), ErrorCode.INVITE_NOT_FOUND)
    body = redeem_body(nacl.signing.SigningKey.generate(), new_space_id(), bytes(16), Device())
    response = await client.post(f"/v1/invites/{'00' * 16}/redeem", json=body)
    assert_error(response, ErrorCode.INVITE_NOT_FOUND)


async def test_redeeming_admits_the_device_and_a_retry_by_it_succeeds_again(
    client: AsyncTestClient[Any], clock: Clock
) -> None:
    space_id, invite_key, invite_id = await issued_invite(client, clock)
    newcomer = Device()
    body = redeem_body(invite_key, space_id, invite_id, newcomer)
    for _ in range(2):
        response = await client.post(f"/v1/invites/{invite_id.hex()}/redeem", json=body)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "space_id": space_id.hex(),
            "device_id": newcomer.device_id.hex(),
        }
    # The new device can now issue invites itself: it is an active member.
    body, _, _ = invite(clock, newcomer, space_id)
    response = await client.post(f"/v1/spaces/{space_id.hex()}/invites", json=body)
    assert response.status_code == 201, response.text


async def test_a_used_invite_cannot_admit_another_device(
    client: AsyncTestClient[Any], clock: Clock
) -> None:
    space_id, invite_key, invite_id = await issued_invite(client, clock)
    url = f"/v1/invites/{invite_id.hex()}/redeem"
    first = await client.post(url, json=redeem_body(invite_key, space_id, invite_id, Device()))
    assert first.status_code == 200
    second = await client.post(url, json=redeem_body(invite_key, space_id, invite_id, Device()))
    assert_error(second, ErrorCode.INVITE_USED)
    assert_error(await client.get(f"/v1/invites/{invite_id.hex()}"), ErrorCode.INVITE_USED)


async def test_an_expired_invite_is_refused(client: AsyncTestClient[Any], clock: Clock) -> None:
    space_id, invite_key, invite_id = await issued_invite(client, clock)
    clock.now_ms += HOUR_MS
    assert_error(await client.get(f"/v1/invites/{invite_id.hex()}"), ErrorCode.INVITE_EXPIRED)
    body = redeem_body(invite_key, space_id, invite_id, Device())
    response = await client.post(f"/v1/invites/{invite_id.hex()}/redeem", json=body)
    assert_error(response, ErrorCode.INVITE_EXPIRED)


async def test_a_proof_without_the_invite_secret_is_refused(
    client: AsyncTestClient[Any], clock: Clock
) -> None:
    space_id, _, invite_id = await issued_invite(client, clock)
    wrong_key = nacl.signing.SigningKey.generate()
    body = redeem_body(wrong_key, space_id, invite_id, Device())
    response = await client.post(f"/v1/invites/{invite_id.hex()}/redeem", json=body)
    assert_error(response, ErrorCode.BAD_INVITE_PROOF)
    # The invite is untouched: its rightful holder can still use it.
    assert (await client.get(f"/v1/invites/{invite_id.hex()}")).status_code == 200


async def test_a_proof_for_another_device_is_refused(
    client: AsyncTestClient[Any], clock: Clock
) -> None:
    space_id, invite_key, invite_id = await issued_invite(client, clock)
    body = redeem_body(invite_key, space_id, invite_id, Device())
    body["device_id"] = Device().device_id.hex()
    response = await client.post(f"/v1/invites/{invite_id.hex()}/redeem", json=body)
    assert_error(response, ErrorCode.BAD_INVITE_PROOF)
