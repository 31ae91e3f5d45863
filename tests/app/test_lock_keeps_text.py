"""The idle lock and what a partner is writing, over HTTP with a real relay: typing's
keep-alive counts as activity; a form sent while locked is refused with the unlock
page that keeps it (never a passphrase field), and unlocking from there offers it
again, sent once; a quick exit tells every open page to leave (docs/THREAT_MODEL.md
§27)."""

from __future__ import annotations

import asyncio
import re
from html import unescape
from pathlib import Path

from client.app.security import Access
from client.app.state import ALIVE_EVERY_MAX_S, AppState
from tests.app.inprocess import app_client, csrf_of, post, sign_in, unlock
from tests.app.screens_helpers import arrives
from tests.app.test_lock import PASSPHRASE, make_home
from tests.integration.relay_process import RelayProcess

ENTRY = 'A long entry, written slowly.\nIts second line <b>and</b> "quotes".'


def _hidden(html: str) -> list[tuple[str, str]]:
    return [
        (unescape(n), unescape(v))
        for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', html)
    ]


def _journal_texts(state: AppState) -> list[str]:
    return [e.text for e in state.require().journal()]


async def test_typing_keeps_the_app_open_and_learns_when_it_locked(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        csrf = await unlock(client, PASSPHRASE)
        state.idle_lock_s = 0.6
        state.start()
        # Someone typing for well past the idle time: the page's keep-alives hold it open.
        for _ in range(12):
            answer = await post(client, "/alive", {"csrf": csrf})
            assert answer.status_code == 204
            await asyncio.sleep(0.15)
        assert state.space is not None
        for _ in range(60):  # then a real absence
            if state.space is None:
                break
            await asyncio.sleep(0.05)
        assert state.space is None
        assert (await post(client, "/alive", {"csrf": csrf})).status_code == 423
        # A keep-alive without the page's token is refused like any other post.
        assert (await post(client, "/alive", {})).status_code == 403


def test_the_keep_alive_is_at_most_every_30_seconds() -> None:
    state = AppState(home=Path("unused"), access=Access(port=1))
    assert state.alive_every_s == ALIVE_EVERY_MAX_S == 30.0
    state.idle_lock_s = 60
    assert state.alive_every_s == 15.0


async def test_a_form_sent_while_locked_is_kept_and_sent_once_after_unlock(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        csrf = await unlock(client, PASSPHRASE)
        await post(client, "/lock", {"csrf": csrf})
        assert state.space is None

        fields = {"csrf": csrf, "once": "form-1", "text": ENTRY, "mood": "3", "new": "secret"}
        refused = await post(client, "/journal", fields)
        assert refused.status_code == 423
        assert "Trellis locked while you were away" in refused.text
        kept = _hidden(refused.text)
        assert ("carry.text", ENTRY) in kept
        assert ("carry.mood", "3") in kept
        assert ("resend_to", "/journal") in kept
        # Never a passphrase field, never the tokens of the old form.
        names = [n for n, _ in kept]
        assert not {"carry.new", "carry.csrf", "carry.once"} & set(names)
        assert "secret" not in refused.text

        form = [(n, v) for n, v in kept if n != "once"] + [("once", "unlock-1")]
        wrong = await post(client, "/unlock", {**dict(form), "passphrase": "not it at all"})
        assert wrong.status_code == 423  # still kept, with why not
        assert ("carry.text", ENTRY) in _hidden(wrong.text)
        assert state.space is None

        form = [(n, v) for n, v in _hidden(wrong.text) if n != "once"] + [("once", "unlock-2")]
        opened = await post(client, "/unlock", {**dict(form), "passphrase": PASSPHRASE})
        assert opened.status_code == 200
        assert state.space is not None
        assert "Unlocked: send it now?" in opened.text
        assert "A long entry, written slowly." in unescape(opened.text)
        assert _journal_texts(state) == []  # nothing was written yet
        again = dict(_hidden(opened.text))
        assert 'action="/journal"' in opened.text
        sent = await post(client, "/journal", again)
        assert sent.status_code == 303
        assert (await post(client, "/journal", again)).status_code == 303  # a second press
        assert _journal_texts(state) == [ENTRY]  # written once


async def test_a_resend_goes_only_to_a_page_of_this_app(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        csrf = csrf_of((await client.get("/unlock")).text)
        for target in ("//evil.example/x", "http://evil.example/", "/journal?x=<b>"):
            answer = await post(
                client,
                "/unlock",
                {"csrf": csrf, "passphrase": PASSPHRASE, "resend_to": target, "carry.text": "x"},
            )
            assert answer.status_code == 303, target
            assert answer.headers["location"] == "/today"
            await post(client, "/lock", {"csrf": csrf})


async def test_a_quick_exit_tells_every_open_page_to_leave(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        await sign_in(state, client)
        csrf = await unlock(client, PASSPHRASE)
        told: list[str | None] = []

        async def page() -> None:
            async for kind in state.live.stream(lambda: state.space is not None):
                told.append(kind)

        listening = asyncio.create_task(page())
        await arrives(lambda: state.live.listeners > 0)
        await post(client, "/exit", {"csrf": csrf})
        await asyncio.wait_for(listening, 5)
        assert told == ["exit"]

        # A plain lock says "locked" (the pages keep unsent text under their lock card).
        csrf = await unlock(client, PASSPHRASE)
        told.clear()
        listening = asyncio.create_task(page())
        await arrives(lambda: state.live.listeners > 0)
        await post(client, "/lock", {"csrf": csrf})
        await asyncio.wait_for(listening, 5)
        assert told == ["locked"]
