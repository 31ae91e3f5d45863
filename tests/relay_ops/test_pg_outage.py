"""PostgreSQL restarted under a serving relay (docs/OPERATIONS.md §15.2): while it is
down the relay answers ``not_ready`` on /readyz and refuses pushes with a typed error,
acknowledging nothing; when it is back the relay recovers by itself, with nothing
acknowledged lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from schemas.protocol import Error
from tests.integration.relay_process import RelayProcess
from tests.pg_server import PgServer
from tests.relay_ops.spaces import new_space

RECOVERY_POLLS = 150


async def readyz(relay: RelayProcess) -> httpx.Response:
    async with httpx.AsyncClient(base_url=relay.http_url, timeout=10) as http:
        return await http.get("/readyz")


@pytest.mark.slow
async def test_a_postgresql_restart_is_not_ready_then_recovers_alone(
    tmp_path: Path, pg_server: PgServer, pg_url: str
) -> None:
    relay = RelayProcess(tmp_path / "relay.db", database_url=pg_url).start()
    try:
        space = await new_space(relay)
        client = await space.connect()
        await space.push_ok(client, 1, [space.creator.envelope(space.space_id)])
        assert (await readyz(relay)).status_code == 200

        await asyncio.to_thread(pg_server.pause)
        try:
            await asyncio.sleep(1.1)  # past the readiness cache
            response = await readyz(relay)
            assert response.status_code == 503
            assert response.json()["code"] == "not_ready"
            pending = space.creator.envelope(space.space_id)
            try:
                reply = await client.push(2, [pending])
            except ConnectionClosed:
                reply = None  # the relay may end the connection after the error frame
            if reply is not None:
                assert isinstance(reply, Error), reply
                assert reply.code == "internal_error"
        finally:
            await asyncio.to_thread(pg_server.resume)
        await client.close()

        for _ in range(RECOVERY_POLLS):  # bounded: recovery needs no help from us
            if (await readyz(relay)).status_code == 200:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the relay did not recover after PostgreSQL came back")
        # The refused push was never acknowledged: the app sends it again, now stored.
        again = await space.connect()
        try:
            await space.push_ok(again, 1, [pending])
        finally:
            await again.close()
        await space.assert_still_served_and_nothing_lost()
    finally:
        relay.stop()
