"""The passphrase back-off: how long a device waits after wrong passphrases (PROTOCOL.md §5.8).

Why it is here, pure: the counting lives in the local database and the clock in the
caller (client/space/devices.py, ``unseal_rate_limited``); the schedule itself is a
function of the number of failures, tested without a clock in
tests/client/test_unlock.py. It slows someone guessing at an unlocked-looking phone
while a tired person who mistypes a few times is not held up.
"""

from __future__ import annotations

FREE_PASSPHRASE_ATTEMPTS = 3
"""Wrong passphrases allowed before each further try must wait."""
PASSPHRASE_FIRST_WAIT_S = 5
PASSPHRASE_MAX_WAIT_S = 15 * 60
_DOUBLINGS_TO_CAP = 8
"""5 s doubled 8 times is past 15 min: beyond it the wait is the cap (and the power of
two of a huge, perhaps tampered, failure count is never computed)."""


def wait_after(failures: int) -> int | None:
    """Seconds the next try waits after ``failures`` wrong passphrases in a row: none
    before FREE_PASSPHRASE_ATTEMPTS, then 5 s doubling with each failure, at most 15 min."""
    if failures < FREE_PASSPHRASE_ATTEMPTS:
        return None
    doublings = min(failures - FREE_PASSPHRASE_ATTEMPTS, _DOUBLINGS_TO_CAP)
    return min(PASSPHRASE_FIRST_WAIT_S << doublings, PASSPHRASE_MAX_WAIT_S)


def may_try(now_ms: int, wait_until_ms: int) -> int | None:
    """None if a try is allowed at ``now_ms``; else the whole seconds still to wait,
    rounded up (a person told "wait 0 s" would try at once and be refused again)."""
    if now_ms >= wait_until_ms:
        return None
    return (wait_until_ms - now_ms + 999) // 1000
