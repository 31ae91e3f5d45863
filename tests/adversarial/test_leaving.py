"""Leaving, as the leaver's own devices see it (THREAT_MODEL §16.1).

After ``member_left`` the leaver's chain is closed: the relay refuses the device and
every reader refuses its events. The leaver's app still offered to write: a safety
signal or an entry written after leaving failed with "This device refused its own new
event (device_revoked)", a sentence about the app's internals, on the very screen a
person who just left may be using in a hurry. Now the write is refused before anything
is signed, in plain words, and nothing reaches the outbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from client.errors import ClientErrorCode, TrellisError
from client.space import Space, devices
from schemas.payloads import JournalEntry
from schemas.practices import SignalSent
from tests.adversarial.story import journal, partners, sync, write
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
