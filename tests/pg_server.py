"""A private PostgreSQL server for the tests (DESIGN.md, "More than one relay process").

``initdb`` into a fresh temporary folder, ``pg_ctl start`` on a free loopback port with
its Unix socket in that folder; nothing depends on a server already running. PostgreSQL
refuses to run as root, and tests run as root here, so the server then runs as the
``postgres`` system user (``su postgres -c``), created if missing, with the folder owned
by it. Where ``initdb`` is missing, ``tests/tools/ensure_postgres.sh`` (run by
``make test``) installs Debian's package.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.integration.relay_process import free_port

SERVICE_USER = "postgres"
START_TIMEOUT_S = 60


def _find(program: str) -> str:
    found = shutil.which(program)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), reverse=True):
        return str(candidate)
    raise RuntimeError(
        f"PostgreSQL's {program} was not found; run `make test` (it installs Debian's "
        "postgresql package) or install PostgreSQL 15 or later"
    )


class PgServer:
    """One throwaway cluster; ``database()`` gives each test its own database."""

    def __init__(self, *, durable: bool = False) -> None:
        """``durable``: fsync on, as in production (benchmarks); tests turn it off."""
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix="trellis-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._count = 0
        self._as_root = os.geteuid() == 0

    def _run(self, argv: list[str], timeout: float = START_TIMEOUT_S) -> None:
        if self._as_root:
            argv = ["su", SERVICE_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> PgServer:
        if self._as_root:
            try:
                pwd.getpwnam(SERVICE_USER)
            except KeyError:
                subprocess.run(
                    ["useradd", "--system", "--no-create-home", SERVICE_USER], check=True
                )
            info = pwd.getpwnam(SERVICE_USER)
            os.chown(self.folder, info.pw_uid, info.pw_gid)
        os.chmod(self.folder, 0o755)
        self._run(
            [
                _find("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        )
        settings = (
            "listen_addresses = '127.0.0.1'\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.folder}'\n"
            "max_connections = 200\n"
        )
        if not self.durable:
            settings += "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n"
            settings += "shared_buffers = 32MB\n"
        else:
            settings += "shared_buffers = 256MB\n"
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(settings)
        self._start()
        return self

    def restart(self, down_s: float = 0.0) -> None:
        """Stop (fast: connections are cut) and start again on the same port."""
        self._run([_find("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
        time.sleep(down_s)
        self._start()

    def _start(self) -> None:
        self._run(
            [
                _find("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "start",
            ]
        )

    def pause(self) -> None:
        """Stop the server (fast: open connections are cut); ``resume`` starts it again."""
        self._run([_find("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def resume(self) -> None:
        self._start()

    def stop(self) -> None:
        if self.data.exists():
            with contextlib.suppress(RuntimeError):
                self._run([_find("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database; its URL."""
        self._count += 1
        name = f"t{os.getpid()}_{self._count}"
        subprocess.run(
            [
                _find("psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-q",
                "-c",
                f"CREATE DATABASE {name}",
            ],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT_S,
        )
        return self.url(name)
