"""A push altered on its way to the relay (docs/THREAT_MODEL.md §6): the relay verifies
every envelope's signature, the pushing device's own included, so it refuses the altered
one with ``bad_signature`` and stores nothing of that push. The device keeps its outbox,
the next sync delivers the genuine envelope, and nobody holds a false proof against the
honest relay."""

from __future__ import annotations

from pathlib import Path

from client.space import Space
from schemas.envelope import decode_envelope
from schemas.protocol import ClientMessage, Push
from tests.adversarial.proxy import AdversarialProxy, Link, Tamper
from tests.adversarial.story import codes, event_ids, head_seq, journal, partners, sync, write


class FlipInPush(Tamper):
    """Flip one bit in the signature of ``author``'s envelope at ``seq``, once, as the
    push carrying it goes to the relay (a network fault or a buggy middlebox)."""

    def __init__(self, author: bytes, seq: int) -> None:
        self.author = author
        self.seq = seq
        self.hits = 0

    async def to_relay(self, link: Link, message: ClientMessage) -> list[ClientMessage]:
        if self.hits or not isinstance(message, Push):
            return [message]
        envelopes = list(message.envelopes)
        for index, data in enumerate(envelopes):
            env = decode_envelope(data)
            if env.author == self.author and env.seq == self.seq:
                flipped = bytearray(data)
                flipped[-1] ^= 0x01
                envelopes[index] = bytes(flipped)
                self.hits += 1
        return [Push(req=message.req, envelopes=envelopes)]


async def test_a_push_altered_on_its_way_is_refused_and_the_next_sync_delivers_it(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    seq = head_seq(blake) + 1
    tamper = FlipInPush(blake.device_id, seq)
    proxy.tamper = tamper
    await write(blake, "I called my sponsor tonight.")
    report = await blake.sync(timeout_s=30)
    assert tamper.hits == 1
    assert report.refused == ["bad_signature"]

    # The outbox kept the genuine envelope: the next sync delivers it, unchanged.
    await sync(blake, alex)
    assert "I called my sponsor tonight." in journal(alex)
    assert event_ids(alex) == event_ids(blake)
    # The relay never stored the altered bytes, so nobody holds a proof against it.
    assert codes(alex) == []
    assert codes(blake) == []
