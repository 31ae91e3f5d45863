"""The relay under test: the real ``python -m server`` in its own process, on loopback."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from server.settings import settings_table
from tests.integration.relay_process import RelayProcess

LOOPBACK_OVERRIDES = {
    "max_connections_per_address": "0",
    "redeem_attempts_per_address": "0",
    "max_pushes_per_s": "1000000",
}
"""Every other setting is the relay's default, what a self-hoster gets from ``make run``.
These limits are policy, not capacity: every simulated device dials from 127.0.0.1, and
the load generator pushes as fast as acks come back, so they would measure the limits
instead of the relay. Settings this relay version does not have are left out."""


def relay_args(overrides: dict[str, str]) -> list[str]:
    known = {info.name: info.flag for info in settings_table()}
    return [
        arg for name, value in overrides.items() if name in known for arg in (known[name], value)
    ]


PROFILE_ENV = "TRELLIS_BENCH_PYSPY"
"""Set to a folder to record the relay with py-spy (collapsed stacks, one file a run)."""


@contextlib.contextmanager
def running_relay(db: Path) -> Iterator[RelayProcess]:
    relay = RelayProcess(db, extra_args=relay_args(LOOPBACK_OVERRIDES)).start()
    profiler = _start_profiler(relay, db.stem)
    try:
        yield relay
    finally:
        relay.stop()
        if profiler is not None:
            profiler.wait(timeout=60)


def _start_profiler(relay: RelayProcess, name: str) -> subprocess.Popen[bytes] | None:
    folder = os.environ.get(PROFILE_ENV)
    if not folder:
        return None
    out = Path(folder) / f"{name}.txt"
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    # Non-blocking sampling barely slows the relay; --native would show libsodium and
    # uvloop frames but pauses the process at every sample.
    command = [py_spy, "record", "--format", "raw", "--rate", "250", "--threads"]
    command += ["--nonblocking", "-o", str(out), "-p", str(pid_of(relay))]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pid_of(relay: RelayProcess) -> int:
    if relay.proc is None:
        raise RuntimeError("the relay is not running")
    return relay.proc.pid


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MiB (VmRSS in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
