"""A tired person (THREAT_MODEL §22.1, §7.1): two windows on one home folder, an invite
code pasted from a chat app.

**Two windows.** ``trellis sync --watch`` in one terminal and ``trellis signal stop`` in
another, or the app and a command, have one home open at once. Each signed its next
event from the chain head it had loaded, so both signed the same seq: the second write
failed with a raw ``sqlite3.IntegrityError`` (FOREIGN KEY constraint failed), and the
first window then held an ``equivocation`` *proof* against its own device. Now a write
takes the home's lock and first reads what another window wrote.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from client.errors import ClientErrorCode, HomeError, InviteCodeError, TrellisError
from client.keys import crypto, unlock
from client.space import Space
from client.space.opening import parse_code
from client.store import home_lock
from client.store.home_lock import home_write_lock
from tests.adversarial.story import codes, journal, partners, sync, write
from tests.integration.pairing import PASSPHRASE
from tests.integration.relay_process import RelayProcess


def own_seqs(space: Space) -> list[int]:
    return sorted(e.envelope.seq for e in space.events() if e.author == space.device_id)


async def test_two_windows_on_one_home_write_one_after_the_other_without_a_fork(
    tmp_path: Path, relay: RelayProcess, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, relay.url, opened)
    second = await Space.open(alex.home, passphrase=PASSPHRASE)
    opened.append(second)

    await write(second, "from the second window")
    await write(alex, "from the first window")
    await sync(second, alex, blake)

    assert codes(alex) == []
    assert codes(second) == []
    assert codes(blake) == []
    assert {"from the second window", "from the first window"} <= set(journal(blake))
    seqs = own_seqs(alex)
    assert seqs == list(range(1, len(seqs) + 1))


async def test_two_windows_writing_at_the_same_moment_each_write_once_in_one_chain(
    tmp_path: Path, relay: RelayProcess, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, relay.url, opened)
    second = await Space.open(alex.home, passphrase=PASSPHRASE)
    opened.append(second)
    texts = [f"window {w}, entry {i}" for i in range(5) for w in (1, 2)]

    await asyncio.gather(*(write(alex if "window 1" in text else second, text) for text in texts))
    await sync(alex, second, blake)

    assert codes(alex) == []
    assert codes(second) == []
    assert codes(blake) == []
    assert sorted(t for t in journal(blake) if t.startswith("window")) == sorted(texts)
    seqs = own_seqs(second)
    assert seqs == list(range(1, len(seqs) + 1))


async def test_a_write_waiting_too_long_for_another_window_says_so_and_writes_nothing(
    tmp_path: Path, relay: RelayProcess, opened: list[Space], monkeypatch: pytest.MonkeyPatch
) -> None:
    alex, _ = await partners(tmp_path, relay.url, opened)
    monkeypatch.setattr(home_lock, "HOME_LOCK_WAIT_S", 0.2)
    before = own_seqs(alex)

    async with home_write_lock(alex.home):  # another window, in the middle of a write
        with pytest.raises(HomeError) as raised:
            await write(alex, "while the other window writes")

    assert raised.value.code == ClientErrorCode.HOME_IN_USE
    assert "another window" in raised.value.message
    assert own_seqs(alex) == before
    await write(alex, "a moment later")
    assert "a moment later" in journal(alex)


# --- an invite code pasted from somewhere else (THREAT_MODEL §7.1) ------------------


@pytest.mark.parametrize(
    "paste",
    [
        "{code}",
        "{lower}",
        "  {code}\r\n",  # a Windows line end
        "{spaced}",  # groups split by spaces instead of dashes
        "{code}.",  # the full stop of the sentence it ended
        "{code}".replace("-", "\u2011"),  # non-breaking hyphens (chat apps)
        "{code}".replace("-", "\u2013"),  # en dashes (word processors)
        "{code}".replace("-", "\u00a0"),  # no-break spaces
        "{code}".replace("-", "\u200b"),  # zero-width spaces
        "{fullwidth}",
    ],
)
def test_an_invite_code_pasted_from_a_chat_app_or_a_document_is_read(paste: str) -> None:
    secret = crypto.new_invite_secret()
    code = crypto.format_invite_code(secret)
    text = paste.format(
        code=code,
        lower=code.lower(),
        spaced=code.replace("-", " "),
        fullwidth="".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in code),
    )

    assert parse_code(text) == (secret, None)


@pytest.mark.parametrize("damage", [lambda c: c[:-1], lambda c: c + "A", lambda c: "X" + c[1:-1]])
def test_a_code_with_a_character_missing_or_extra_is_still_refused_plainly(damage: Any) -> None:
    code = crypto.format_invite_code(crypto.new_invite_secret())

    with pytest.raises(InviteCodeError) as raised:
        parse_code(damage(code))

    assert raised.value.code == ClientErrorCode.INVALID_INVITE_CODE
    assert code[:8] not in raised.value.message


# --- wrong passphrases, many at once (THREAT_MODEL §22.2) ---------------------------


async def test_wrong_passphrases_tried_in_parallel_are_counted_one_after_the_other(
    tmp_path: Path, relay: RelayProcess, opened: list[Space]
) -> None:
    """Someone at the keyboard starts ten ``trellis status`` at once, each with another
    guess. Each read the back-off before any had counted its failure, so all ten were
    tried: the back-off (3 free tries, then a wait) did not slow parallel guessing."""
    alex, _ = await partners(tmp_path, relay.url, opened)
    await alex.close()
    opened.remove(alex)

    async def guess(number: int) -> str:
        try:
            space = await Space.open(alex.home, passphrase=f"wrong guess {number}")
        except TrellisError as exc:
            return exc.code
        opened.append(space)
        return "opened"

    outcomes = await asyncio.gather(*(guess(n) for n in range(10)))

    assert outcomes.count(ClientErrorCode.WRONG_PASSPHRASE) == unlock.FREE_PASSPHRASE_ATTEMPTS
    assert (
        outcomes.count(ClientErrorCode.PASSPHRASE_RATE_LIMITED)
        == 10 - unlock.FREE_PASSPHRASE_ATTEMPTS
    )
