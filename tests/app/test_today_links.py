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


async def test_today_says_sober_days_as_the_sober_days_page_does(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """A risk report alone gives no run to count: Today says so in the Sober days page's
    words, never "0 days now, 0 in all"."""
    async with two_partners(tmp_path, relay.url) as (alex, _blake):
        await alex.send(
            "/disclosures",
            [("kind", "slip"), ("summary", "Stayed up late"), ("circle", "middle")],
        )
        today = await alex.get("/today")
        assert "<strong>Alex</strong>: no date to count sober days from yet." in today
        assert "0 days" not in today
        await alex.send("/sobriety", {"date": (date.today() - timedelta(days=3)).isoformat()})
        today = await alex.get("/today")
        assert "3 days in the current run, 3 sober days in all" in today
        assert "3 days in the current run" in await alex.get("/sobriety")


async def test_a_disclosure_marked_seen_is_not_asked_about_again(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        await alex.send("/disclosures", {"kind": "meeting", "summary": "Went to a meeting"})
        await arrives(lambda: bool(blake.space.views().disclosures))
        (d,) = blake.space.views().disclosures
        page = await blake.send(f"/disclosures/{d.id.hex()}/mark", {"mark": "need_time"})
        assert "You said you need time." in page
        assert 'value="need_time"' not in page  # said once is enough
        page = await blake.send(f"/disclosures/{d.id.hex()}/mark", {"mark": "seen"})
        assert "You marked it seen. There is nothing more you need to do." in page
        assert "<summary>Add words back</summary>" in page
        assert "You marked it seen" not in await alex.get("/disclosures")  # Alex's own
