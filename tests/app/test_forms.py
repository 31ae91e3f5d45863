"""The journal and signal forms with no script at all (plain HTTP posts, as a browser
with JavaScript off sends them), against two real spaces on a real relay."""

from __future__ import annotations

from pathlib import Path

from schemas.payloads import JournalEntry
from tests.app.inprocess import app_client, post, sign_in, unlock
from tests.integration.pairing import PASSPHRASE, pair
from tests.integration.relay_process import RelayProcess


async def test_journal_and_signals_work_without_script(tmp_path: Path, relay: RelayProcess) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    blakes = await blake.append(JournalEntry(text="Blake's own words."))
    await blake.sync()
    await alex.close()
    try:
        async with app_client(tmp_path / "alex") as (state, client):
            await sign_in(state, client)
            csrf = await unlock(client, PASSPHRASE)

            form = {"csrf": csrf, "text": "  A calm evening.  ", "mood": "4", "tags": "#home, rest"}
            assert (await post(client, "/journal", form)).headers["location"] == "/journal"
            page = (await client.get("/journal")).text
            assert "Saved. Delivered." in page
            assert "A calm evening." in page
            assert "#home" in page
            assert "#rest" in page
            await blake.sync()
            assert ("A calm evening.", 4, ("home", "rest")) in [
                (i.text, i.mood, i.tags) for i in blake.journal()
            ]

            # The partner's entry: the same write rule as the CLI refuses it.
            await post(
                client, f"/journal/{blakes.event_id.hex()}/amend", {"csrf": csrf, "text": "x"}
            )
            refused = (await client.get("/journal")).text
            assert "flash problem" in refused
            assert "Blake&#39;s own words." in refused

            await post(client, "/journal", {"csrf": csrf, "text": "   "})
            assert "The entry is empty; nothing was saved." in (await client.get("/journal")).text

            note = {"csrf": csrf, "level": "pause", "minutes": "30", "preset": "flooded"}
            await post(client, "/signals", note)
            page = (await client.get("/signals")).text
            assert "Time-out given." in page
            assert "I&#39;m flooded and need a break." in page
            both = {**note, "note": "my own words"}
            await post(client, "/signals", both)
            assert "not both" in (await client.get("/signals")).text
            await post(client, "/signals/clear", {"csrf": csrf})
            assert "Cleared." in (await client.get("/signals")).text
    finally:
        await blake.close()
