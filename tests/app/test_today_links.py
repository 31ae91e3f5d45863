"""Today leads to what waits: an agreement waiting for an answer links to its page
(where Accept and Decline are), a disclosure not marked yet to its place on
Disclosures (where Seen is). A tired partner should not have to hunt for them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.app.screens_helpers import arrives, two_partners
from tests.integration.relay_process import RelayProcess

IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()


async def test_today_links_to_what_waits_for_an_answer(tmp_path: Path, relay: RelayProcess) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        await alex.send(
            "/agreements",
            {"title": "Phones down", "clause": "No phones at dinner", "review_on": IN_A_MONTH},
        )
        await alex.send("/disclosures", {"kind": "meeting", "summary": "Went to a meeting"})
        await arrives(
            lambda: (
                bool(blake.space.views().disclosures)
                and bool(blake.space.views().agreements.agreements)
            )
        )
        (agreement,) = blake.space.views().agreements.agreements
        (disclosure,) = blake.space.views().disclosures
        today = await blake.get("/today")
        assert f'<a href="/agreements/{agreement.id.hex()}">Phones down</a>' in today
        assert f'<a href="/disclosures#d-{disclosure.id.hex()}">Went to a meeting</a>' in today
        page = await blake.get(f"/agreements/{agreement.id.hex()}")
        assert "Accept" in page
        assert f'id="d-{disclosure.id.hex()}"' in await blake.get("/disclosures")
