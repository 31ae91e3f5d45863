"""The app attacked from outside, over HTTP with a real relay: a hostile partner's
text in my browser, a signal given while the relay is down. Each test here failed on
the code before its fix, or pins a rule an attack did not get past."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from client.app.views_cache import current_views
from client.keys.unlock import FREE_PASSPHRASE_ATTEMPTS
from client.views.recovery import active_signals
from schemas.payloads import JournalEntry
from schemas.practices import GratitudeNoted, SignalSent
from tests.app.inprocess import ORIGIN, app_client, csrf_of, post, sign_in, unlock
from tests.app.screens_helpers import flash
from tests.integration.pairing import PASSPHRASE, pair
from tests.integration.relay_process import RelayProcess

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = "\" autofocus onfocus=\"alert(2)' x='"
RTL_OVERRIDE = "\u202e"
"""RIGHT-TO-LEFT OVERRIDE: shown raw, it reverses what follows it on the line, so a
partner's name or note could make the app's own words around it read otherwise."""
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
HOSTILE = f"Fine {SCRIPT} {ATTRIBUTE} {RTL_OVERRIDE}dedivorp ton\u0007\u001b[2J"


async def test_a_hostile_partners_text_is_inert_on_every_page(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """Blake's client (not the app: anything that signs events) writes markup, an
    attribute break-out, a right-to-left override and control characters into a
    journal entry, its tags, a gratitude note and a signal's note. On Alex's pages
    (the live fragments app.js fetches are the same pages) none of it is markup, and
    no bidirectional control reaches the page to turn the app's words around."""
    alex, blake = await pair(tmp_path, relay.url)
    await blake.append(JournalEntry(text=HOSTILE, tags=["x" + RTL_OVERRIDE + "y"]))
    await blake.append(GratitudeNoted(text=HOSTILE))
    await blake.append(SignalSent(level="slow", note=HOSTILE))
    await blake.sync()
    await alex.sync()
    await alex.close()
    await blake.close()
    async with app_client(tmp_path / "alex") as (state, client):
        await sign_in(state, client)
        await unlock(client, PASSPHRASE)
        for path in ("/today", "/journal", "/gratitude", "/signals", "/timeline", "/verify"):
            answer = await client.get(path, headers={"X-Trellis-Live": "1"})
            assert answer.status_code == 200, path
            html = answer.text
            if path in ("/journal", "/gratitude", "/signals"):
                assert "dedivorp ton" in html, path  # the text is shown, as text
            assert SCRIPT not in html, path
            assert 'onfocus="alert' not in html, path
            assert not any(c in html for c in BIDI_CONTROLS), path
            assert "\u0007" not in html, path
            assert "\u001b" not in html, path


async def test_a_signal_given_while_the_relay_is_down_says_it_was_not_delivered(
    tmp_path: Path,
) -> None:
    """A lying or absent relay must never make the app say a safety signal reached the
    partner: with the relay stopped, the page says it is saved here, not delivered,
    and that the partner may need telling another way."""
    relay = RelayProcess(tmp_path / "own-relay.db").start()
    try:
        alex, blake = await pair(tmp_path, relay.url)
        await alex.close()
        await blake.close()
        async with app_client(tmp_path / "alex") as (state, client):
            await sign_in(state, client)
            csrf = await unlock(client, PASSPHRASE)
            relay.stop()
            answer = await post(client, "/signals", {"csrf": csrf, "level": "stop"})
            assert answer.headers["location"] == "/signals"
            said = flash(unescape((await client.get("/signals")).text))
            assert "Stop given." in said
            assert "not delivered" in said
            assert "tell them another way" in said
            assert "Delivered" not in said
            assert "was sent" not in said.lower()
    finally:
        relay.stop()


async def test_a_double_submitted_form_writes_once(tmp_path: Path, relay: RelayProcess) -> None:
    """A tired double click (or a form sent again) posts the same form twice: the
    second is taken as the same form (its ``once`` value) and writes nothing, and the
    browser is sent back to the page it came from. A fresh form writes again."""
    alex, blake = await pair(tmp_path, relay.url)
    await alex.close()
    await blake.close()
    async with app_client(tmp_path / "alex") as (state, client):
        await sign_in(state, client)
        csrf = await unlock(client, PASSPHRASE)
        page = (await client.get("/signals")).text
        once = re.search(r'name="once" value="([^"]+)"', page)
        assert once, "every form carries a once value"
        form = {"csrf": csrf, "once": once.group(1), "level": "slow"}
        first = await post(client, "/signals", form)
        second = await client.post(
            "/signals", data=form, headers={"Origin": ORIGIN, "Referer": f"{ORIGIN}/signals"}
        )
        assert first.status_code == second.status_code == 303
        assert second.headers["location"] == "/signals"
        assert len(active_signals(current_views(state.require()).signals)) == 1
        fresh = re.search(r'name="once" value="([^"]+)"', (await client.get("/signals")).text)
        assert fresh
        assert fresh.group(1) != once.group(1)
        await post(client, "/signals", {**form, "once": fresh.group(1)})
        assert len(active_signals(current_views(state.require()).signals)) == 2


async def test_wrong_passphrases_at_unlock_wait_like_the_cli(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """Someone guessing at the unlock page is slowed by the vault's own back-off: after
    FREE_PASSPHRASE_ATTEMPTS wrong ones even the right one waits, and the app stays
    locked."""
    alex, blake = await pair(tmp_path, relay.url)
    await alex.close()
    await blake.close()
    async with app_client(tmp_path / "alex") as (state, client):
        await sign_in(state, client)
        csrf = csrf_of((await client.get("/unlock")).text)
        for _ in range(FREE_PASSPHRASE_ATTEMPTS):
            await post(client, "/unlock", {"csrf": csrf, "passphrase": "a guess"})
        await post(client, "/unlock", {"csrf": csrf, "passphrase": PASSPHRASE})
        assert state.space is None
        assert "Too many wrong passphrases" in (await client.get("/unlock")).text


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1.evil.example:48123",
        "[::1]:48123",
        "127.0.0.1:48123.",
        "127.1:48123",
        "2130706433:48123",
    ],
)
async def test_rebinding_host_forms_are_refused(tmp_path: Path, host: str) -> None:
    """Other spellings of the loopback address (and a suffix a rebinding domain could
    use) are not this app's Host: refused before the one-time token is looked at."""
    async with app_client(tmp_path / "home") as (state, client):
        token = state.access.start_url().split("token=", 1)[1]
        answer = await client.get(f"/?token={token}", headers={"Host": host})
        assert answer.status_code == 421
        assert state.access.url_token is not None  # still unused


async def test_cross_site_shapes_change_nothing(tmp_path: Path, relay: RelayProcess) -> None:
    """What a page of another origin can send without asking (a multipart or text/plain
    form, a GET) changes nothing, even with this app's Origin and token guessed right."""
    alex, blake = await pair(tmp_path, relay.url)
    await alex.close()
    await blake.close()
    async with app_client(tmp_path / "alex") as (state, client):
        await sign_in(state, client)
        csrf = await unlock(client, PASSPHRASE)
        multipart = await client.post(
            "/signals",
            files={"csrf": (None, csrf), "level": (None, "stop")},
            headers={"Origin": ORIGIN},
        )
        plain = await client.post(
            "/signals",
            content=f"csrf={csrf}&level=stop",
            headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
        )
        assert multipart.status_code == plain.status_code == 403
        for path in ("/signals?level=stop", "/exit", "/lock"):
            await client.get(path)
        assert state.space is not None
        assert active_signals(current_views(state.require()).signals) == []
