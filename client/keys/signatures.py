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

from collections.abc import Sequence

from schemas.envelope import EnvelopeFormatError, decode_envelope, signature_parts, signed_bytes
from schemas.signatures import Item, verify_all


def valid_signatures(envelopes: Sequence[bytes]) -> set[bytes]:
    """The envelopes (by their bytes) whose author's signature verifies.

    Blocks until all are checked; the calling thread takes one share of the work."""
    items: list[Item] = []
    candidates: list[bytes] = []
    for data in envelopes:
        # Cut, not decoded: decoding here and again at admission cost this thread
        # (holding the GIL) as much as the rest. Admission decodes strictly and
        # refuses what is not canonical whatever this check said.
        item = signature_parts(data)
        if item is None:
            try:
                env = decode_envelope(data)
            except EnvelopeFormatError:
                continue  # admission rejects it, with the reason
            item = (env.author, signed_bytes(env), env.signature)
        items.append(item)
        candidates.append(data)
    return {data for data, ok in zip(candidates, verify_all(items), strict=True) if ok}
