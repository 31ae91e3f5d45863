"""Checking the signatures of a long catch-up in a child process.

Why a process and not more threads: a thread checking signatures releases the GIL for
each one (libsodium through ctypes) but needs it back for a few microseconds in between,
and the thread admitting the page holds it most of the time. Traced on a 30,000-event
join (bench/catchup.py), the admitting thread spent half of the join waiting for the
next part's signatures, which the checking threads could not finish for want of the
GIL. A child process has an interpreter of its own: it checks a page's signatures on
the other core while this process admits, and neither waits for the other.

Only public data crosses the pipe: the envelopes as the relay served them (ciphertext,
signatures, public keys), and one byte per envelope back (client/keys/signature_child.py).

The child is an optimisation and nothing depends on it. An envelope it does not vouch
for goes through the full check at admission (``LogVerifier.admit``), which rejects it
with the proper reason; if the child cannot start, dies, or answers out of shape,
every request still open fails with :class:`WorkerGone` and the caller checks on
threads as before (``client.keys.signatures.valid_signatures``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections import deque
from pathlib import Path

import msgspec

import schemas

CLOSE_TIMEOUT_S = 2.0
ANSWER_TIMEOUT_S = 10.0
"""A part of a page takes the child milliseconds; one unanswered this long means the
child is stuck (stopped, starved): the caller abandons it and checks on threads."""

_encode_request = msgspec.msgpack.Encoder().encode


class WorkerGone(Exception):
    """The child process is not there (any more); check on threads instead."""


def _package_root() -> Path:
    return Path(schemas.__file__).resolve().parent.parent


def _child_environment() -> dict[str, str]:
    """The parent's environment, with this copy of the packages first on the path: the
    child must import the very code this process runs, wherever it was started from."""
    root = str(_package_root())
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


class SignatureWorker:
    """One child process; requests are answered in the order they were made."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._waiting: deque[tuple[asyncio.Future[set[bytes]], list[bytes]]] = deque()
        self._gone = False
        self._reader = asyncio.create_task(self._read_answers(), name="trellis-signatures")

    @classmethod
    async def start(cls) -> SignatureWorker | None:
        """A running worker, or None where no child process can be started here (a
        frozen build, whose executable is the app itself, not Python)."""
        if getattr(sys, "frozen", False):
            return None
        try:
            # -P: the working directory is NOT put first on the child's path, so no
            # client/keys/signature_child.py lying in it (another checkout, a folder
            # others can write to) can answer for ours and vouch for bad signatures.
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-P",
                "-m",
                "client.keys.signature_child",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                env=_child_environment(),
                cwd=str(_package_root()),
            )
        except (OSError, ValueError):
            return None
        return cls(process)

    @property
    def alive(self) -> bool:
        return not self._gone

    def check(self, envelopes: list[bytes]) -> asyncio.Future[set[bytes]]:
        """The envelopes (by their bytes) whose signature verifies, once the child has
        checked them; requests made before this one are answered first. Fails with
        WorkerGone if the child is gone."""
        future: asyncio.Future[set[bytes]] = asyncio.get_running_loop().create_future()
        stdin = self._process.stdin
        if self._gone or stdin is None or stdin.is_closing():
            future.set_exception(WorkerGone())
            return future
        body = _encode_request(envelopes)
        # No drain: what is written is one page the relay already sent, held in memory
        # anyway, and the child reads it as fast as it checks.
        stdin.write(len(body).to_bytes(4, "big") + body)
        self._waiting.append((future, envelopes))
        return future

    def abandon(self) -> None:
        """Give up on a child that stopped answering: kill it; every open request fails
        with WorkerGone (its reader sees the pipe close)."""
        self._gone = True
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()

    async def close(self) -> None:
        """End the child: close its input (it exits), then wait a little, then kill."""
        self._fail_waiting()
        stdin = self._process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def _read_answers(self) -> None:
        stdout = self._process.stdout
        try:
            while stdout is not None:
                header = await stdout.readexactly(4)
                answer = await stdout.readexactly(int.from_bytes(header, "big"))
                if not self._waiting:
                    break  # an answer nobody asked for: stop trusting the child
                future, envelopes = self._waiting.popleft()
                if len(answer) != len(envelopes):
                    future.set_exception(WorkerGone())
                    break
                if not future.done():
                    future.set_result({e for e, ok in zip(envelopes, answer, strict=True) if ok})
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._fail_waiting()

    def _fail_waiting(self) -> None:
        self._gone = True
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(WorkerGone())
