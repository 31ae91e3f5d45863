"""Who may create a space, and how much a relay stores (issue #18; server/quotas.py).

A relay on loopback with each setting, the real client where a partner would meet the
refusal (``Space.create``), raw HTTP where the status and Retry-After matter.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from client.errors import RelayRefused
from client.keys.vault import CHEAP_COST
from client.space import Space
from client.store.relay_http import CREATION_TOKEN_ENV
from schemas.errors import ERRORS, ErrorCode
from schemas.protocol import Acked, Error
from tests.integration.pairing import PASSPHRASE
from tests.relay_ops.conftest import RelayFactory
from tests.relay_ops.spaces import new_space
from tests.server.conftest import SpaceUnderTest
from tests.server.helpers import Device, create_space_body, new_space_id

TOKEN = "practice-token-4f1c2a9b7e"


async def create(relay_url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=relay_url, timeout=10) as http:
        body = create_space_body(Device(), new_space_id())
        return await http.post("/v1/spaces", json=body, headers=headers or {})


async def test_a_relay_with_a_creation_token_creates_spaces_only_for_those_who_have_it(
    start_relay: RelayFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = start_relay("--space-creation-token", TOKEN)

    async def try_create(name: str) -> Space:
        return await Space.create(
            tmp_path / name,
            relay_url=relay.url,
            name="Alex",
            passphrase=PASSPHRASE,
            kdf_cost=CHEAP_COST,
        )

    monkeypatch.delenv(CREATION_TOKEN_ENV, raising=False)
    with pytest.raises(RelayRefused) as refused:
        await try_create("without")
    assert refused.value.code == ErrorCode.CREATION_TOKEN_REQUIRED.value
    assert "creation token from its operator" in refused.value.message
    monkeypatch.setenv(CREATION_TOKEN_ENV, TOKEN[:-1] + "X")
    with pytest.raises(RelayRefused) as refused:
        await try_create("wrong")
    assert refused.value.code == ErrorCode.CREATION_TOKEN_REQUIRED.value
    monkeypatch.setenv(CREATION_TOKEN_ENV, TOKEN)
    async with await try_create("right") as alex:
        assert (await alex.sync()).rejected == 0

    response = await create(relay.url, {"Authorization": "Basic " + TOKEN})
    assert response.status_code == ERRORS[ErrorCode.CREATION_TOKEN_REQUIRED].http_status == 401
    assert TOKEN not in response.text
    assert TOKEN not in relay.log(), "the token never reaches the log"
    # Once a space exists its partners need no token: invites and sync are theirs.
    device, space_id = Device(), new_space_id()
    async with httpx.AsyncClient(base_url=relay.url, timeout=10) as http:
        response = await http.post(
            "/v1/spaces",
            json=create_space_body(device, space_id),
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert response.status_code == 201, response.text
    space = SpaceUnderTest(relay, space_id, device)
    client = await space.connect()
    assert isinstance(await client.push(1, [device.envelope(space_id)]), Acked)
    await client.close()


async def test_an_address_creates_at_most_max_spaces_per_address(
    start_relay: RelayFactory,
) -> None:
    relay = start_relay("--max-spaces-per-address", "2")
    here = {"X-Forwarded-For": "203.0.113.7"}
    assert (await create(relay.url, here)).status_code == 201
    assert (await create(relay.url, here)).status_code == 201
    refused = await create(relay.url, here)
    assert refused.status_code == 429
    assert refused.json()["code"] == ErrorCode.TOO_MANY_SPACES.value
    assert int(refused.headers["retry-after"]) > 0
    # Another address is not held back by this one; an IPv6 /64 counts as one.
    assert (await create(relay.url, {"X-Forwarded-For": "198.51.100.1"})).status_code == 201
    assert (await create(relay.url, {"X-Forwarded-For": "2001:db8::1"})).status_code == 201
    assert (await create(relay.url, {"X-Forwarded-For": "2001:db8::2"})).status_code == 201
    assert (await create(relay.url, {"X-Forwarded-For": "2001:db8::3"})).status_code == 429
    assert "203.0.113.7" not in relay.log()


async def test_a_relay_holds_at_most_max_spaces(start_relay: RelayFactory) -> None:
    relay = start_relay("--max-spaces", "2")
    assert (await create(relay.url)).status_code == 201
    assert (await create(relay.url)).status_code == 201
    full = await create(relay.url)
    assert full.status_code == 507
    assert full.json()["code"] == ErrorCode.RELAY_FULL.value
    # A genesis that would pass max_total_bytes is refused the same way.
    tiny = start_relay("--max-total-bytes", "100", name="tiny")
    assert (await create(tiny.url)).json()["code"] == ErrorCode.RELAY_FULL.value


async def test_a_relay_stores_at_most_max_total_bytes_across_its_spaces(
    start_relay: RelayFactory,
) -> None:
    cap = 200_000
    relay = start_relay("--max-total-bytes", str(cap))
    one, two = await new_space(relay), await new_space(relay)
    client = await one.connect()
    stored = 0
    for req in range(1, 20):
        envelope = one.creator.envelope(one.space_id, ciphertext=os.urandom(30_000))
        reply = await client.push(req, [envelope])
        if isinstance(reply, Error):
            assert reply.code == ErrorCode.RELAY_FULL.value
            break
        assert isinstance(reply, Acked), reply
        stored += len(envelope)
    else:
        raise AssertionError("the relay's total never applied")
    assert cap - 40_000 < stored <= cap
    # The whole relay is full, not just this space: the other one is refused too,
    # while reading goes on.
    other = await two.connect()
    reply = await other.push(1, [two.creator.envelope(two.space_id, ciphertext=os.urandom(30_000))])
    assert isinstance(reply, Error)
    assert reply.code == ErrorCode.RELAY_FULL.value
    assert len(await one.pull_all(client)) >= 2
    for c in (client, other):
        await c.close()
