"""Run the real relay as a child process on a free loopback port, for tests and benches."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

READY_TIMEOUT_S = 60.0
"""Start-up on a loaded machine can take many seconds; a healthy relay returns at once."""
PORT_IN_USE = 4
"""The relay's exit status when a port is taken (server/cli.py)."""
REPO_ROOT = Path(__file__).resolve().parents[2]


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
"""The ports Linux hands to outgoing connections (and to a bind to port 0)."""
LOWEST_PORT = 10_000


def free_port() -> int:
    """A loopback port nothing listens on now, for a process started next.

    Picked below the system's range for outgoing connections: a port from that range
    (what binding to port 0 gives) can be taken by any client socket between this check
    and the relay binding it, or while a test restarts the relay on it, and the relay
    then fails to start ("port in use") or, worse, the health check reaches another
    worker's relay. Random, so parallel test workers rarely try the same one."""
    low = _ephemeral_low()
    for _ in range(100):
        port = random.randrange(LOWEST_PORT, low) if low > LOWEST_PORT + 1000 else 0
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free loopback port below the outgoing range")


def _ephemeral_low() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class RelayProcess:
    """``python -m server`` on 127.0.0.1 with its own SQLite file."""

    def __init__(
        self,
        db: Path,
        extra_args: list[str] | None = None,
        port: int | None = None,
        *,
        database_url: str | None = None,
    ) -> None:
        """``db`` names the SQLite file (and the log beside it); with ``database_url``
        (PostgreSQL) the relay stores there instead and ``db`` only places the log."""
        self.db = db
        self.database_url = database_url
        self.port = port or free_port()
        self.operator_port = free_port()
        self._may_move = port is None
        """Whether a first start may move to other ports when these were taken."""
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = db.with_suffix(".log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    http_url = url

    @property
    def operator_url(self) -> str:
        """The operator listener (metrics, admin), never the public port."""
        return f"http://127.0.0.1:{self.operator_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/sync"

    def start(self, preexec_fn: Callable[[], None] | None = None) -> RelayProcess:
        """Start the relay and return once it answers its health check. A first start
        whose ports were taken meanwhile (exit status 4) tries other ones; a restart
        keeps its address, which the test's devices hold."""
        for _ in range(3):
            if self._launch(preexec_fn) != PORT_IN_USE or not self._may_move:
                break
            self.port, self.operator_port = free_port(), free_port()
        else:
            raise RuntimeError(f"relay found its ports taken three times:\n{self.log()}")
        self._may_move = False
        return self

    def _launch(self, preexec_fn: Callable[[], None] | None) -> int | None:
        """None once healthy; the exit status if it stopped first."""
        log = self.log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--db",
                self.database_url or str(self.db),
                "--operator-port",
                str(self.operator_port),
                # Every test creates its spaces from 127.0.0.1; a test of this limit
                # sets it again in extra_args (the last flag wins).
                "--max-spaces-per-address",
                "0",
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO_ROOT,
            preexec_fn=preexec_fn,
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if (code := self.proc.poll()) is not None:
                if code == PORT_IN_USE and self._may_move:
                    self.proc = None
                    return code
                raise RuntimeError(f"relay exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as resp:
                    # Still running: the answer came from this relay, not another on the port.
                    if resp.status == 200 and self.proc.poll() is None:
                        return None
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"relay did not become healthy:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: the harshest crash, no cleanup at all."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)  # a drain may finish in-flight commits first
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        code = self.proc.returncode
        self.proc = None
        return code

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def files(self) -> list[Path]:
        """Every file the relay wrote: the database, its WAL and shared memory, its log."""
        base = self.db
        return [
            p for p in (base, Path(f"{base}-wal"), Path(f"{base}-shm"), self.log_path) if p.exists()
        ]
