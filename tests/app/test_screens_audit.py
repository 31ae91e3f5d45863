"""Timeline with filters, verify in plain words, and export downloads (HTML report and
JSON) with the declaration the CLI requires: through the app's pages (HTTP, two paired
apps, a real relay). The downloaded JSON verifies offline like any export."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from client.app import screens, views_cache
from client.export import verify_export
from tests.app.inprocess import ORIGIN
from tests.app.screens_helpers import arrives, flash, two_partners
from tests.integration.relay_process import RelayProcess

IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()


async def test_the_timeline_filters_and_verify_reads_plainly(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        await alex.send("/gratitude", {"text": "for the walk"})
        await blake.send("/checkins", {"feelings": "calm"})
        await arrives(lambda: bool(alex.space.views().checkins))
        everything = await alex.get("/timeline")
        assert "for the walk" in everything or "gratitude" in everything.lower()
        only = await alex.get("/timeline?kind=check_in")
        assert "Blake" in only
        assert "for the walk" not in only
        blake_id = next(m.hex() for m, p in alex.space.profiles().items() if p.name == "Blake")
        by_blake = await alex.get(f"/timeline?who={blake_id}&kind=gratitude")
        assert "Nothing in the timeline matches." in by_blake
        bad = await alex.get("/timeline?since=yesterday")
        assert "That is not a date" in bad
        page = await alex.get("/verify")
        assert "All good" in page
        assert "signatures, chains, membership and agreement rules" in page


async def test_an_export_is_declared_and_downloaded(tmp_path: Path, relay: RelayProcess) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        await alex.send(
            "/agreements",
            {"title": "Screen time", "clause": "No phones at dinner", "review_on": IN_A_MONTH},
        )
        (agreement,) = alex.space.views().agreements.agreements
        choose = agreement.id.hex()
        form = {
            "csrf": alex.csrf,
            "agreement": choose,
            "recipient": "Dr. Rivera",
            "purpose": "our session",
            "until": IN_A_MONTH,
            "format": "json",
        }
        # Without whom it is for: refused, nothing written, no file.
        before = len(alex.space.events())
        answer = await alex.client.post(
            "/export", data={**form, "recipient": ""}, headers={"Origin": ORIGIN}
        )
        assert answer.status_code == 303
        assert "Say who it is for." in flash(await alex.get("/export"))
        assert len(alex.space.events()) == before
        past = (date.today() - timedelta(days=1)).isoformat()
        answer = await alex.client.post(
            "/export", data={**form, "until": past}, headers={"Origin": ORIGIN}
        )
        assert "has passed" in flash(await alex.get("/export"))

        answer = await alex.client.post("/export", data=form, headers={"Origin": ORIGIN})
        assert answer.status_code == 200
        assert answer.headers["content-disposition"].startswith("attachment;")
        assert answer.headers["content-disposition"].endswith('.json"')
        assert answer.headers["cache-control"] == "no-store"
        result, findings = verify_export(answer.content)
        assert not findings
        assert result is not None
        assert result.title == "Agreement: Screen time"
        assert result.declaration.recipient == "Dr. Rivera"
        assert any("No phones at dinner" in str(e.payload) for e in result.revealed)

        answer = await alex.client.post(
            "/export", data={**form, "format": "html"}, headers={"Origin": ORIGIN}
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert "Screen time" in answer.text
        assert "Dr. Rivera" in answer.text
        result, findings = verify_export(answer.content)
        assert not findings
        assert result is not None

        # Blake's consent for the same recipient and purpose is saved and reaches Alex.
        page = await blake.send(
            "/export/consent",
            {"recipient": "Dr. Rivera", "purpose": "our session", "until": IN_A_MONTH},
        )
        assert flash(page).startswith("Your consent is saved")


async def test_locking_drops_the_folded_views(tmp_path: Path, relay: RelayProcess) -> None:
    """The pages share one fold of the history (client/app/views_cache.py); it holds
    decrypted text, so locking drops it with the space."""
    async with two_partners(tmp_path, relay.url) as (alex, _blake):
        await alex.get("/gratitude")
        space = alex.space
        assert views_cache.cached(space)
        answer = await alex.client.post(
            "/lock", data={"csrf": alex.csrf}, headers={"Origin": ORIGIN}
        )
        assert answer.status_code == 303
        assert alex.state.space is None
        assert not views_cache.cached(space)


async def test_a_new_event_shows_at_once_despite_the_shared_fold(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        assert "Nothing here yet." in await alex.get("/gratitude")
        await blake.send("/gratitude", {"text": "for the tea"})
        await arrives(lambda: bool(alex.space.views().gratitude))
        assert "for the tea" in await alex.get("/gratitude")


PRACTICE_SCREENS = (
    "agreements",
    "plan",
    "windows",
    "disclosures",
    "checkins",
    "sobriety",
    "gratitude",
    "intimacy",
    "intimacy_words",
    "timeline",
    "export",
)


async def test_every_practice_form_needs_the_anti_forgery_token(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """The gate guards every state-changing route of these screens: a post without the
    page's token, or from another origin, is refused and writes nothing."""
    paths = []
    for name in PRACTICE_SCREENS:
        for handler in getattr(screens, name).SCREEN.handlers:
            if "POST" in handler.http_methods:
                for path in handler.paths:
                    paths.append(
                        path.replace("{ident:str}", "a" * 64).replace("{action:str}", "read")
                    )
    assert len(paths) >= 25
    async with two_partners(tmp_path, relay.url) as (alex, _blake):
        before = len(alex.space.events())
        for path in paths:
            missing = await alex.client.post(path, data={"text": "x"}, headers={"Origin": ORIGIN})
            assert missing.status_code == 403, path
            foreign = await alex.client.post(
                path,
                data={"csrf": alex.csrf, "text": "x"},
                headers={"Origin": "http://evil.example"},
            )
            assert foreign.status_code == 403, path
        assert len(alex.space.events()) == before
