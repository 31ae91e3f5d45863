"""Disclosures, check-ins, sober days and milestones, gratitude: through the app's
pages and forms (HTTP, two paired apps, a real relay), with the CLI's words."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.app.screens_helpers import arrives, flash, two_partners
from tests.integration.relay_process import RelayProcess


async def test_a_slip_report_is_shared_and_the_partner_marks_it(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        page = await alex.send("/disclosures", {"kind": "slip", "summary": "I looked at a site"})
        assert "Which circle was it?" in flash(page)
        assert not alex.space.views().disclosures

        page = await alex.send(
            "/disclosures",
            [
                ("kind", "slip"),
                ("summary", "Stayed up on my phone"),
                ("circle", "middle"),
                ("place", "home"),
                ("halt", "lonely"),
                ("halt", "tired"),
                ("triggers", "argument at work\nlate night"),
                ("next_steps", "call my sponsor"),
            ],
        )
        assert "recorded as a risk (middle circle)" in flash(page)
        assert "Thank you for your honesty." in flash(page)
        (made,) = alex.space.views().disclosures
        assert made.kind == "risk"
        assert not made.breaks_sobriety
        assert made.slip is not None
        # A risk report alone gives no sober run to count: said plainly, not "0 days".
        sober = await alex.get("/sobriety")
        assert "Alex</strong>: no date to count sober days from yet." in sober
        assert "0 sober days in all" not in sober
        assert made.slip.triggers == ["argument at work", "late night"]

        await arrives(lambda: bool(blake.space.views().disclosures))
        shown = await blake.get("/disclosures")
        assert "Stayed up on my phone" in shown
        assert "hungry, angry, lonely, tired: lonely, tired" in shown
        assert "triggers: argument at work, late night" in shown
        assert f"/disclosures/{made.id.hex()}/mark" in shown
        # The writer is not offered a mark on their own disclosure.
        assert f"/disclosures/{made.id.hex()}/mark" not in await alex.get("/disclosures")

        page = await blake.send(f"/disclosures/{made.id.hex()}/mark", {"mark": "need_time"})
        assert flash(page).startswith("Noted: you need time. Nothing is expected of you")
        page = await blake.send(
            f"/disclosures/{made.id.hex()}/mark",
            {"mark": "seen", "response": "Thank you for telling me"},
        )
        assert flash(page).startswith("Marked as seen. There is nothing more you need to do.")
        await arrives(lambda: len(alex.space.views().disclosures[0].acknowledgements) == 2)
        mine = await alex.get("/disclosures")
        assert "Blake: needs time; Blake: seen" in mine
        assert "Blake answered: Thank you for telling me" in mine


async def test_a_checkin_says_there_is_nothing_to_answer(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        page = await alex.get("/checkins")
        assert "A check-in is to hear, not to answer" in page
        for letter in ("F, feelings", "A, affirmation", "N, needs", "O, ownership", "S, struggles"):
            assert letter in page
        page = await alex.send("/checkins", {"feelings": ""})
        assert "needs at least one of the letters, or a mood" in flash(page)
        page = await alex.send(
            "/checkins",
            {"feelings": "tired but hopeful", "sobriety": "went to a meeting", "mood": "3"},
        )
        assert flash(page).startswith("Checked in.")
        await arrives(lambda: bool(blake.space.views().checkins))
        shown = await blake.get("/checkins")
        assert "Alex</strong> checked in" in shown
        assert "mood 3/5" in shown
        assert "tired but hopeful" in shown
        assert "Struggles and self-care" in shown
        assert "A check-in is to hear, not to answer" in shown


async def test_a_slip_ends_the_run_and_never_the_total(tmp_path: Path, relay: RelayProcess) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        start = (date.today() - timedelta(days=10)).isoformat()
        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        page = await alex.send("/sobriety", {"date": tomorrow})
        assert "cannot be in the future" in flash(page)
        page = await alex.send("/sobriety", {"date": start, "label": "gambling"})
        assert flash(page).startswith(f"Sobriety counted from {start}.")
        assert "10 days in the current run, 10 sober days in all" in page

        slip_day = (date.today() - timedelta(days=3)).isoformat()
        await alex.send(
            "/disclosures",
            {"kind": "slip", "summary": "Placed a bet", "circle": "inner", "when": slip_day},
        )
        page = await alex.get("/sobriety")
        assert "2 days in the current run, 9 sober days in all" in page

        page = await alex.send("/sobriety/milestones", {"title": ""})
        assert "A milestone needs a title" in flash(page)
        page = await alex.send("/sobriety/milestones", {"title": "First week", "note": "with help"})
        assert flash(page).startswith("Milestone marked.")
        await arrives(lambda: bool(blake.space.views().milestones))
        shown = await blake.get("/sobriety")
        assert "Alex</strong>: First week" in shown
        assert "2 days in the current run, 9 sober days in all" in shown


async def test_gratitude_notes_reach_the_partner(tmp_path: Path, relay: RelayProcess) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        page = await blake.send("/gratitude", {"text": "  "})
        assert "The note is empty; nothing was saved." in flash(page)
        page = await blake.send("/gratitude", {"text": "You made <b>soup</b> when I was sick"})
        assert flash(page).startswith("Noted.")
        await arrives(lambda: bool(alex.space.views().gratitude))
        raw = (await alex.client.get("/gratitude")).text
        assert "&lt;b&gt;soup&lt;/b&gt;" in raw
        assert "<b>soup" not in raw


async def test_the_live_session_starts_again_after_the_relay_was_gone(
    tmp_path: Path, relay: RelayProcess
) -> None:
    # "It is sent as soon as the relay can be reached": a write saved while the relay was
    # down reaches the partner once it is back, with no lock, unlock or reload.
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        relay.stop()
        try:
            page = await alex.send("/gratitude", {"text": "For your patience"})
            assert "not delivered yet" in flash(page)
        finally:
            relay.start()
        await arrives(lambda: bool(blake.space.views().gratitude), timeout_s=60.0)
