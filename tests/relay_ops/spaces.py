"""A space on a relay process, made over HTTP, for the operational tests."""

from __future__ import annotations

import httpx

from tests.integration.relay_process import RelayProcess
from tests.server.conftest import SpaceUnderTest
from tests.server.helpers import Device, admit, create_space_body, new_space_id


async def new_space(relay: RelayProcess, *members: Device) -> SpaceUnderTest:
    """A space created by a new device, with ``members`` admitted as its other devices."""
    creator, space_id = Device(), new_space_id()
    async with httpx.AsyncClient(base_url=relay.http_url, timeout=10) as http:
        response = await http.post("/v1/spaces", json=create_space_body(creator, space_id))
        assert response.status_code == 201, response.text
        for index, member in enumerate(members):
            await admit(http, creator, space_id, member, "member" if index == 0 else "device")
    space = SpaceUnderTest(relay, space_id, creator)
    assert creator.head is not None
    space.acked[creator.head] = 1
    return space


def metric(text: str, name: str) -> float:
    """The value of one unlabelled (or fully labelled) sample in /metrics text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0
