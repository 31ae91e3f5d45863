"""Leaving, as the leaver's own devices see it (THREAT_MODEL §16.1).

After ``member_left`` the leaver's chain is closed: the relay refuses the device and
every reader refuses its events. The leaver's app still offered to write: a safety
signal or an entry written after leaving failed with "This device refused its own new
event (device_revoked)", a sentence about the app's internals, on the very screen a
person who just left may be using in a hurry. Now the write is refused before anything
is signed, in plain words, and nothing reaches the outbox.

And the leaver's device went on dialling the relay: a sync after leaving signed in and
was refused, and the app's live sync did so again and again while it stayed open. Now
a device that left or was removed does not contact the relay at all.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from client.errors import ClientErrorCode, TrellisError
from client.space import Space, devices
from schemas.payloads import JournalEntry
from schemas.practices import SignalSent
from tests.adversarial.proxy import AdversarialProxy
from tests.adversarial.story import journal, partners, sync, write
from tests.app.inprocess import app_client, post, sign_in, unlock
from tests.integration.pairing import PASSPHRASE
from tests.integration.relay_process import RelayProcess


async def test_after_leaving_nothing_more_is_written_and_the_leaver_is_told_plainly(
    tmp_path: Path, relay: RelayProcess, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, relay.url, opened)
    await write(alex, "shared before leaving")
    await sync(alex, blake)
    await devices.leave(alex)
    events_before = len(alex.events())

    for payload in (SignalSent(level="stop"), JournalEntry(text="after leaving")):
        with pytest.raises(TrellisError) as refused:
            await alex.append(payload)
        assert refused.value.code == ClientErrorCode.DEVICE_REMOVED
        assert "left the space" in refused.value.message
        assert "device_revoked" not in refused.value.message

    assert len(alex.events()) == events_before
    assert (await alex.status()).outbox == 0
    assert journal(alex) == ["shared before leaving"]  # the leaver keeps its copy


async def test_a_leaver_who_opens_the_app_again_still_writes_nothing(
    tmp_path: Path, relay: RelayProcess, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, relay.url, opened)
    await devices.leave(alex)
    await alex.close()
    opened.remove(alex)
    again = await Space.open(alex.home, passphrase=PASSPHRASE)
    opened.append(again)

    with pytest.raises(TrellisError) as refused:
        await again.append(SignalSent(level="pause"))

    assert refused.value.code == ClientErrorCode.DEVICE_REMOVED
    assert (await again.status()).outbox == 0
    await sync(blake)
    assert [s for s in blake.views().signals if s.active] == []


async def test_after_leaving_the_device_no_longer_contacts_the_relay(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    """A sync after leaving dialled the relay, signed in with the device key and was
    refused. The relay is often the other partner's own (self-hosted): each attempt told
    it, from the leaver's address, that the leaver was using the app, and when."""
    alex, _ = await partners(tmp_path, proxy.url, opened)
    await devices.leave(alex)
    sessions = len(proxy.links)

    with pytest.raises(TrellisError) as refused:
        await alex.sync()
    await alex.close()
    opened.remove(alex)
    again = await Space.open(alex.home, passphrase=PASSPHRASE)
    opened.append(again)
    with pytest.raises(TrellisError) as refused_again:
        await again.sync()

    assert refused.value.code == ClientErrorCode.DEVICE_REMOVED
    assert refused_again.value.code == ClientErrorCode.DEVICE_REMOVED
    assert len(proxy.links) == sessions, "no session was opened after leaving"


async def test_the_app_stops_syncing_once_its_partner_left_through_it(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    """Leaving through the app restarted its live sync, which was refused and tried
    again every 0.5 to 30 s for as long as the app stayed open, each page saying
    "Trellis keeps trying"."""
    alex, _ = await partners(tmp_path, proxy.url, opened)
    await alex.close()
    opened.remove(alex)
    async with app_client(alex.home) as (state, client):
        await sign_in(state, client)
        csrf = await unlock(client, PASSPHRASE)
        left = await post(client, "/pairing/leave", {"csrf": csrf, "confirm": "yes"})
        sessions = len(proxy.links)
        await asyncio.sleep(2.5)  # the live sync restarted after 0.5 s, then 1 s, 2 s
        page = (await client.get("/pairing")).text

    assert left.status_code == 303
    assert len(proxy.links) == sessions, "the app dialled the relay after leaving"
    assert "keeps trying" not in page
    assert "left the space" in page


async def test_a_signal_to_a_partner_who_left_is_not_called_delivered(
    tmp_path: Path, relay: RelayProcess, opened: list[Space]
) -> None:
    """Blake's partner left. A stop signal was written, pushed and reported
    "Delivered": held by a relay nobody will read it from again."""
    alex, blake = await partners(tmp_path, relay.url, opened)
    await devices.leave(alex)
    await sync(blake)
    events_before = len(blake.events())

    with pytest.raises(TrellisError) as refused:
        await blake.append(SignalSent(level="stop"))

    assert refused.value.code == ClientErrorCode.NO_PARTNER
    assert "left the space" in refused.value.message
    assert len(blake.events()) == events_before
    await write(blake, "I can still write in my own copy.")
    assert "I can still write in my own copy." in journal(blake)
