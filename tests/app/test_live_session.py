"""The app's live sync session when the relay refuses it: the refusal is said on every
page in plain words, a new session starts by itself, and what was written meanwhile
reaches the partner once the relay takes sessions again (client/app/state.py _watch)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from schemas.payloads import JournalEntry
from tests.app.screens_helpers import arrives, two_partners
from tests.integration.relay_process import RelayProcess

REFUSED = "This relay does not answer to the address the app used"
"""The relay's words for wrong_host: a refusal that sync does not retry by itself."""


async def restart(relay: RelayProcess, extra_args: list[str]) -> None:
    """The same relay (port, database) started again with other settings; on a thread,
    so the apps in this event loop answer the relay's closing meanwhile."""

    def again() -> None:
        relay.stop()
        relay.extra_args = extra_args
        relay.start()

    await asyncio.to_thread(again)


async def test_a_refused_session_is_said_plainly_and_started_again(tmp_path: Path) -> None:
    # A relay of this test's own: it is restarted with other settings.
    relay = RelayProcess(tmp_path / "relay.db").start()
    try:
        async with two_partners(tmp_path, relay.url) as (alex, blake):
            # Answering only to another name, the relay refuses every session Alex's app
            # starts (wrong_host); sync raises it rather than retrying.
            await restart(relay, ["--public-hosts", "relay.elsewhere.example"])
            await arrives(lambda: alex.state.sync_problem is not None, timeout_s=60.0)
            page = await alex.get("/today")
            assert REFUSED in page
            assert "Trellis keeps trying; what you write stays on this device" in page

            await alex.space.append(JournalEntry(text="Written while the relay refused us"))
            await restart(relay, [])
            # A new session starts by itself (no lock, unlock or reload), pushes the
            # entry, and the problem is no longer shown once it is live.
            await arrives(
                lambda: (
                    "Written while the relay refused us" in [i.text for i in blake.space.journal()]
                ),
                timeout_s=60.0,
            )
            await arrives(lambda: alex.state.sync_problem is None, timeout_s=60.0)
            assert REFUSED not in await alex.get("/today")
    finally:
        relay.stop()
