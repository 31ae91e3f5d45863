"""The local app's gate, over plain HTTP (docs/THREAT_MODEL.md "The local app"):
Host check, one-time token to session cookie, Origin and anti-forgery token on every
change, strict headers on every answer."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from client.app.security import CSP, MAX_FORM_BYTES
from client.store.localstore import DB_FILE_NAME
from tests.app.inprocess import ORIGIN, PORT, app_client, csrf_of, post, sign_in

START_FORM = {
    "name": "Alex",
    "relay": "http://127.0.0.1:1",
    "passphrase": "a long passphrase",
    "passphrase2": "a long passphrase",
}


def assert_strict_headers(answer: httpx.Response) -> None:
    assert answer.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP
    assert "http" not in CSP
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize(
    "host", ["evil.example:48123", "localhost:48123", "127.0.0.1", "127.0.0.1:1", ""]
)
async def test_a_request_for_another_host_name_is_refused(tmp_path: Path, host: str) -> None:
    """DNS rebinding: a page on a domain that now resolves to 127.0.0.1 sends its own
    name as Host; whatever it asks, it gets nothing of the app."""
    async with app_client(tmp_path) as (state, client):
        token = state.access.start_url().split("token=", 1)[1]
        answer = await client.get(f"/?token={token}", headers={"Host": host})
        assert answer.status_code == 421
        assert "set-cookie" not in answer.headers
        assert state.access.url_token == token, "the token was not spent"
        assert_strict_headers(answer)


async def test_without_the_token_nothing_is_served(tmp_path: Path) -> None:
    async with app_client(tmp_path) as (_, client):
        for path in ("/", "/welcome", "/today", "/journal", "/events", "/?token=guess"):
            answer = await client.get(path)
            assert answer.status_code == 403, path
            assert "trellis app" in answer.text
            assert 'name="csrf"' not in answer.text
            assert_strict_headers(answer)


async def test_the_token_becomes_a_strict_cookie_and_leaves_the_address(tmp_path: Path) -> None:
    async with app_client(tmp_path) as (state, client):
        token = state.access.start_url().split("token=", 1)[1]
        answer = await client.get(f"/journal?token={token}&show=all")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/journal?show=all"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"trellis_{PORT}=")
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert token not in cookie
        assert (await client.get("/welcome")).status_code == 200


async def test_the_token_works_once(tmp_path: Path) -> None:
    async with app_client(tmp_path) as (state, client):
        token = state.access.start_url().split("token=", 1)[1]
        assert (await client.get(f"/?token={token}")).status_code == 303
        other = httpx.AsyncClient(transport=client._transport, base_url=ORIGIN)
        async with other:
            assert (await other.get(f"/?token={token}")).status_code == 403


async def test_a_form_without_the_anti_forgery_token_changes_nothing(tmp_path: Path) -> None:
    async with app_client(tmp_path) as (state, client):
        await sign_in(state, client)
        for form in (START_FORM, {**START_FORM, "csrf": "guess"}, {**START_FORM, "csrf": ""}):
            answer = await post(client, "/welcome/start", form)
            assert answer.status_code == 403
            assert "nothing was changed" in answer.text
        assert not (tmp_path / DB_FILE_NAME).exists()


@pytest.mark.parametrize("origin", [None, "null", "http://evil.example", "http://127.0.0.1:1"])
async def test_a_form_from_another_origin_changes_nothing(
    tmp_path: Path, origin: str | None
) -> None:
    async with app_client(tmp_path) as (state, client):
        await sign_in(state, client)
        csrf = csrf_of((await client.get("/welcome")).text)
        answer = await post(client, "/welcome/start", {**START_FORM, "csrf": csrf}, origin=origin)
        assert answer.status_code == 403
        assert not (tmp_path / DB_FILE_NAME).exists()


async def test_only_form_bodies_are_taken(tmp_path: Path) -> None:
    """JSON (or anything but a form) is refused: no page of another origin can make
    a browser send it here without asking, and the app never answers such asks."""
    async with app_client(tmp_path) as (state, client):
        await sign_in(state, client)
        csrf = csrf_of((await client.get("/welcome")).text)
        answer = await client.post(
            "/welcome/start", json={**START_FORM, "csrf": csrf}, headers={"Origin": ORIGIN}
        )
        assert answer.status_code == 403
        big = await post(client, "/welcome/start", {"csrf": csrf, "name": "x" * MAX_FORM_BYTES})
        assert big.status_code == 413


async def test_every_answer_is_strict_and_never_cached(tmp_path: Path) -> None:
    async with app_client(tmp_path) as (state, client):
        await sign_in(state, client)
        for path in ("/welcome", "/static/app.js", "/static/app.css", "/bye"):
            answer = await client.get(path)
            assert answer.status_code == 200, path
            assert_strict_headers(answer)
        page = (await client.get("/welcome")).text
        assert "<script>" not in page
        assert "style=" not in page
        assert "<style" not in page
        assert "http://" not in page.replace("http://127.0.0.1:8765", "")


async def test_the_neutral_page_says_nothing_of_trellis(tmp_path: Path) -> None:
    async with app_client(tmp_path) as (_, client):
        answer = await client.get("/bye")  # served without a session, like the static files
        assert answer.status_code == 200
        assert "trellis" not in answer.text.lower()
        assert "<script" not in answer.text


async def test_an_unknown_page_answers_calmly(tmp_path: Path) -> None:
    async with app_client(tmp_path) as (state, client):
        await sign_in(state, client)
        answer = await client.get("/nowhere")
        assert answer.status_code == 404
        assert "There is no such page here." in answer.text
        assert_strict_headers(answer)
        wrong_method = await client.put("/today", headers={"Origin": ORIGIN})
        assert wrong_method.status_code == 403  # not a form: refused before routing


async def test_first_start_mistakes_are_said_plainly_and_set_nothing_up(tmp_path: Path) -> None:
    async with app_client(tmp_path) as (state, client):
        await sign_in(state, client)
        csrf = csrf_of((await client.get("/welcome")).text)
        typo = {**START_FORM, "csrf": csrf, "passphrase2": "a long passphrasf"}
        assert (await post(client, "/welcome/start", typo)).headers["location"] == "/welcome"
        assert "did not match" in (await client.get("/welcome")).text
        unreachable = {**START_FORM, "csrf": csrf}
        await post(client, "/welcome/start", unreachable)
        page = (await client.get("/welcome")).text
        assert 'class="flash problem"' in page
        assert "relay" in page.lower()
        assert "a long passphrase" not in page
        assert not (tmp_path / DB_FILE_NAME).exists()
        bad_code = {**START_FORM, "csrf": csrf, "code": "not a code"}
        await post(client, "/welcome/join", bad_code)
        assert "That is not an invite code." in (await client.get("/welcome")).text
        assert state.space is None
