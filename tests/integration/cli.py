"""Run ``trellis`` as a person would: its command line, environment, stdin and exit code.

Most test commands run *in this process* (:func:`run_in_process`): the CLI's entry
function (``client.cli.main``) gets the same argv, environment and stdin a ``trellis``
process would, in a thread of its own with its own event loop, and its stdout, stderr and
exit code come back as the :class:`subprocess.CompletedProcess` a real run returns. A
real process costs ~0.5-1 s of interpreter and import start-up per command; the CLI
suites run hundreds of commands, so that start-up was most of their time.

A real ``trellis`` process is still what runs:

* in every test marked ``cli_process`` (tests that are about the process: exit codes
  after signals, closed pipes, prompts, the real key-derivation cost; see the marker in
  pyproject.toml), and in every test when ``TRELLIS_TEST_CLI=process`` is set;
* for ``run(..., process=True)``;
* and in test_cli_in_process.py, which runs a sample of every command group both ways
  and checks the results are the same.

What a process has of its own and the CLI reads is set up for each in-process run and
put back after it: ``os.environ`` (the passphrase, ``TRELLIS_CA_FILE`` the CLI may set),
the local time zone (``TZ``, read again with ``time.tzset``), ``sys.stdin`` /
``sys.stdout`` / ``sys.stderr``, and ``sys.argv``. The CLI itself is not
changed for the tests: ``client.cli.main(argv)`` is its ordinary entry point.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from client.keys.vault import CHEAP_COST
from client.space import Space

TRELLIS = str(Path(sys.executable).with_name("trellis"))
PASSPHRASE = "a long and private passphrase"
FOR_THERAPIST = (
    "--for",
    "Dr. Rivera",
    "--purpose",
    "our next session",
    "--until",
    (date.today() + timedelta(days=30)).isoformat(),
)
"""Whom an export is for, why and until when (docs/PROTOCOL.md "Exports", "Consent")."""

TIMEOUT_S = 120
MODE_ENV = "TRELLIS_TEST_CLI"
"""``TRELLIS_TEST_CLI=process`` runs every command as a real process (a slower run that
checks nothing depends on running in-process)."""

_process_only = {"on": False}
_one_at_a_time = threading.Lock()
"""The process-wide state an in-process run borrows (environment, standard streams) is
one per process: two in-process runs at once (a test's threads) take turns."""


def run(
    home: Path,
    *args: str,
    passphrase: str = PASSPHRASE,
    stdin: str | None = None,
    check: bool = True,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``trellis --home HOME ARGS...`` with ``TRELLIS_PASSPHRASE`` set; with ``check``,
    a non-zero exit fails the test with the command's stderr."""
    argv = ["--home", str(home), *args]
    env = trellis_env(passphrase)
    if process or real_processes_only():
        result = run_process(argv, env=env, stdin=stdin)
    else:
        result = run_in_process(argv, env=env, stdin=stdin)
    if check:
        assert result.returncode == 0, f"{args} failed: {result.stderr}"
    return result


def run_process(
    argv: Sequence[str], *, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed ``trellis`` console script, as a child process."""
    return subprocess.run(
        [TRELLIS, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_S,
        check=False,
    )


def run_in_process(
    argv: Sequence[str], *, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``client.cli.main(argv)`` in a thread of its own, seeing what a process would.

    Its stdin is ``stdin`` (empty when None, and never a terminal); what it prints is
    read back with universal newlines, as ``text=True`` reads a child's output.
    ``SystemExit`` (argparse on a mistyped command or ``--help``) becomes the exit code a
    process would have had."""
    from client.cli import main  # light; the commands load on first use

    out, err = io.StringIO(), io.StringIO()
    codes: list[int] = []
    failures: list[BaseException] = []

    def call() -> None:
        try:
            codes.append(main(list(argv)))
        except SystemExit as done:
            codes.append(_exit_status(done.code, err))
        except BaseException as exc:
            failures.append(exc)

    with _one_at_a_time, _as_a_process(argv, env, stdin or "", out, err):
        worker = threading.Thread(target=call, name="trellis-in-process", daemon=True)
        worker.start()
        worker.join(TIMEOUT_S)
    if worker.is_alive():
        raise subprocess.TimeoutExpired(["trellis", *argv], TIMEOUT_S)
    if failures:
        raise failures[0]  # main() answers every Exception itself: this is a bug in it
    return subprocess.CompletedProcess(
        ["trellis", *argv], codes[0], _as_read(out.getvalue()), _as_read(err.getvalue())
    )


def _exit_status(code: object, err: io.StringIO) -> int:
    """What a process exiting with ``sys.exit(code)`` reports (Python's own rule)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=err)
    return 1


def _as_read(text: str) -> str:
    """Universal newlines, as ``subprocess.run(..., text=True)`` reads a child's output."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def _as_a_process(
    argv: Sequence[str], env: dict[str, str], stdin: str, out: io.StringIO, err: io.StringIO
) -> Iterator[None]:
    saved_env = dict(os.environ)
    saved = (sys.argv, sys.stdin, sys.stdout, sys.stderr)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()  # the C library reads TZ once, as a process does when it starts
    sys.argv = [TRELLIS, *argv]
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        yield
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
        os.environ.clear()
        os.environ.update(saved_env)
        time.tzset()


def real_processes_only() -> bool:
    """Whether ``run`` starts a real process for every command just now."""
    return _process_only["on"] or os.environ.get(MODE_ENV) == "process"


@contextlib.contextmanager
def real_processes() -> Iterator[None]:
    """Every ``run`` inside starts a real ``trellis`` process (the ``cli_process``
    marker, tests/conftest.py). Set for the whole process, not this thread: tests call
    ``run`` from worker threads too (``asyncio.to_thread``)."""
    before = _process_only["on"]
    _process_only["on"] = True
    try:
        yield
    finally:
        _process_only["on"] = before


def trellis_env(passphrase: str = PASSPHRASE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    env["TRELLIS_PASSPHRASE"] = passphrase
    return env


def pair_homes(tmp_path: Path, relay_url: str) -> tuple[Path, Path]:
    """Alex starts a space and invites Blake; both homes then work through the CLI.

    The homes are made by the library (what ``trellis init`` / ``invite`` / ``join`` call)
    with vaults sealed at :data:`~client.keys.vault.CHEAP_COST`: each vault records its
    cost, so every later ``trellis`` command in a test unlocks in milliseconds instead
    of ~1 s of Argon2id. The CLI's own ``init``/``join`` (and the real cost they seal at)
    are tested on their own in test_cli_contract.py."""
    alex, blake = tmp_path / "alex", tmp_path / "blake"
    run_async(_pair_cheaply(alex, blake, relay_url))
    run(alex, "sync")
    return alex, blake


async def _pair_cheaply(alex: Path, blake: Path, relay_url: str) -> None:
    async with await Space.create(
        alex, relay_url=relay_url, name="Alex", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    ) as space:
        code = await space.invite()
    async with await Space.join(
        blake, code=code, name="Blake", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    ) as joined:
        assert joined.joined, "Blake's join should complete in its first sync"


def run_async(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` on a loop of its own, so sync tests and async tests (whose loop is
    already running) can both call the helpers here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, work).result()
