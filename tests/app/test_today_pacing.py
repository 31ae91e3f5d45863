"""Today shows a pacing proposal that waits for an answer (docs/PROTOCOL.md §5.11): the
partner who is asked reads who proposed and a link to answer, in calm words; the one who
proposed reads that it waits for the partner, without pressure. Through both apps' forms
with a real relay; the stages' words stay on the Intimacy page."""

from __future__ import annotations

import time
from pathlib import Path

from client.app.views_cache import current_views
from client.views.today import pacing_waiting
from schemas.intimacy import PACING_OFFER_TTL_MS
from tests.app.screens_helpers import Partner, arrives, two_partners
from tests.integration.relay_process import RelayProcess

STAGES = "Holding hands on walks\nLong hugs"
LINK = '<a href="/intimacy#pacing-h">'


async def _today(partner: Partner) -> str:
    return await partner.get("/today")


async def _synced(alex: Partner, blake: Partner) -> None:
    await arrives(lambda: alex.space.event_count == blake.space.event_count)


async def test_today_shows_a_pacing_plan_and_a_step_waiting_for_an_answer(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        assert "Pacing plan" not in await _today(blake), "nothing waits: no section"

        await alex.send("/intimacy/pacing/propose", {"stages": STAGES})
        await _synced(alex, blake)
        theirs, mine = await _today(blake), await _today(alex)
        assert "Alex proposed a pacing plan." in theirs
        assert f"{LINK}Read it and answer when you are ready</a>" in theirs
        assert "Holding hands" not in theirs, "the stages' words stay on the Intimacy page"
        assert "You proposed a pacing plan. Waiting for Blake's answer; there is no hurry." in mine
        assert LINK not in mine

        await blake.send("/intimacy/pacing/accept", {})
        await _synced(alex, blake)
        assert "Pacing plan" not in await _today(blake)
        assert "Pacing plan" not in await _today(alex)

        await alex.send("/intimacy/pacing/forward", {})
        await _synced(alex, blake)
        theirs, mine = await _today(blake), await _today(alex)
        assert "Alex offered to move forward a stage." in theirs
        assert f'{LINK}Answer when you are ready</a>; "Not now" is always fine.' in theirs
        assert "You offered to move forward a stage. Waiting for Blake's answer" in mine
        # Silence is not a yes: after 48 hours the offer waits for no one.
        views = current_views(blake.space)
        me = blake.space.me()
        assert me is not None
        now_ms = int(time.time() * 1000)
        assert [w.what for w in pacing_waiting(views, me.member_id, now_ms)] == ["forward"]
        assert pacing_waiting(views, me.member_id, now_ms + PACING_OFFER_TTL_MS) == []

        await blake.send("/intimacy/pacing/decline", {})
        await _synced(alex, blake)
        assert "Pacing plan" not in await _today(blake)
        assert "Pacing plan" not in await _today(alex)
