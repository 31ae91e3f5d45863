"""The Export screen's choices beyond agreements, as ``trellis export`` has them: the
pacing plan (``--pacing``) and the recovery records with the first page's start
(``--recovery --since DATE``), through the app's pages (HTTP, two paired apps, a real
relay). The same code chooses the events as for the CLI (client/export/choice.py), and
the same consent rule leaves out the partner's own words."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from client.app.screens.export import CHOOSE_SOMETHING, PACING_CHOICE, RECOVERY_CHOICE
from client.export import verify_export
from client.export.choice import export_choice
from schemas.payloads import payload_kind
from tests.app.inprocess import ORIGIN
from tests.app.screens_helpers import Partner, arrives, flash, two_partners
from tests.integration.relay_process import RelayProcess

IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()
TODAY = date.today().isoformat()
DECLARED = {"recipient": "Dr. Rivera", "purpose": "our session", "until": IN_A_MONTH}


async def _download(partner: Partner, fields: list[tuple[str, str]]) -> bytes:
    answer = await partner.client.post(
        "/export",
        content=urlencode([("csrf", partner.csrf), *fields]).encode(),
        headers={"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, (answer.status_code, answer.headers.get("location"))
    assert answer.headers["content-disposition"].startswith("attachment;")
    return answer.content


async def test_the_pacing_plan_is_exported_from_the_app(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, _blake):
        page = await alex.get("/export")
        assert PACING_CHOICE not in page  # nothing to export yet, so not offered
        await alex.send("/intimacy/pacing/propose", {"stages": "Holding hands\nHugs\nMore"})
        await alex.send("/gratitude", {"text": "for the walk"})
        assert PACING_CHOICE in await alex.get("/export")

        data = await _download(alex, [("pacing", "yes"), ("format", "json"), *DECLARED.items()])
        result, findings = verify_export(data)
        assert not findings
        assert result is not None
        assert result.title == "Pacing plan"
        kinds = {e.kind for e in result.revealed}
        assert "pacing_plan_proposed" in kinds
        # Only the plan, the membership that names who, and the declaration: no gratitude.
        assert kinds <= {
            "pacing_plan_proposed",
            "space_created",
            "member_joined",
            "invite_issued",
            "export_consented",
        }
        # The same events `trellis export --pacing` chooses.
        chosen = export_choice(alex.space.events(), pacing=True).chosen
        assert set(chosen) <= {e.event_id for e in result.revealed}


async def test_recovery_records_since_a_day_follow_the_consent_rule(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        await alex.send(
            "/disclosures",
            {"kind": "slip", "summary": "Stayed up late on my phone", "circle": "middle"},
        )
        await blake.send("/checkins", {"feelings": "tired but hopeful"})
        await arrives(lambda: bool(alex.space.views().checkins))
        page = await alex.get("/export")
        assert RECOVERY_CHOICE in page

        fields = [("recovery", "yes"), ("since", TODAY), ("format", "json"), *DECLARED.items()]
        data = await _download(alex, fields)
        result, findings = verify_export(data)
        assert not findings
        assert result is not None
        assert result.title == "Recovery records"
        texts = " ".join(str(e.payload) for e in result.revealed)
        assert "Stayed up late on my phone" in texts
        # Blake's check-in is Blake's own words: left out without Blake's consent, and
        # the page says so, in the CLI's words.
        assert "tired but hopeful" not in texts
        assert "has not consented to share their own words" in flash(await alex.get("/export"))
        start = int(datetime.fromisoformat(TODAY).astimezone().timestamp() * 1000)
        assert result.first_page is not None
        assert result.first_page.since == start

        await blake.send("/export/consent", dict(DECLARED))
        # Alex's own declaration of the first export, and Blake's consent.
        await arrives(
            lambda: (
                sum(payload_kind(e.payload) == "export_consented" for e in alex.space.events()) >= 2
            )
        )
        result, findings = verify_export(await _download(alex, fields))
        assert not findings
        assert result is not None
        assert "tired but hopeful" in " ".join(str(e.payload) for e in result.revealed)

        # Blake ends the consent: Alex's next export leaves Blake's words out again.
        page = await blake.send(
            "/export/consent/withdraw",
            {"recipient": DECLARED["recipient"], "purpose": DECLARED["purpose"]},
        )
        assert "Your consent for Dr. Rivera (our session) has ended" in flash(page)
        await arrives(
            lambda: (
                sum(payload_kind(e.payload) == "export_consented" for e in alex.space.events()) >= 4
            )
        )
        result, findings = verify_export(await _download(alex, fields))
        assert not findings
        assert result is not None
        assert "tired but hopeful" not in " ".join(str(e.payload) for e in result.revealed)


async def test_an_export_needs_a_choice_and_a_day_that_has_come(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, _blake):
        before = len(alex.space.events())
        page = await alex.send("/export", dict(DECLARED))
        assert flash(page) == CHOOSE_SOMETHING
        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        page = await alex.send("/export", {"recovery": "yes", "since": tomorrow, **DECLARED})
        assert "has not come yet" in flash(page)
        page = await alex.send("/export", {"pacing": "yes", **DECLARED})
        assert flash(page) == "There is no pacing plan to export yet."
        assert len(alex.space.events()) == before  # nothing declared, nothing written
