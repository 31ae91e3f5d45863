"""Ed25519 verification that lets other threads run, for many signatures at once.

Ed25519 verification (~41 µs a signature on the reference machine) is the largest single
cost of admitting an event, at the relay (every pushed envelope, docs/PROTOCOL.md §6.4)
and at a client (every envelope it receives, §9.1). Both sides verify many at a time,
so both use this module.

Why ctypes: PyNaCl's cffi binding holds Python's GIL while libsodium verifies, so
threads calling it take turns (measured: no gain at all). The very same libsodium
function, ``crypto_sign_verify_detached``, exported by PyNaCl's own shared library and
called through ctypes, runs with the GIL released, so threads verify side by side and
an event loop in another thread keeps running. If that symbol cannot be loaded,
verification falls back to PyNaCl (correct, just not parallel).

``verify_all`` checks a list on the calling thread plus a small shared thread pool when
the list is long enough to be worth splitting. It blocks; an asyncio caller runs it in
an executor (the relay does, server/verification.py). Pure computation, no I/O.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec

import nacl.exceptions
import nacl.signing

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64

MIN_PARALLEL_SIGNATURES = 64
"""Below this, handing work to another thread costs more than it saves."""

MAX_THREADS = 4

Verify = Callable[[bytes, bytes, bytes], bool]
"""(public key, message, signature) -> whether the signature verifies."""

Item = tuple[bytes, bytes, bytes]
"""One signature to check: (public key, message, signature)."""


def nacl_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """PyNaCl's verification: holds the GIL, the fallback and the reference."""
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


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
        # Lengths first: libsodium reads exactly 32 and 64 bytes from these pointers.
        if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
            return False
        return int(function(signature, message, len(message), public_key)) == 0

    return verify


_gil_free = _gil_free_verify()
GIL_FREE = _gil_free is not None
"""Whether verification releases the GIL (and so threads help)."""

verify_signature: Verify = _gil_free or nacl_verify
"""One signature: the fastest available verification."""


def default_threads() -> int:
    """Threads worth verifying on: one per core (at most MAX_THREADS), 1 without ctypes."""
    return 1 if not GIL_FREE else max(1, min(MAX_THREADS, os.cpu_count() or 1))


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max(1, default_threads() - 1), thread_name_prefix="trellis-verify"
            )
        return _pool


def verify_each(items: Sequence[Item]) -> list[bool]:
    """Check every item on the calling thread, in order."""
    verify = verify_signature
    return [verify(public_key, message, signature) for public_key, message, signature in items]


def verify_all(items: Sequence[Item], threads: int | None = None) -> list[bool]:
    """Whether each item's signature verifies, in order.

    Blocks until all are checked; the calling thread takes one share of the work and a
    shared pool the others, when there are at least MIN_PARALLEL_SIGNATURES."""
    threads = default_threads() if threads is None else max(1, threads)
    if threads == 1 or len(items) < MIN_PARALLEL_SIGNATURES:
        return verify_each(items)
    shares = [items[i::threads] for i in range(threads)]
    others = [_executor().submit(verify_each, share) for share in shares[1:]]
    results: list[list[bool]] = [verify_each(shares[0])]
    results.extend(future.result() for future in others)
    merged = [False] * len(items)
    for offset, share in enumerate(results):
        merged[offset::threads] = share
    return merged
