"""A relay that withholds events: the partner it hides them from is warned, nothing
half-arrived is shown, and the warning clears once the events come through."""

from __future__ import annotations

from pathlib import Path

from client.space import Space
from tests.adversarial.proxy import AdversarialProxy, Tamper
from tests.adversarial.story import (
    codes,
    event_at,
    event_ids,
    finding,
    head_seq,
    journal,
    partners,
    sync,
    write,
)
from tests.adversarial.tampers import Drop, by


async def test_an_event_withheld_from_one_partner_warns_that_partner_until_it_arrives(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    first_new = head_seq(blake) + 1
    proxy.tamper = Drop(by(blake.device_id, seqs={first_new}), victim=alex.device_id)
    await write(blake, "Went to my meeting.", "Called my sponsor after.")
    await sync(blake, alex)

    withheld = finding(alex, "withheld_events")
    assert withheld.severity.value == "warning"
    assert codes(alex) == [("withheld_events", "warning")]
    assert codes(blake) == []
    # The later event waits, unshown: Alex sees neither half of the story.
    assert "Called my sponsor after." not in journal(alex)
    assert event_at(blake, blake, first_new + 1).hex() in withheld.events

    proxy.tamper = Tamper()
    await sync(alex)

    assert codes(alex) == []
    assert journal(alex) == journal(blake)
    assert event_ids(alex) == event_ids(blake)


async def test_a_withheld_newest_event_shows_as_a_position_the_relay_skipped(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    newest = head_seq(blake) + 1
    proxy.tamper = Drop(by(blake.device_id, seqs={newest}), victim=alex.device_id)
    await write(blake, "Only this one.")
    await sync(blake, alex)

    assert codes(alex) == [("withheld_events", "warning")]
    assert "Only this one." not in journal(alex)

    await sync(alex)  # the relay is asked once more, and withholds again
    assert codes(alex) == [("withheld_events", "warning")]

    proxy.tamper = Tamper()
    await alex.reseed()  # reads the relay's whole history again

    assert codes(alex) == []
    assert journal(alex) == journal(blake)
