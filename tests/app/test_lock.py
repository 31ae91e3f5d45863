"""Locking the app, over HTTP with a real relay: the passphrase only in a POST form,
lock and idle lock close the space (its keys leave the app), quick exit rotates the
session and shows the neutral page."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from client.keys.vault import CHEAP_COST
from client.space import Space
from tests.app.inprocess import app_client, csrf_of, post, sign_in, unlock
from tests.integration.relay_process import RelayProcess

PASSPHRASE = "a long and private passphrase"


async def make_home(tmp_path: Path, relay: RelayProcess) -> Path:
    home = tmp_path / "alex"
    space = await Space.create(
        home, relay_url=relay.url, name="Alex", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    )
    await space.close()
    return home


async def test_a_locked_app_shows_only_the_unlock_page(tmp_path: Path, relay: RelayProcess) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        for path in ("/", "/today", "/journal", "/signals", "/pairing", "/settings", "/welcome"):
            answer = await client.get(path, follow_redirects=True)
            assert answer.url.path == "/unlock", path
        assert state.space is None


async def test_the_passphrase_in_the_address_does_not_unlock(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        await client.get(f"/unlock?passphrase={PASSPHRASE}")
        await client.get(f"/today?passphrase={PASSPHRASE}")
        assert state.space is None


async def test_unlock_then_lock_closes_the_space(tmp_path: Path, relay: RelayProcess) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        csrf = csrf_of((await client.get("/unlock")).text)
        wrong = await post(client, "/unlock", {"csrf": csrf, "passphrase": "not it at all"})
        assert wrong.headers["location"] == "/unlock"
        assert state.space is None
        page = await client.get("/unlock")
        assert "passphrase" in page.text.lower()
        assert "not it at all" not in page.text

        answer = await post(client, "/unlock", {"csrf": csrf, "passphrase": PASSPHRASE})
        assert answer.headers["location"] == "/today"
        space = state.space
        assert space is not None
        assert (await client.get("/today")).status_code == 200

        await post(client, "/lock", {"csrf": csrf})
        assert state.space is None
        with pytest.raises(ValueError, match="no active connection"):
            await space.outbox_size()  # closed: the app holds no open space any more
        follow = await client.get("/journal", follow_redirects=True)
        assert follow.url.path == "/unlock"


async def test_the_app_locks_itself_when_idle(tmp_path: Path, relay: RelayProcess) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        await unlock(client, PASSPHRASE)
        assert state.space is not None
        state.idle_lock_s = 0.3
        state.start()
        # Live refreshes by the page's script are not someone using the app.
        for _ in range(4):
            await client.get("/today", headers={"X-Trellis-Live": "1"})
            await asyncio.sleep(0.1)
        for _ in range(200):  # up to 10 s on a loaded machine; 0.3 s on a quiet one
            if state.space is None:
                break
            await asyncio.sleep(0.05)
        assert state.space is None
        assert (await client.get("/today", follow_redirects=True)).url.path == "/unlock"


async def test_quick_exit_locks_and_replaces_the_session(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        old_cookie = dict(client.cookies)
        csrf = await unlock(client, PASSPHRASE)
        answer = await post(client, "/exit", {"csrf": csrf})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/bye"
        assert answer.headers["clear-site-data"] == '"cache"'
        assert state.space is None
        # The old session and its anti-forgery token are gone; the new cookie opens
        # only the unlock page.
        assert dict(client.cookies) != old_cookie
        assert (await post(client, "/lock", {"csrf": csrf})).status_code == 403
        assert (await client.get("/today", follow_redirects=True)).url.path == "/unlock"


async def test_not_safe_opens_while_locked_and_writes_nothing(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    (home / "not-safe-resources.json").write_text('["Helpline: 0800 000 000"]', "utf-8")
    before = {p.name: p.stat().st_mtime_ns for p in home.iterdir()}
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        page = await client.get("/not-safe")
        assert page.status_code == 200
        assert "If you are in danger right now" in page.text
        assert "Helpline: 0800 000 000" in page.text
        assert 'href="/not-safe"' in (await client.get("/unlock")).text
        assert state.space is None
    assert {p.name: p.stat().st_mtime_ns for p in home.iterdir()} == before
