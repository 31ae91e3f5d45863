"""Issue #13: ``make run`` says it is installing (and roughly how long that takes) on
first use, and on a busy port says the port is taken without first printing
"listening"."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from server.startup import EXIT_PORT_BUSY
from tests.integration.relay_process import REPO_ROOT

MAKE = shutil.which("make")  # the README's first command needs it: a required tool


def make(*args: str) -> subprocess.CompletedProcess[str]:
    assert MAKE is not None
    return subprocess.run(
        [MAKE, "--no-print-directory", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_first_make_run_says_it_is_installing_and_roughly_how_long_before_it_starts() -> None:
    # -W: as if requirements.lock had just changed (a first use, or an update); -n shows
    # what make would run, in order, without running it.
    planned = make("-n", "-W", "requirements.lock", "run").stdout.splitlines()
    venv = next(i for i, line in enumerate(planned) if "-m venv" in line)
    said = " ".join(line for line in planned[:venv] if line.startswith("echo "))
    assert "Installing Trellis" in said
    assert "one to three minutes" in said
    assert any("trellis-relay" in line for line in planned[venv:])


def test_a_second_make_run_on_a_busy_port_says_the_port_is_taken_and_never_listening(
    tmp_path: Path,
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # OPERATOR_PORT=0: only the port under test (another relay may hold 8766).
        result = make("run", f"PORT={port}", f"DB={tmp_path / 'relay.db'}", "OPERATOR_PORT=0")
    output = result.stdout + result.stderr
    assert f"port {port} on 127.0.0.1 is in use by another program" in output
    assert "listening" not in output
    assert "Installing" not in output  # .venv is in place: nothing to install
    assert f"Error {EXIT_PORT_BUSY}" in result.stderr  # make reports the relay's exit code
