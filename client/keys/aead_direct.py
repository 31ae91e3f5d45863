"""Opening XChaCha20-Poly1305 through libsodium as PyNaCl loaded it (cffi), without
PyNaCl's argument-checking wrapper.

Why: that wrapper checks every argument with formatted messages and cost twice the
decryption itself (~20 µs against ~8 µs a call); catch-up opens twice per event, so a
join of 100,000 events spent seconds there. It is the same libsodium function with the
same authentication check (the tag); tests/crypto/test_crypto.py holds it to PyNaCl's
answers on every ciphertext. Where PyNaCl's cffi module is not reachable (another
build), :data:`AVAILABLE` is False and client/keys/crypto.py uses PyNaCl's binding.
"""

from __future__ import annotations

from typing import Any

from schemas.envelope import AEAD_TAG_BYTES


def _sodium_cffi() -> tuple[Any, Any]:
    try:
        from nacl._sodium import ffi, lib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None, None
    return ffi, lib


_ffi, _lib = _sodium_cffi()
AVAILABLE = _lib is not None


def open_xchacha(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes | None:
    """libsodium's ``crypto_aead_xchacha20poly1305_ietf_decrypt``: the plaintext, or
    None when the ciphertext does not authenticate. The caller checks the lengths (key
    32, nonce 24, ciphertext at least the tag)."""
    size = len(ciphertext) - AEAD_TAG_BYTES
    out = _ffi.new("unsigned char[]", max(size, 1))
    out_len = _ffi.new("unsigned long long *")
    failed = _lib.crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, out_len, _ffi.NULL, ciphertext, len(ciphertext), aad, len(aad), nonce, key
    )
    if failed:
        return None
    return bytes(_ffi.buffer(out, out_len[0]))
