"""Agreements, the recovery plan and times to talk, through the app's pages and forms
(HTTP, two paired apps, a real relay): what one partner does reaches the other live,
and the rules (no accepting one's own proposal, the plan is its writer's) hold."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from schemas.practices import ProfileUpdated
from tests.app.screens_helpers import arrives, flash, hex_ids, two_partners
from tests.integration.relay_process import RelayProcess

IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()


async def test_an_agreement_proposed_by_one_is_accepted_by_the_other(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        # No review date: refused in plain words, nothing written.
        page = await alex.send(
            "/agreements", {"title": "Phone", "clause": "Phones stay open", "review_on": ""}
        )
        assert "date to review it together" in flash(page)
        assert not alex.space.views().agreements.agreements

        page = await alex.send(
            "/agreements",
            [
                ("title", "Phone honesty"),
                ("clause", "Phones stay unlocked at home"),
                ("binds", "me"),
                ("clause", ""),
                ("binds", "both"),
                ("clause", "We say when we need space"),
                ("binds", "both"),
                ("review_on", IN_A_MONTH),
            ],
        )
        assert flash(page).startswith("Proposed. Your partner can accept or decline it.")
        assert "Delivered." in flash(page)
        assert "binds Alex" in page
        assert "binds both of you" in page
        (agreement,) = alex.space.views().agreements.agreements
        assert agreement.current is not None
        version = agreement.current.id.hex()
        assert agreement.current.clauses == (
            "Phones stay unlocked at home",
            "We say when we need space",
        )

        # Alex cannot accept their own proposal: the write rule's words, nothing written.
        before = len(alex.space.events())
        page = await alex.send(f"/agreements/{version}/accept", {})
        assert "comes into force when your partner accepts it" in flash(page)
        assert len(alex.space.events()) == before

        await arrives(lambda: bool(blake.space.views().agreements.agreements))
        listing = await blake.get("/agreements")
        assert "Phone honesty" in listing
        assert "waiting for an answer" in listing
        shown = await blake.get(f"/agreements/{agreement.id.hex()}")
        assert f"/agreements/{version}/accept" in shown
        page = await blake.send(f"/agreements/{version}/accept", {"note": "Thank you"})
        assert flash(page).startswith("Accepted. The agreement is now in force for both of you.")

        await arrives(lambda: alex.space.views().agreements.agreements[0].status == "in_force")
        history = await alex.get(f"/agreements/{agreement.id.hex()}")
        assert "proposed by Alex" in history
        assert "accepted by Blake" in history
        assert "Blake: Thank you" in history

        # A revision, then Blake withdraws consent from the version in force.
        page = await alex.send(
            "/agreements",
            [
                ("revises", agreement.id.hex()),
                ("title", "Phone honesty"),
                ("clause", "Phones stay unlocked at home and at work"),
                ("binds", "me"),
                ("review_on", IN_A_MONTH),
            ],
        )
        assert "Proposed." in flash(page)
        assert len(alex.space.views().agreements.agreements[0].versions) == 2
        page = await blake.send(f"/agreements/{version}/withdraw", {"reason": ""})
        assert flash(page).startswith("Consent withdrawn. This takes effect now.")
        await arrives(
            lambda: alex.space.views().agreements.agreements[0].versions[0].status == "withdrawn"
        )


async def test_the_plan_is_written_by_its_owner_and_read_by_the_partner(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        await alex.space.append(ProfileUpdated(in_recovery=True))
        await arrives(lambda: any(p.in_recovery for p in blake.space.profiles().values()))
        assert 'action="/plan"' in await alex.get("/plan")
        blake_page = await blake.get("/plan")
        assert 'action="/plan"' not in blake_page  # the partner reads it
        assert "The plan is your partner's to write" in blake_page

        page = await alex.send(
            "/plan",
            {
                "inner": "Gambling sites\nBetting apps",
                "middle": "Staying up alone after midnight",
                "outer": "Morning run",
            },
        )
        assert "Saved version 1 of your recovery plan" in flash(page)
        page = await alex.send("/plan", {"inner": "Gambling sites", "outer": "Morning run"})
        assert "Saved version 2 of your recovery plan" in flash(page)

        await arrives(
            lambda: any(
                a.kind == "recovery_plan" and a.current is not None and a.current.number == 2
                for a in blake.space.views().agreements.agreements
            )
        )
        shown = await blake.get("/plan")
        assert "Alex's plan" in shown
        assert "Gambling sites" in shown
        assert "Morning run" in shown
        assert "Betting apps" not in shown  # version 2 is the one in use
        (plan,) = [
            a for a in blake.space.views().agreements.agreements if a.kind == "recovery_plan"
        ]
        assert plan.current is not None
        plan_page = await blake.get(f"/agreements/{plan.id.hex()}")
        assert "Retire this plan" not in plan_page  # only its writer is offered that
        assert "Retire this plan" in await alex.get(f"/agreements/{plan.id.hex()}")
        before = len(blake.space.events())
        page = await blake.send(f"/agreements/{plan.current.id.hex()}/withdraw", {})
        assert "This recovery plan is Alex's" in flash(page)
        assert len(blake.space.events()) == before


async def test_a_time_to_talk_is_agreed_and_the_next_date_shown(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        page = await alex.send("/windows", {"weekday": "6", "time": "7pm", "tz": "Europe/London"})
        assert "is not a time of day" in flash(page)
        page = await alex.send(
            "/windows",
            {
                "weekday": "6",
                "time": "19:00",
                "duration": "45",
                "topic": "money",
                "tz": "Europe/London",
            },
        )
        assert "Proposed." in flash(page)
        assert "No times agreed yet." in page
        await arrives(lambda: bool(blake.space.views().agreements.agreements))
        (window,) = blake.space.views().agreements.agreements
        assert window.current is not None
        page = await blake.send(f"/agreements/{window.current.id.hex()}/accept", {})
        assert "in force" in flash(page)
        shown = await blake.get("/windows")
        assert "Sundays at 19:00 (Europe/London) for 45 minutes: money" in shown
        assert "Postpone this time" in shown
        assert hex_ids(shown, 'name="window" value="') == [window.current.id.hex()]


async def test_a_time_to_talk_starts_in_this_devices_zone(
    tmp_path: Path, relay: RelayProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The form's zone is the one every event of this device carries
    # (client/space/device_zone.py): TZ first, then /etc/localtime.
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    async with two_partners(tmp_path, relay.url) as (alex, _):
        shown = await alex.get("/windows")
        assert 'name="tz" value="Pacific/Auckland"' in shown


async def test_an_agreement_in_force_is_reviewed_together_from_its_page(
    tmp_path: Path, relay: RelayProcess
) -> None:
    # The CLI's 'trellis agreement review' in the app: keep or revise, a next date, a note.
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        await alex.send(
            "/agreements",
            [("title", "Evenings"), ("clause", "Phones away at dinner"), ("binds", "both"),
             ("review_on", IN_A_MONTH)],
        )  # fmt: skip
        (agreement,) = alex.space.views().agreements.agreements
        assert agreement.current is not None
        version = agreement.current.id.hex()
        await arrives(lambda: bool(blake.space.views().agreements.agreements))
        await blake.send(f"/agreements/{version}/accept", {})
        await arrives(lambda: alex.space.views().agreements.agreements[0].status == "in_force")

        shown = await alex.get(f"/agreements/{agreement.id.hex()}")
        assert f"/agreements/{version}/review" in shown

        # A next review date already past is refused in plain words; nothing is written.
        before = len(alex.space.events())
        page = await alex.send(
            f"/agreements/{version}/review", {"outcome": "keep", "next_review_on": "2020-01-01"}
        )
        assert "already past" in flash(page)
        assert len(alex.space.events()) == before

        later = (date.today() + timedelta(days=60)).isoformat()
        page = await alex.send(
            f"/agreements/{version}/review",
            {"outcome": "keep", "next_review_on": later, "note": "Working well"},
        )
        assert flash(page).startswith("Review recorded.")
        (reviewed,) = alex.space.views().agreements.agreements
        assert reviewed.current is not None
        (review,) = reviewed.current.reviews
        assert (review.outcome, review.next_review_on, review.note) == (
            "keep",
            later,
            "Working well",
        )
        await arrives(
            lambda: bool((c := blake.space.views().agreements.agreements[0].current) and c.reviews)
        )
        assert "reviewed by Alex: keep" in await blake.get(f"/agreements/{agreement.id.hex()}")
