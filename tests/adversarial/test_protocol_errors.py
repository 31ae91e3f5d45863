"""A relay that breaks the protocol is not reported as a relay that refused
(client/store/transport.py, docs/PROTOCOL.md §8.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.errors import ClientErrorCode, RelayProtocolError, RelayRefused
from client.space import Space
from schemas.protocol import Acked, Page, RelayMessage
from tests.adversarial.proxy import AdversarialProxy, Link, Tamper
from tests.adversarial.story import journal, partners, sync, write


class AckOutOfTurn(Tamper):
    """Before a page, an acknowledgement for a push the device never made."""

    async def to_client(self, link: Link, message: RelayMessage) -> list[RelayMessage]:
        if isinstance(message, Page):
            return [Acked(req=987_654, acks=[]), message]
        return [message]


async def test_a_message_out_of_turn_is_a_protocol_error_not_a_refusal(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    await write(alex, "Still here.")
    await sync(alex)
    proxy.tamper = AckOutOfTurn()

    with pytest.raises(RelayProtocolError) as caught:
        await sync(blake)
    assert not isinstance(caught.value, RelayRefused)
    assert caught.value.code == ClientErrorCode.UNEXPECTED_RELAY_MESSAGE
    assert "does not know" not in caught.value.message
    assert "nothing was lost" in caught.value.message

    proxy.tamper = Tamper()
    await sync(blake)
    assert journal(blake) == ["Still here."]
