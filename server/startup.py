"""Start-up that explains itself (docs/OPERATIONS.md §1, "Exit status").

Before the relay serves, ``preflight`` checks what an operator most often gets wrong on
a new machine and turns each into one plain line and an exit status, instead of a
stack trace from deep inside SQLite or asyncio:

* the database's folder does not exist, or the relay cannot write in it;
* the database was written by a newer relay (an upgrade rolled back without restoring
  the backup taken before it);
* the open-file limit cannot hold ``max_connections`` (it is raised to the hard limit
  first, as far as that goes);
* the port, or the operator port, is in use or cannot be had (``bind``).

Exit statuses (also in ``trellis-relay --help``):

* 0: stopped normally (SIGTERM / Ctrl-C);
* 1: failed while running, or ``check`` found problems;
* 2: a setting or the set-up is wrong, and restarting will not help (systemd:
  ``RestartPreventExitStatus=2``);
* 3: the application failed to start for another reason (see the log);
* 4: a port is in use (by another program, or a relay still stopping): restarting
  later may help.
"""

from __future__ import annotations

import errno
import os
import resource
import socket
import sqlite3
from pathlib import Path

from server._migrations import migrations
from server._pg_migrations import is_postgres_url
from server.settings import Settings
from server.stores import sqlite_path

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_SETUP = 2
EXIT_STARTUP_FAILED = 3
EXIT_PORT_BUSY = 4

FD_RESERVE = 64
"""Descriptors beyond one per connection: the database, its WAL, readers, logs, pipes."""

LISTEN_BACKLOG = 2048


class StartupProblem(Exception):
    """One plain line for the operator, and the exit status that goes with it."""

    def __init__(self, message: str, exit_status: int = EXIT_SETUP) -> None:
        super().__init__(message)
        self.exit_status = exit_status


def check_database_place(db: str) -> None:
    path = Path(db)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise StartupProblem(
            f"the folder {folder.resolve()} for the database does not exist; create it "
            "(owned by the relay's user), or point db at another place"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StartupProblem(
            f"the relay cannot write in {folder.resolve()}; give its user write access "
            "to that folder (SQLite keeps -wal and -shm files beside the database)"
        )
    if path.exists() and not path.is_file():
        raise StartupProblem(f"{path.resolve()} is not a database file; fix db")


def check_schema_version(db: str) -> None:
    """Refuse a database from a newer relay before anything opens it for writing."""
    path = Path(db)
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return  # SQLite's own error at open says more than we could here
    try:
        (version,) = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc):
            return  # a new database, or one the migrations will refuse with a message
        raise StartupProblem(
            f"{path.resolve()} is not a readable SQLite database ({exc}); restore a backup "
            "(docs/OPERATIONS.md §7)"
        ) from None
    finally:
        conn.close()
    known = len(migrations())
    if version is not None and int(version) > known:
        raise StartupProblem(
            f"the database {path.resolve()} is at schema version {version} but this relay "
            f"only knows {known}: it was written by a newer release. Install that release "
            "again, or restore the backup taken before the upgrade (docs/OPERATIONS.md §8)"
        )


def raise_open_file_limit(max_connections: int) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; refuse if that cannot hold
    ``max_connections``. Returns the soft limit in effect."""
    needed = max_connections + FD_RESERVE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise StartupProblem(
            f"the open-file limit is {soft} but max_connections = {max_connections} needs "
            f"at least {needed}; raise it (LimitNOFILE= in the systemd unit, or ulimit -n) "
            "or lower max_connections"
        )
    return int(soft)


def bind(host: str, port: int, setting: str) -> socket.socket:
    """A bound socket for ``host:port`` (listening starts when the server starts);
    ``setting`` names the port's setting in messages."""
    what = "the relay's" if setting == "port" else "the operator"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise StartupProblem(
            f"{what} host {host!r} is not an address or a name this machine can resolve"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupProblem(
                f"{what} port {port} on {host} is in use by another program (or a relay "
                f"that is still stopping); stop it, or choose another {setting}",
                EXIT_PORT_BUSY,
            ) from None
        if exc.errno == errno.EACCES:
            raise StartupProblem(
                f"{what} port {port} needs privileges this user does not have; use a port "
                "above 1023 and let the proxy listen on 443"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise StartupProblem(
                f"this machine has no address {host}; fix the host setting"
            ) from None
        raise StartupProblem(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def preflight(settings: Settings) -> list[socket.socket]:
    """Every check above, then the bound sockets: the public one first, then (if on)
    the operator one."""
    if not is_postgres_url(settings.db):  # PostgreSQL checks its own (server/pg_store.py)
        check_database_place(sqlite_path(settings.db))
        check_schema_version(sqlite_path(settings.db))
    raise_open_file_limit(settings.max_connections)
    sockets = [bind(settings.host, settings.port, "port")]
    if settings.operator_port:
        try:
            sockets.append(bind(settings.operator_host, settings.operator_port, "operator_port"))
        except StartupProblem:
            sockets[0].close()
            raise
    return sockets
