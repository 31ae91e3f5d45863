"""One writer at a time per home folder (docs/THREAT_MODEL.md §22.1).

Two processes may have one home open at once: ``trellis sync --watch`` in one terminal
and ``trellis signal stop`` in another, or the app and a command. Reading at the same
time is harmless (the same signed events, stored once). Writing is not: each process
signs its next event from the chain head it loaded, so both signed the same seq. The
second store failed inside SQLite (a raw ``FOREIGN KEY constraint failed``), and the
first window, meeting the other's event at that seq, held a "proof" that its own device
had forked its chain.

So an own new event is signed and stored under an exclusive ``flock`` on the home
folder, and when another process wrote as this device meanwhile, the writer first
admits what that process stored (client/space/writing.py ``catch_up_own``). A wrong
passphrase is counted under the same lock (client/space/devices.py), so guesses made
in parallel are counted one after the other. The lock lasts milliseconds (a second
for a passphrase); it is released when its descriptor closes, so a process that ends
(Ctrl-C, a crash) never leaves it behind. ``flock`` is POSIX, as the home folder's
modes are (client/store/home_files.py).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from client.errors import ClientErrorCode, HomeError

HOME_LOCK_WAIT_S = 10.0
"""How long a write waits for another window's write to finish before it gives up."""
_RETRY_S = 0.01

HOME_IN_USE_MESSAGE = (
    "Trellis is busy writing from another window on this device. Nothing was changed "
    "here; try again in a moment."
)


@asynccontextmanager
async def home_write_lock(home: Path) -> AsyncIterator[None]:
    """Hold the home folder's write lock, waiting up to :data:`HOME_LOCK_WAIT_S` (read
    at each call) for another process, or another write of this one, to release it;
    ``home_in_use`` after that."""
    fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + HOME_LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise HomeError(HOME_IN_USE_MESSAGE, code=ClientErrorCode.HOME_IN_USE) from None
                await asyncio.sleep(_RETRY_S)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
