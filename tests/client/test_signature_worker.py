"""Signatures of a long catch-up checked in a child process (client/keys/signature_worker.py,
client/keys/signature_child.py): the same answers as the threads, in order, and nothing
lost or wrongly trusted when the child is missing, dies or answers out of shape."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
from pathlib import Path

import pytest

from client.keys import signature_child, signatures
from client.keys.signature_worker import SignatureWorker, WorkerGone
from client.space import Space, SyncReport, admitting
from tests.client.builders import entry, paired
from tests.integration.cli import PASSPHRASE
from tests.integration.offline_home import make_home
from tests.integration.test_pipelined_admission import _page


def _flip_signature(data: bytes) -> bytes:
    forged = bytearray(data)
    forged[-1] ^= 1  # the last byte is in the signature
    return bytes(forged)


def _envelopes(count: int) -> list[bytes]:
    pair = paired()
    return [entry(pair.alex, f"Entry {n}.").data for n in range(count)]


def _request(envelopes: list[bytes]) -> bytes:
    import msgspec

    body = msgspec.msgpack.encode(envelopes)
    return len(body).to_bytes(4, "big") + body


async def _started() -> SignatureWorker:
    worker = await SignatureWorker.start()
    assert worker is not None
    return worker


# --- the child, in this process ------------------------------------------------------


def test_the_child_answers_one_byte_per_envelope_as_the_threads_do() -> None:
    page = _envelopes(5)
    page[2] = _flip_signature(page[2])
    page.append(b"not an envelope")
    answers = io.BytesIO()
    assert signature_child.serve(io.BytesIO(_request(page)), answers) == 0
    out = answers.getvalue()
    assert int.from_bytes(out[:4], "big") == len(page)
    assert list(out[4:]) == [1, 1, 0, 1, 1, 0]
    assert {e for e, ok in zip(page, out[4:], strict=True) if ok} == signatures.valid_signatures(
        page
    )


@pytest.mark.parametrize(
    "request_bytes",
    [
        (64 * 1024 * 1024 + 1).to_bytes(4, "big"),  # more than any page
        (3).to_bytes(4, "big") + b"\xc1\xc1\xc1",  # not msgpack
        (1).to_bytes(4, "big") + b"\x05",  # msgpack, but no list of bytes
    ],
)
def test_the_child_stops_on_a_request_it_cannot_read(request_bytes: bytes) -> None:
    answers = io.BytesIO()
    assert signature_child.serve(io.BytesIO(request_bytes), answers) == 2
    assert answers.getvalue() == b""


def test_the_child_ends_quietly_when_its_input_closes_mid_request() -> None:
    assert signature_child.serve(io.BytesIO(_request(_envelopes(2))[:-3]), io.BytesIO()) == 0


# --- the worker, with a real child process ---------------------------------------------


async def test_requests_are_answered_in_order_with_the_threads_answers() -> None:
    worker = await _started()
    try:
        first, second = _envelopes(30), _envelopes(40)
        second[5] = _flip_signature(second[5])
        answers = await asyncio.gather(worker.check(first), worker.check(second))
        assert answers == [signatures.valid_signatures(first), signatures.valid_signatures(second)]
        assert second[5] not in answers[1]
        assert len(answers[1]) == 39
    finally:
        await worker.close()
    assert worker._process.returncode == 0


async def test_a_child_that_dies_fails_every_open_request_and_every_later_one() -> None:
    worker = await _started()
    try:
        waiting = worker.check(_envelopes(200))
        worker._process.kill()
        with pytest.raises(WorkerGone):
            await waiting
        with pytest.raises(WorkerGone):
            await worker.check(_envelopes(1))
        assert not worker.alive
    finally:
        await worker.close()


async def test_no_worker_where_no_child_process_can_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    assert await SignatureWorker.start() is None


# --- admission through the worker ------------------------------------------------------


async def _admit(home: Path, worker: SignatureWorker | None) -> tuple[int, int, list[str]]:
    served, blake = _page()
    await make_home(home, blake)
    space = await Space.open(home, passphrase=PASSPHRASE)
    report = SyncReport()
    try:
        await admitting.receive(
            space._state, [(data, n) for n, data in enumerate(served, 1)], report, worker=worker
        )
        texts = sorted(item.text for item in space.journal())
    finally:
        await space.close()
    return report.received, report.rejected, texts


async def test_a_page_checked_by_the_child_is_admitted_as_one_checked_on_threads(
    tmp_path: Path,
) -> None:
    on_threads = await _admit(tmp_path / "threads", None)
    worker = await _started()
    try:
        by_child = await _admit(tmp_path / "child", worker)
    finally:
        await worker.close()
    assert by_child == on_threads
    received, rejected, texts = by_child
    assert rejected == 1  # the forged signature, whoever checked it
    assert received == 3 + 120
    assert texts == sorted(f"Entry {n}." for n in range(120))


async def test_a_child_that_dies_mid_page_leaves_the_rest_to_the_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = await _started()
    check = worker.check
    calls = 0

    def dying(envelopes: list[bytes]) -> asyncio.Future[set[bytes]]:
        nonlocal calls
        calls += 1
        if calls == 2:
            worker._process.kill()  # after the first part's request went out
        return check(envelopes)

    monkeypatch.setattr(worker, "check", dying)
    try:
        by_dying_child = await _admit(tmp_path / "dying", worker)
    finally:
        await worker.close()
    assert calls == 3  # 253 envelopes: parts of 100, 100, 53
    assert by_dying_child == await _admit(tmp_path / "threads", None)


async def test_a_child_that_stops_answering_is_abandoned_and_the_threads_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stuck child (here: stopped) must not stall a catch-up: after ANSWER_TIMEOUT_S
    the part goes to the threads, the child is killed, and the rest follows."""
    monkeypatch.setattr(admitting, "ANSWER_TIMEOUT_S", 0.5)
    worker = await _started()
    os.kill(worker._process.pid, signal.SIGSTOP)
    try:
        by_stuck_child = await asyncio.wait_for(_admit(tmp_path / "stuck", worker), 30)
        assert not worker.alive
    finally:
        await worker.close()
    assert worker._process.returncode == -signal.SIGKILL
    assert by_stuck_child == await _admit(tmp_path / "threads", None)


async def test_a_signature_child_in_the_working_directory_is_never_the_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m`` would put the working directory first on the child's path: a
    client/keys/signature_child.py lying there (another checkout, a folder others can
    write to) that vouches for everything must not be the one that answers."""
    fake = tmp_path / "client" / "keys"
    fake.mkdir(parents=True)
    for package in (tmp_path / "client", fake):
        (package / "__init__.py").write_text("")
    (fake / "signature_child.py").write_text(
        "import sys\n"
        "while (h := sys.stdin.buffer.read(4)):\n"
        "    n = sys.stdin.buffer.read(int.from_bytes(h, 'big'))[0] & 0x0F\n"  # fixarray
        "    sys.stdout.buffer.write(n.to_bytes(4, 'big') + bytes([1]) * n)\n"
        "    sys.stdout.buffer.flush()\n"
    )
    monkeypatch.chdir(tmp_path)
    worker = await _started()
    try:
        unsigned = [_flip_signature(e) for e in _envelopes(3)]
        assert await worker.check(unsigned) == set()
    finally:
        await worker.close()
