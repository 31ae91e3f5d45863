"""Old answers replayed to a device: what it can see of that is proof, and nothing
replayed is taken as new."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.errors import RelayRefused
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
from tests.adversarial.tampers import ReplayAcks, ReplayChallenge, Substitute, by


async def test_a_sign_in_challenge_offered_twice_is_proof_of_replay(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    proxy.tamper = ReplayChallenge()
    await sync(alex)
    with pytest.raises(RelayRefused):
        await sync(alex)  # the real relay refuses an answer to its predecessor's challenge

    replay = finding(alex, "replay")
    assert replay.severity.value == "proof"
    assert "challenge" in replay.message
    assert codes(blake) == []


async def test_old_acknowledgements_for_a_new_push_are_proof_and_the_entry_is_sent_again(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    proxy.tamper = ReplayAcks()
    await write(alex, "First.")
    await sync(alex)
    await write(alex, "Second.")
    await sync(alex)

    assert finding(alex, "replay").severity.value == "proof"
    assert (await alex.status()).outbox == 1  # not taken as acknowledged

    proxy.tamper = Tamper()
    await sync(alex, blake)
    assert (await alex.status()).outbox == 0
    assert journal(blake) == ["First.", "Second."]


async def test_an_event_served_again_at_another_place_in_the_relays_history_is_replay(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    old = [e for e in blake.events() if e.author == blake.device_id][-1].canonical
    seq = head_seq(blake) + 1
    proxy.tamper = Substitute(by(blake.device_id, seqs={seq}), old, victim=alex.device_id)
    await write(blake, "New news.")
    await sync(blake, alex)

    replay = finding(alex, "replay")
    assert replay.severity.value == "proof"
    assert event_at(alex, blake, seq - 1).hex() in replay.events
    assert "New news." not in journal(alex)

    proxy.tamper = Tamper()
    await sync(alex)
    assert event_ids(alex) == event_ids(blake)
    assert codes(alex) == [("replay", "proof")]
