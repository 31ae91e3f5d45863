"""The local app attacked by a tired person (THREAT_MODEL §29.1, §29.2).

**Quick exit when something is off.**
Quick exit is for the moment someone walks in. With script, the page leaves for the
neutral page whatever the server says; without script (or when the script has not
loaded yet), the browser shows whatever ``POST /exit`` answers. The gate refused such a
post like any other when the session or anti-forgery token did not match, and answered
with a page naming Trellis ("To open Trellis, use the address that trellis app
printed...", or "That was not sent from this app's own page"):

* a panicked double press: the second post, sent before the first answer, carries the
  old cookie (the first exit replaced the session);
* the same post answered after the first: the new cookie, the old anti-forgery token;
* a page left open while the app was restarted.

A quick exit that fails its checks now still answers with the neutral page (and asks
the browser to drop its cache) but locks and changes nothing: the checks still decide
whether anything happens, only the words on screen change.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from client.app.security import Access
from client.app.server import create_app
from client.app.state import AppState
from client.keys.vault import CHEAP_COST
from client.space import Space, private_notes
from tests.app.inprocess import ORIGIN, PORT, app_client, post, sign_in, unlock
from tests.integration.relay_process import RelayProcess

PASSPHRASE = "a long and private passphrase"


async def make_home(tmp_path: Path, relay: RelayProcess) -> Path:
    home = tmp_path / "alex"
    space = await Space.create(
        home, relay_url=relay.url, name="Alex", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    )
    await space.close()
    return home


def assert_neutral(answer: httpx.Response) -> None:
    assert answer.status_code == 303
    assert answer.headers["location"] == "/bye"
    assert answer.headers["clear-site-data"] == '"cache"'
    assert "Trellis" not in answer.text


def once_of(html: str) -> str:
    form = html.split('id="quick-exit"', 1)[1]
    found = re.search(r'name="once" value="([^"]+)"', form)
    assert found, "the quick exit form carries a once value"
    return found.group(1)


async def test_a_double_pressed_quick_exit_ends_on_the_neutral_page_both_times(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        csrf = await unlock(client, PASSPHRASE)
        once = once_of((await client.get("/today")).text)
        old_cookies = dict(client.cookies)
        form = {"csrf": csrf, "once": once}

        first = await post(client, "/exit", form)
        after_first = await post(client, "/exit", form)  # new cookie, old token
        client.cookies.clear()
        client.cookies.update(old_cookies)
        sent_before_the_answer = await post(client, "/exit", form)  # old cookie

        assert_neutral(first)
        assert_neutral(after_first)
        assert_neutral(sent_before_the_answer)
        assert state.space is None


async def test_a_quick_exit_from_a_page_left_open_across_a_restart_is_neutral(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        csrf = await unlock(client, PASSPHRASE)
    # The app was stopped and started again: the page's cookie and token are stale.
    restarted = AppState(home=home, access=Access(port=PORT))
    transport = httpx.ASGITransport(app=create_app(restarted))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as browser:
        browser.cookies.update(client.cookies)
        answer = await post(browser, "/exit", {"csrf": csrf})
        await restarted.stop()

    assert_neutral(answer)


async def test_a_forged_quick_exit_from_another_site_changes_nothing(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        csrf = await unlock(client, PASSPHRASE)
        session = state.access.session

        forged = await post(client, "/exit", {"csrf": "guess"}, origin="http://evil.example")
        no_token = await post(client, "/exit", {})

        assert_neutral(forged)
        assert_neutral(no_token)
        assert state.space is not None, "a forged quick exit does not lock the app"
        assert state.access.session == session
        assert (await post(client, "/lock", {"csrf": csrf})).status_code == 303


# --- the first private check-in (THREAT_MODEL §29.2) ---------------------------------


async def test_a_mistyped_passphrase_never_locks_the_first_private_check_in_away(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """The app asks for the passphrase again to keep an intimacy check-in private. The
    first time, it *created* the private space with whatever was typed: one typo, and
    every private note after it asked for a passphrase the person never chose."""
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        csrf = await unlock(client, PASSPHRASE)
        form = {"csrf": csrf, "comfort": "1", "note": "not tonight"}

        typo = await post(client, "/intimacy/checkins", {**form, "passphrase": PASSPHRASE + "x"})
        after_typo = (await client.get("/intimacy")).text
        created = private_notes.has_private_space(home)
        right = await post(client, "/intimacy/checkins", {**form, "passphrase": PASSPHRASE})
        after_right = (await client.get("/intimacy")).text

    assert typo.status_code == right.status_code == 303
    assert not created, "nothing is created with a passphrase that does not open this device"
    assert "That passphrase is not right" in after_typo
    assert "Kept private" not in after_typo
    assert "Kept private" in after_right
    async with await Space.open(private_notes.private_home(home), passphrase=PASSPHRASE) as mine:
        assert mine.device_id  # the private space opens with the device's own passphrase
