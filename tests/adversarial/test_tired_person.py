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
import json
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from client.errors import ClientErrorCode, HomeError, InviteCodeError, TrellisError
from client.keys import crypto, unlock
from client.keys.vault import CHEAP_COST
from client.space import Space
from client.space.opening import parse_code
from client.store import home_lock
from client.store.home_lock import home_write_lock
from schemas.errors import ErrorCode
from schemas.payloads import JournalEntry
from tests.adversarial.proxy import AdversarialProxy, Tamper
from tests.adversarial.story import codes, journal, partners, sync, write
from tests.adversarial.test_join_first_sync import RefuseEveryone
from tests.integration.cli import PASSPHRASE as CLI_PASSPHRASE
from tests.integration.cli import TRELLIS, pair_homes, run, run_async, trellis_env
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


async def test_a_window_that_wrote_after_reading_more_is_followed_by_the_other(
    tmp_path: Path, relay: RelayProcess, opened: list[Space]
) -> None:
    """The second window syncs (it now holds Blake's newest entry) and writes; its
    event depends on that entry, which the first window has not read. The first window
    takes what the second stored, in order, and writes after it."""
    alex, blake = await partners(tmp_path, relay.url, opened)
    second = await Space.open(alex.home, passphrase=PASSPHRASE)
    opened.append(second)
    await write(blake, "Blake, meanwhile")
    await sync(blake, second)
    await write(second, "answering Blake")

    await write(alex, "from the first window, later")
    await sync(alex, second, blake)

    assert "Blake, meanwhile" in journal(alex)
    assert {"answering Blake", "from the first window, later"} <= set(journal(blake))
    assert codes(alex) == []
    assert codes(blake) == []


async def test_a_write_while_a_page_is_on_its_way_to_the_disk_is_not_taken_for_another_window(
    tmp_path: Path, relay: RelayProcess, opened: list[Space]
) -> None:
    """The first window has admitted Blake's entry in memory (a page written behind, not
    yet in its events) when it writes after the second window stored that entry too:
    the entry is already here, not a sign of being behind ("close this window")."""
    alex, blake = await partners(tmp_path, relay.url, opened)
    second = await Space.open(alex.home, passphrase=PASSPHRASE)
    opened.append(second)
    await write(blake, "Blake, meanwhile")
    await sync(blake, second)
    await write(second, "answering Blake")
    blakes = next(
        e
        for e in second.events()
        if isinstance(e.payload, JournalEntry) and e.payload.text == "Blake, meanwhile"
    )
    assert alex._state.verifier.admit(blakes.canonical, trusted=True).event is not None

    await write(alex, "from the first window, later")
    await sync(alex, second, blake)

    assert own_seqs(alex) == own_seqs(second)
    assert {"answering Blake", "from the first window, later"} <= set(journal(blake))
    assert codes(alex) == []
    assert codes(blake) == []


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


async def test_two_windows_finishing_one_join_write_member_joined_once(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    """Blake's join waits for its first sync (the relay was down). Two windows then
    sync at once and both finished the join: two ``member_joined`` at seq 1."""
    alex = await Space.create(
        tmp_path / "alex",
        relay_url=proxy.url,
        name="Alex",
        passphrase=PASSPHRASE,
        kdf_cost=CHEAP_COST,
    )
    opened.append(alex)
    code = await alex.invite()
    proxy.tamper = RefuseEveryone(ErrorCode.SHUTTING_DOWN)
    blake = await Space.join(
        tmp_path / "blake", code=code, name="Blake", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    )
    opened.append(blake)
    second = await Space.open(blake.home, passphrase=PASSPHRASE)
    opened.append(second)
    assert not blake.joined
    assert not second.joined
    proxy.tamper = Tamper()

    await asyncio.gather(sync(blake), sync(second))
    await sync(blake, second, alex)

    assert blake.joined
    assert second.joined
    assert own_seqs(blake) == own_seqs(second) == [1]
    assert codes(alex) == []
    assert codes(blake) == []
    assert codes(second) == []


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


# --- Ctrl-C in the middle of a sync ---------------------------------------------------


def our_traceback(stderr: str) -> bool:
    """A Python traceback from a command Trellis had started to run (every one passes
    through ``client.cli.main``). A Ctrl-C in the interpreter's first tenths of a second,
    while it starts or imports the entry point's module, is Python's own and is left."""
    return re.search(r'client/cli/__init__\.py", line \d+, in main', stderr) is not None


def test_ctrl_c_while_the_command_loads_is_one_calm_line_not_a_traceback(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """Loading the command line's library takes a few tenths of a second; a Ctrl-C then
    printed a Python traceback (KeyboardInterrupt in an import)."""
    alex, _ = pair_homes(tmp_path, relay.url)
    seen: list[tuple[float, int, str]] = []
    for step in range(14):
        delay = 0.05 + step * 0.03
        process = subprocess.Popen(
            [TRELLIS, "--home", str(alex), "status"],
            env=trellis_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        seen.append((delay, process.returncode, err))

    assert [(d, code, err) for d, code, err in seen if our_traceback(err)] == []
    assert any(code == 130 and err.strip() == "trellis: stopped." for _, code, err in seen), [
        (d, code) for d, code, _ in seen
    ]


INTERRUPT_AFTER_S = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.8)
"""When Ctrl-C comes: during start-up, unlock, sign-in, and the pages of a catch-up
(a sync starts in ~0.4 s here; catching up 600 entries takes a few tenths more)."""


def test_ctrl_c_at_any_moment_of_a_sync_loses_nothing_and_says_one_calm_line(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex, blake = pair_homes(tmp_path, relay.url)
    run(alex, "journal", "add", "written before the interrupted syncs")
    texts: list[str] = []

    outcomes = []
    for round_number, delay in enumerate(INTERRUPT_AFTER_S):
        batch = [f"round {round_number}, entry {i}" for i in range(600)]
        run_async(_write_many(blake, batch))
        texts += batch
        process = subprocess.Popen(
            [TRELLIS, "--home", str(alex), "sync"],
            env=trellis_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        outcomes.append(process.returncode)
        assert not our_traceback(err), (delay, err)
        # -2: the signal came as the interpreter was ending, after the command's work;
        # a shell shows it as 130, like an interrupt the command caught.
        assert process.returncode in (0, 130, -signal.SIGINT), (delay, process.returncode, err)
        if process.returncode == 130:
            assert err.strip().splitlines()[-1] == "trellis: stopped.", err

    run(alex, "sync")
    status = json.loads(run(alex, "status", "--json").stdout)
    listed = {e["text"] for e in json.loads(run(alex, "journal", "list", "--json").stdout)}
    run(blake, "sync")

    assert 130 in outcomes, f"no Ctrl-C came while the command worked: {outcomes}"
    assert status["integrity"] == "ok"
    assert status["rejected"] == 0
    assert status["outbox"] == 0
    assert set(texts) <= listed
    assert "written before the interrupted syncs" in {
        e["text"] for e in json.loads(run(blake, "journal", "list", "--json").stdout)
    }
    assert run(alex, "verify", check=False).returncode == 0


async def _write_many(home: Path, texts: list[str]) -> None:
    async with await Space.open(home, passphrase=CLI_PASSPHRASE) as space:
        for text in texts:
            await space.append(JournalEntry(text=text))
        await space.sync()
