"""What a live session does once the relay refused a push, sans-I/O (docs/PROTOCOL.md
§9.14): a table from the relay's refusal code to a retry, giving the relay this device's
copy back, or stopping. The words for each code are client/views/present/outcomes.py's
``REFUSAL_WHY``."""

from __future__ import annotations

from enum import StrEnum


class AfterRefusal(StrEnum):
    """What a live session does once the relay refused a push (docs/PROTOCOL.md §9.14)."""

    RETRY = "retry"
    """Start a new session after a pause: the relay may take it then (a quota raised)."""
    RESEED = "reseed"
    """Give the relay this device's whole copy (§9.7): it lost earlier events."""
    STOP = "stop"
    """No session will change the answer: say why and push no more."""


AFTER_REFUSAL: dict[str, AfterRefusal] = {
    "chain_gap": AfterRefusal.RESEED,
    "chain_bad_prev": AfterRefusal.RESEED,
    "chain_conflict": AfterRefusal.STOP,
    "device_revoked": AfterRefusal.STOP,
}
"""Refusal codes whose recovery is not a retry; any other code (a quota, a full relay, a
code this client does not know) is retried with the growing pause, its reason shown."""


def after_refusal(code: str) -> AfterRefusal:
    """What follows the relay's refusal ``code`` (:data:`AFTER_REFUSAL`)."""
    return AFTER_REFUSAL.get(code, AfterRefusal.RETRY)
