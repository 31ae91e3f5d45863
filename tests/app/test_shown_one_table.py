"""One table of what no screen shows (client/views/shown.py): the local app's pages read
it, as the export's report and the terminal do, so a partner's bidirectional override or
control character is neutralised on a page exactly as in the report (docs/THREAT_MODEL.md
§29). The app keeps only the carriage return, which a page's parser reads as a line
break."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from client.app import screen
from client.export.html_words import esc
from client.views import shown as shown_module
from client.views.shown import UNSHOWN, UNSHOWN_ON_PAGE, shown
from schemas.payloads import JournalEntry
from schemas.practices import ProfileUpdated
from tests.app.inprocess import app_client, sign_in, unlock
from tests.integration.pairing import PASSPHRASE, pair
from tests.integration.relay_process import RelayProcess

NAME = "Bl\u202eake\u2066\u0007\u001b]0;owned\u0007"
"""A partner's name with a RIGHT-TO-LEFT OVERRIDE, an isolate, a bell and a terminal
title sequence."""
ENTRY = "I am \u202etsenoh\u2069 today\u0085\u009b2J, mostly\u000b calm"


def test_the_page_drops_what_the_report_drops_but_the_carriage_return() -> None:
    assert set(UNSHOWN) - set(UNSHOWN_ON_PAGE) == {0x0D}
    for code in range(0x3000):
        text = f"a{chr(code)}b"
        if code == 0x0D:
            assert screen._shown(text) == text
            continue
        assert screen._shown(text) == shown(text), hex(code)
        assert esc(shown(text)) == esc(text), hex(code)


def test_the_page_reads_the_one_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """A character added to the one table leaves the pages too: the app keeps no
    table of its own to forget it in."""
    zero_width = 0x200B
    monkeypatch.setitem(shown_module.UNSHOWN_ON_PAGE, zero_width, None)
    assert screen._shown("a\u200bb") == "ab"


async def test_a_partners_name_and_entry_read_on_the_page_as_in_the_report(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    await blake.append(ProfileUpdated(name=NAME))
    await blake.append(JournalEntry(text=ENTRY))
    await blake.sync()
    await alex.sync()
    await alex.close()
    await blake.close()
    async with app_client(tmp_path / "alex") as (state, client):
        await sign_in(state, client)
        await unlock(client, PASSPHRASE)
        for path in ("/journal", "/timeline", "/today"):
            html = (await client.get(path)).text
            assert not set(map(ord, html)) & UNSHOWN.keys() - {0x0D}, path
        journal = unescape((await client.get("/journal")).text)
        # The entry and the name, exactly as the export's report shows them.
        assert unescape(esc(ENTRY)) in journal
        assert unescape(esc(NAME)) in journal
        timeline = unescape((await client.get("/timeline")).text)
        assert re.search(re.escape(unescape(esc(NAME))) + " wrote in the journal", timeline)
