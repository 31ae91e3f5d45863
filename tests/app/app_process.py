"""A real ``trellis app`` process on a free loopback port, for the browser tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from tests.integration.cli import TRELLIS
from tests.integration.relay_process import REPO_ROOT

READY_TIMEOUT_S = 60.0
"""Start-up on a loaded machine can take many seconds; the address shows as soon as it is up."""
_URL = re.compile(r"^(http://127\.0\.0\.1:(\d+)/\?token=\S+)$", re.MULTILINE)


class AppProcess:
    """``trellis --home HOME app --no-browser``; :attr:`start_url` is the printed one."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = home.with_suffix(".app.log")
        self.start_url = ""
        self.port = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [TRELLIS, "--home", str(self.home), "app", "--no-browser"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO_ROOT,
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"trellis app exited early:\n{self.log()}")
            found = _URL.search(self.log())
            if found:
                self.start_url, self.port = found.group(1), int(found.group(2))
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"trellis app printed no address:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
