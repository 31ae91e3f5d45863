"""Who may read the files on this device (docs/THREAT_MODEL.md §22).

A home folder holds the local log (ciphertext), the sealed vault and, in SQLite's
``-wal`` and ``-shm`` files, pages of both. Under the usual umask (022) they would be
readable by every account on the machine, so: the folder is 0700 and every file in it
0600. SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file, so the
database is created 0600 before SQLite opens it. An existing home with looser modes (made
by an older version, or copied) is tightened, and the person is told.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

HOME_MODE = 0o700
FILE_MODE = 0o600


def secure_home(home: Path) -> list[str]:
    """Create ``home`` 0700 if missing; tighten it and its files. Returns the notices
    (plain sentences) for anything that had to be tightened."""
    notices: list[str] = []
    if not home.exists():
        home.mkdir(mode=HOME_MODE, parents=True)
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode & 0o077:
        home.chmod(HOME_MODE)
        notices.append(
            f"The folder {home} could be read by other accounts on this computer; it is "
            "now private to you."
        )
    loose = [p.name for p in sorted(home.iterdir()) if p.is_file() and _tighten(p)]
    if loose:
        notices.append(
            f"{len(loose)} file(s) in {home} could be read by other accounts on this "
            "computer; they are now private to you."
        )
    return notices


def create_private(path: Path) -> None:
    """Make ``path`` exist as an empty 0600 file (if missing), before anyone writes it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)


def tighten_files(home: Path) -> None:
    """Files SQLite made after opening (``-wal``, ``-shm``): 0600, silently."""
    for path in home.iterdir():
        if path.is_file():
            _tighten(path)


def _tighten(path: Path) -> bool:
    if stat.S_IMODE(path.stat().st_mode) & 0o177:
        path.chmod(FILE_MODE)
        return True
    return False


def write_private(path: Path, data: bytes, *, force: bool) -> None:
    """Write ``data`` to a new 0600 file; an existing file is replaced only with
    ``force`` (and then made 0600 too). Raises FileExistsError otherwise."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if force else os.O_EXCL)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
