"""``/healthz``, ``/readyz`` and ``/metrics`` (issue #6, operations; docs/OPERATIONS.md §9)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from schemas.errors import ErrorCode
from schemas.protocol import Error
from server.app import create_app
from server.metrics import CONTENT_TYPE
from server.operator import OperatorApp
from server.settings import Settings
from server.sqlite_store import SqliteStore
from tests.relay_ops.conftest import RelayFactory
from tests.relay_ops.spaces import metric, new_space


class UnwritableStore(SqliteStore):
    """A store whose disk refuses writes (a full or read-only file system)."""

    async def check_writable(self, now_ms: int) -> None:
        raise OSError("database or disk is full")


@pytest.fixture
async def broken_disk(
    tmp_path: Path,
) -> AsyncIterator[tuple[AsyncTestClient[Any], httpx.AsyncClient]]:
    app = create_app(
        Settings(db=str(tmp_path / "relay.db")),
        store_factory=lambda s: UnwritableStore(s.db, s.read_connections),
    )
    operator = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=OperatorApp(app, "")), base_url="http://operator"
    )
    async with AsyncTestClient(app=app) as client, operator:
        yield client, operator


async def test_readiness_fails_while_the_database_cannot_be_written_but_liveness_holds(
    broken_disk: tuple[AsyncTestClient[Any], httpx.AsyncClient],
) -> None:
    public, operator = broken_disk
    response = await public.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == ErrorCode.NOT_READY.value
    assert (await public.get("/healthz")).json()["status"] == "ok"
    assert 'trellis_relay_errors_total{code="not_ready"} 1' in (await operator.get("/metrics")).text


async def test_metrics_count_connections_events_commits_errors_and_rejected_frames(
    start_relay: RelayFactory,
) -> None:
    relay = start_relay()
    space = await new_space(relay)
    async with (
        httpx.AsyncClient(base_url=relay.http_url) as public,
        httpx.AsyncClient(base_url=relay.operator_url) as http,
    ):
        ready = await public.get("/readyz")
        assert ready.json() == {"status": "ready", "version": ready.json()["version"]}
        client = await space.connect()
        response = await http.get("/metrics")
        assert response.headers["content-type"] == CONTENT_TYPE
        assert metric(response.text, "trellis_relay_connections") == 1
        assert metric(response.text, "trellis_relay_authenticated_devices") == 1

        envelopes = [space.creator.envelope(space.space_id) for _ in range(7)]
        await space.push_ok(client, 1, envelopes)
        refused = await client.push(2, [b"not an envelope"])
        assert isinstance(refused, Error)
        await client.send_raw(b"\xc1")  # never valid msgpack: refused, then closed
        await client.close_code()
        await public.get("/v1/invites/00")  # an HTTP refusal counts too

        text = (await http.get("/metrics")).text
    assert metric(text, "trellis_relay_events_ingested_total") == 7
    assert metric(text, "trellis_relay_bytes_ingested_total") == sum(map(len, envelopes))
    assert metric(text, "trellis_relay_commit_batch_events_count") == 1
    assert metric(text, "trellis_relay_commit_batch_events_sum") == 7
    assert metric(text, 'trellis_relay_commit_seconds_bucket{le="+Inf"}') == 1
    assert metric(text, 'trellis_relay_errors_total{code="bad_envelope"}') == 1
    assert metric(text, 'trellis_relay_errors_total{code="bad_request"}') == 1
    assert metric(text, 'trellis_relay_rejected_frames_total{code="bad_envelope"}') == 1
    assert metric(text, 'trellis_relay_rejected_frames_total{code="malformed_frame"}') == 1
    assert metric(text, "trellis_relay_connections") == 0
