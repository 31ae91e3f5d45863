"""Checking the signatures of many envelopes at once, on every core.

Ed25519 verification (~41 µs an envelope) is the largest single cost of admitting an
event (docs/PROTOCOL.md §9.1 step 4), and a new device catching up on a space admits a
whole history, a page of hundreds of envelopes at a time. This module checks a page's
signatures on several threads before admission, which then skips the signature check
for exactly the envelopes found valid here (``LogVerifier.admit``'s ``trusted``); any
other envelope goes through the full check, which rejects it with the proper reason.

Why ctypes: PyNaCl's cffi binding holds Python's GIL while libsodium verifies, so
threads calling it take turns (measured: no gain at all). The very same libsodium
function, ``crypto_sign_verify_detached``, exported by PyNaCl's own shared library and
called through ctypes, runs with the GIL released, so two threads verify side by side.
If that symbol cannot be loaded, verification falls back to PyNaCl on one thread.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec

from client import crypto
from schemas.envelope import (
    SIGNATURE_BYTES,
    EnvelopeFormatError,
    decode_envelope,
    signed_bytes,
)
from schemas.ids import DEVICE_ID_BYTES

MIN_PARALLEL_ENVELOPES = 64
"""Below this, handing work to another thread costs more than it saves."""

MAX_THREADS = 4

Verify = Callable[[bytes, bytes, bytes], bool]
"""(public key, message, signature) -> whether the signature verifies."""


def _gil_free_verify() -> Verify | None:
    spec = find_spec("nacl._sodium")  # PyNaCl's compiled module, libsodium inside
    if spec is None or spec.origin is None:
        return None
    try:
        function = ctypes.CDLL(spec.origin).crypto_sign_verify_detached
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p]
    function.restype = ctypes.c_int

    def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
        if len(public_key) != DEVICE_ID_BYTES or len(signature) != SIGNATURE_BYTES:
            return False
        return int(function(signature, message, len(message), public_key)) == 0

    return verify


_verify: Verify | None = _gil_free_verify()
_pool: ThreadPoolExecutor | None = None


def _threads() -> int:
    return 1 if _verify is None else max(1, min(MAX_THREADS, os.cpu_count() or 1))


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max(1, _threads() - 1), thread_name_prefix="trellis-verify")
    return _pool


def _valid(envelopes: Sequence[bytes]) -> set[bytes]:
    verify = _verify or crypto.verify_signature
    valid = set()
    for data in envelopes:
        try:
            env = decode_envelope(data)
        except EnvelopeFormatError:
            continue  # admission rejects it, with the reason
        if verify(env.author, signed_bytes(env), env.signature):
            valid.add(data)
    return valid


def valid_signatures(envelopes: Sequence[bytes]) -> set[bytes]:
    """The envelopes (by their bytes) whose author's signature verifies.

    Blocks until all are checked; the calling thread takes one share of the work."""
    threads = _threads()
    if threads == 1 or len(envelopes) < MIN_PARALLEL_ENVELOPES:
        return _valid(envelopes)
    shares = [envelopes[i::threads] for i in range(threads)]
    others = [_executor().submit(_valid, share) for share in shares[1:]]
    valid = _valid(shares[0])
    for future in others:
        valid |= future.result()
    return valid
