"""Checking the signatures of many envelopes at once, on every core.

A new device catching up on a space admits a whole history, a page of hundreds of
envelopes at a time. This module checks a page's signatures on several threads before
admission, which then skips the signature check for exactly the envelopes found valid
here (``LogVerifier.admit``'s ``trusted``); any other envelope goes through the full
check, which rejects it with the proper reason.

The verification itself (libsodium through ctypes, with the GIL released, and the
thread pool) is shared with the relay: ``schemas/signatures.py``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator, Sequence

from schemas.envelope import EnvelopeFormatError, decode_envelope, signature_parts, signed_bytes
from schemas.signatures import Item, verify_all


def signature_item(data: bytes) -> Item | None:
    """(author, signed bytes, signature) of an envelope's bytes; None for bytes that are
    no envelope (admission rejects them, with the reason).

    Cut, not decoded, where the bytes have the canonical shape: decoding here and again
    at admission cost the checking thread (holding the GIL) as much as the rest.
    Admission decodes strictly and refuses what is not canonical whatever this check
    said."""
    item = signature_parts(data)
    if item is not None:
        return item
    try:
        env = decode_envelope(data)
    except EnvelopeFormatError:
        return None
    return (env.author, signed_bytes(env), env.signature)


def valid_signatures(envelopes: Sequence[bytes]) -> set[bytes]:
    """The envelopes (by their bytes) whose author's signature verifies.

    Blocks until all are checked; the calling thread takes one share of the work."""
    items: list[Item] = []
    candidates: list[bytes] = []
    for data in envelopes:
        item = signature_item(data)
        if item is not None:
            items.append(item)
            candidates.append(data)
    return {data for data, ok in zip(candidates, verify_all(items), strict=True) if ok}


HANDOFF_SWITCH_INTERVAL_S = 0.0001
"""Python's thread switch interval while a page is admitted beside its signature checks."""

_handoff_lock = threading.Lock()
_handoff_users = 0
_handoff_saved = 0.0


@contextlib.contextmanager
def quick_gil_handoff() -> Iterator[None]:
    """Lower Python's thread switch interval (5 ms by default) while this thread admits
    a page and other threads check signatures and write to SQLite beside it.

    Why: those threads release the GIL for each verification (libsodium through ctypes)
    and each SQLite row, and need it back for a few microseconds in between. While this
    thread computes, a thread asking for the GIL waits the whole switch interval: one
    signature (~60 µs) then cost 5 ms of waiting, so the checks "beside" the admission
    hardly moved until it awaited them, and the two took turns (measured on a loaded
    machine: a thread verifying beside a busy one did half as many, and as many as
    beside an idle one with a 0.2 ms interval). Process-wide, so counted: the first user
    lowers it, the last puts the previous value back; never raised."""
    global _handoff_users, _handoff_saved
    with _handoff_lock:
        if _handoff_users == 0:
            _handoff_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_handoff_saved, HANDOFF_SWITCH_INTERVAL_S))
        _handoff_users += 1
    try:
        yield
    finally:
        with _handoff_lock:
            _handoff_users -= 1
            if _handoff_users == 0:
                sys.setswitchinterval(_handoff_saved)
