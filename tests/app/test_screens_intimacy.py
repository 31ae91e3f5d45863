"""The intimacy practices through the app's pages (HTTP, two paired apps, a real
relay): moving forward needs both and stepping back one; a check-in is shared only
when chosen; words, boundaries and the disclosure preparation, with the CLI's words."""

from __future__ import annotations

from pathlib import Path

from tests.app.screens_helpers import arrives, flash, two_partners
from tests.integration.pairing import PASSPHRASE
from tests.integration.relay_process import RelayProcess


async def test_pacing_moves_forward_with_both_and_back_with_one(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        page = await alex.send("/intimacy/pacing/forward", {})
        assert "There is no pacing plan in use yet." in flash(page)
        page = await alex.send("/intimacy/pacing/propose", {"stages": "Holding hands\nHugs\nMore"})
        assert "Proposed a pacing plan of 3 stages" in flash(page)
        await arrives(lambda: bool(blake.space.views().intimacy.pacing.pending_versions()))
        assert "Accept the proposed plan" in await blake.get("/intimacy")
        page = await blake.send("/intimacy/pacing/accept", {})
        assert flash(page).startswith("Accepted.")
        await arrives(lambda: alex.space.views().intimacy.pacing.plan is not None)

        page = await alex.send("/intimacy/pacing/forward", {})
        assert "Offered to move forward (needs both of you)" in flash(page)
        assert alex.space.views().intimacy.pacing.stage == 0  # one offer moves nothing
        page = await alex.send("/intimacy/pacing/forward", {})
        assert "You have already offered" in flash(page)
        await arrives(lambda: bool(blake.space.views().intimacy.pacing.offers))
        assert "Yes, move forward together" in await blake.get("/intimacy")
        page = await blake.send("/intimacy/pacing/forward", {})
        assert "You both chose to move forward, to" in flash(page)
        assert blake.space.views().intimacy.pacing.stage == 1

        page = await blake.send("/intimacy/pacing/back", {})
        assert flash(page).startswith("Stepped back to")
        assert blake.space.views().intimacy.pacing.stage == 0
        page = await blake.send("/intimacy/pacing/back", {})
        assert "You are at the first stage" in flash(page)


async def test_an_intimacy_checkin_is_private_unless_shared(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        page = await alex.send("/intimacy/checkins", {"share": "no"})
        assert "needs at least one of" in flash(page)
        page = await alex.send("/intimacy/checkins", {"comfort": "3", "share": "no"})
        assert "give your passphrase" in flash(page)
        before = len(alex.space.events())
        page = await alex.send(
            "/intimacy/checkins", {"comfort": "3", "share": "no", "passphrase": PASSPHRASE}
        )
        assert flash(page) == "Kept private: only your own devices can read it."
        assert len(alex.space.events()) == before  # nothing in the shared space
        assert PASSPHRASE not in page

        page = await alex.send("/intimacy/checkins", {"arousal": "2", "share": "yes"})
        assert "Saved for your partner. A check-in is information, not a request." in flash(page)
        assert "Arousal is not a yes." in flash(page)
        await arrives(lambda: bool(blake.space.views().intimacy.checkins))
        assert "arousal: some" in await blake.get("/intimacy")


async def test_words_boundaries_and_preparation(tmp_path: Path, relay: RelayProcess) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        page = await alex.send(
            "/intimacy/words/language", {"term": "no", "meaning": "go on", "kind": "ok"}
        )
        assert "'no' always means stop" in flash(page)
        page = await alex.send(
            "/intimacy/words/language",
            {"term": "pineapple", "meaning": "slow down", "kind": "slow"},
        )
        assert "in use once your partner accepts it" in flash(page)
        await arrives(lambda: bool(blake.space.views().intimacy.language))
        (term,) = blake.space.views().intimacy.language
        page = await blake.send(f"/intimacy/words/language/{term.latest.id.hex()}/accept", {})
        assert flash(page).startswith("Accepted.")
        assert "'pineapple' (word, slow): slow down (in use)" in page

        page = await alex.send(
            "/intimacy/words/boundaries",
            {"area": "digital", "when": "I feel checked on", "i_will": "you must stop"},
        )
        assert "It needs nobody's consent" in flash(page)
        assert "reads like a request of your partner" in flash(page)
        await arrives(lambda: bool(blake.space.views().intimacy.boundaries))
        (boundary,) = blake.space.views().intimacy.boundaries
        ident = boundary.current.id.hex()
        page = await blake.send(f"/intimacy/words/boundaries/{ident}/withdraw", {})
        assert "Only the person whose boundary it is can withdraw it." in flash(page)
        page = await blake.send(f"/intimacy/words/boundaries/{ident}/read", {})
        assert "Reading it is not agreeing to anything." in flash(page)
        await arrives(
            lambda: bool(alex.space.views().intimacy.boundaries[0].current.acknowledged_by)
        )
        assert "read by Blake" in await alex.get("/intimacy/words")

        page = await blake.send(
            "/intimacy/words/preparation",
            {
                "questions": "When did it start?\nIs it over?",
                "detail": "some",
                "not_to_hear": "places",
            },
        )
        assert "You decide how much to hear" in flash(page)
        (prep,) = blake.space.views().intimacy.preparations
        page = await blake.send(
            f"/intimacy/words/preparation/{prep.version_id.hex()}/mark", {"q0": "yes", "q1": "no"}
        )
        assert flash(page).startswith("Marked.")
        assert "1. When did it start? (answered)" in page
        assert "2. Is it over? (not answered)" in page
