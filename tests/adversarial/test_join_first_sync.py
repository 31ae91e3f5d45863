"""``Space.join`` after the invite is redeemed: a failure of its first sync that may
pass (the relay restarting) leaves the join to finish at the next sync; one that
cannot pass (this device was removed) reaches the caller (issue #12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.errors import RelayRefused
from client.keys.vault import CHEAP_COST
from client.space import Space
from schemas.errors import ErrorCode
from schemas.protocol import Error, RelayMessage
from tests.adversarial.proxy import AdversarialProxy, Link, Tamper
from tests.adversarial.story import journal, sync, write
from tests.integration.pairing import PASSPHRASE


class RefuseEveryone(Tamper):
    """The relay answers every session with one error instead of its challenge."""

    def __init__(self, code: ErrorCode) -> None:
        self.code = code

    async def to_client(self, link: Link, message: RelayMessage) -> list[RelayMessage]:
        return [Error(code=self.code.value, detail="refused by the test relay")]


async def invited(tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]) -> str:
    alex = await Space.create(
        tmp_path / "alex",
        relay_url=proxy.url,
        name="Alex",
        passphrase=PASSPHRASE,
        kdf_cost=CHEAP_COST,
    )
    opened.append(alex)
    await write(alex, "Before Blake joined.")
    return await alex.invite()


async def join_blake(tmp_path: Path, code: str) -> Space:
    return await Space.join(
        tmp_path / "blake", code=code, name="Blake", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    )


async def test_a_removed_device_hears_it_from_join_itself(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    code = await invited(tmp_path, proxy, opened)
    proxy.tamper = RefuseEveryone(ErrorCode.DEVICE_REVOKED)

    with pytest.raises(RelayRefused) as caught:
        await join_blake(tmp_path, code)
    assert caught.value.code == ErrorCode.DEVICE_REVOKED

    # The redeemed device was saved (and its store closed): it opens and, once the
    # relay lets it in, finishes joining; nothing is lost.
    proxy.tamper = Tamper()
    blake = await Space.open(tmp_path / "blake", passphrase=PASSPHRASE)
    opened.append(blake)
    assert not blake.joined
    await sync(blake)
    assert blake.joined
    assert journal(blake) == ["Before Blake joined."]


async def test_a_relay_restarting_during_join_leaves_it_for_the_next_sync(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    code = await invited(tmp_path, proxy, opened)
    proxy.tamper = RefuseEveryone(ErrorCode.SHUTTING_DOWN)

    blake = await join_blake(tmp_path, code)
    opened.append(blake)
    assert not blake.joined

    proxy.tamper = Tamper()
    await sync(blake)
    assert blake.joined
    assert journal(blake) == ["Before Blake joined."]
