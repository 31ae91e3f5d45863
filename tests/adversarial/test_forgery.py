"""Forged, corrupted and moved envelopes: proof that stays, on the partner who got them;
the genuine event still arrives, and nothing forged is ever shown."""

from __future__ import annotations

import shutil
from pathlib import Path

import msgspec
import pytest

from client.space import Space
from schemas.envelope import decode_envelope, encode_envelope
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
from tests.adversarial.tampers import Corrupt, Substitute, by
from tests.integration.pairing import PASSPHRASE, pair


async def test_a_changed_byte_is_proof_on_the_partner_and_the_genuine_event_follows(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    seq = head_seq(blake) + 1
    proxy.tamper = Corrupt(by(blake.device_id, seqs={seq}), victim=alex.device_id)
    await write(blake, "A hard day, but I stayed sober.")
    await sync(blake, alex)

    forged = finding(alex, "forged_event")
    assert forged.severity.value == "proof"
    assert "signature does not match" in forged.message
    assert "A hard day, but I stayed sober." not in journal(alex)
    assert codes(blake) == []

    proxy.tamper = Tamper()
    await sync(alex)  # the relay's seq that held bad bytes is read once more

    assert journal(alex) == journal(blake)
    assert event_ids(alex) == event_ids(blake)
    assert codes(alex) == [("forged_event", "proof")]  # proof stays


def _other_epoch(envelope: bytes) -> bytes:
    env = decode_envelope(envelope)
    return encode_envelope(msgspec.structs.replace(env, epoch=env.epoch + 1))


@pytest.mark.parametrize("where", ["another space", "another epoch"])
async def test_an_envelope_moved_elsewhere_is_refused_as_forged(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space], where: str
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    if where == "another space":
        casey, drew = await pair(tmp_path / "other", proxy.url)
        moved = casey.events()[-1].canonical
        await casey.close()
        await drew.close()
    else:
        moved = _other_epoch(blake.events()[-1].canonical)
    seq = head_seq(blake) + 1
    proxy.tamper = Substitute(by(blake.device_id, seqs={seq}), moved, victim=alex.device_id)
    await write(blake, "Therapy went well.")
    await sync(blake, alex)

    forged = finding(alex, "forged_event")
    assert forged.severity.value == "proof"
    assert "another shared space" in forged.message or "signature" in forged.message
    assert "Therapy went well." not in journal(alex)

    proxy.tamper = Tamper()
    await sync(alex)
    assert journal(alex) == journal(blake)


async def test_two_histories_signed_by_one_device_are_proof_of_equivocation(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    opened.remove(blake)
    await blake.close()  # copy the device's whole folder, as a restore or a thief would
    shutil.copytree(tmp_path / "blake", tmp_path / "blake-copy")
    blake = await Space.open(tmp_path / "blake", passphrase=PASSPHRASE)
    opened.append(blake)
    copy = await Space.open(tmp_path / "blake-copy", passphrase=PASSPHRASE)
    seq = head_seq(blake) + 1
    await write(blake, "The real entry.")
    await write(copy, "Written by a copy of Blake's device.")
    fork = copy.events()[-1]
    assert fork.envelope.seq == seq
    await copy.close()
    await sync(blake, alex)
    await write(blake, "And the next one.")
    await sync(blake)
    # The relay serves the copy's version in the place of Blake's next event.
    proxy.tamper = Substitute(by(blake.device_id, seqs={seq + 1}), fork.canonical)
    await sync(alex)

    equivocation = finding(alex, "equivocation")
    assert equivocation.severity.value == "proof"
    assert set(equivocation.events) == {fork.event_id.hex(), event_at(alex, blake, seq).hex()}
    assert "Written by a copy of Blake's device." not in journal(alex)

    proxy.tamper = Tamper()
    await sync(alex)
    assert journal(alex) == journal(blake)
    assert ("equivocation", "proof") in codes(alex)
