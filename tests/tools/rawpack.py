"""A minimal msgpack writer that shares no code with msgspec.

Known-answer tests rebuild signed bytes with it, as a client in another language would,
and codec tests use its non-canonical forms to check that decoders refuse them. It
covers only what envelopes contain: nil, non-negative integers, bin and arrays
(msgpack spec: https://github.com/msgpack/msgpack/blob/master/spec.md).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

Value = None | int | bytes | Sequence["Value"]

NIL = b"\xc0"


def uint(value: int, width: int | None = None) -> bytes:
    """An unsigned integer; ``width`` (1, 2, 4, 8 bytes) forces a form, None the shortest."""
    if value < 0:
        raise ValueError("only non-negative integers are supported")
    if width is None:
        if value < 0x80:
            return bytes([value])  # positive fixint
        width = next(w for w in (1, 2, 4, 8) if value < 1 << (8 * w))
    marker = {1: 0xCC, 2: 0xCD, 4: 0xCE, 8: 0xCF}[width]
    return bytes([marker]) + value.to_bytes(width, "big")


def bin_(data: bytes, width: int | None = None) -> bytes:
    """A byte string as bin 8/16/32; ``width`` is the size of the length field."""
    if width is None:
        width = next(w for w in (1, 2, 4) if len(data) < 1 << (8 * w))
    marker = {1: 0xC4, 2: 0xC5, 4: 0xC6}[width]
    return bytes([marker]) + len(data).to_bytes(width, "big") + data


def str_(data: bytes) -> bytes:
    """The same bytes as a msgpack str (str 8/16/32 or fixstr): wrong for a bytes field."""
    if len(data) < 32:
        return bytes([0xA0 | len(data)]) + data
    width = next(w for w in (1, 2, 4) if len(data) < 1 << (8 * w))
    marker = {1: 0xD9, 2: 0xDA, 4: 0xDB}[width]
    return bytes([marker]) + len(data).to_bytes(width, "big") + data


def array_header(length: int, wide: bool = False) -> bytes:
    if length < 16 and not wide:
        return bytes([0x90 | length])
    if length < 1 << 16:
        return b"\xdc" + struct.pack(">H", length)
    return b"\xdd" + struct.pack(">I", length)


def pack(value: Value) -> bytes:
    """Canonical msgpack of ``value``: shortest forms throughout."""
    if value is None:
        return NIL
    if isinstance(value, bool):
        raise TypeError("booleans are not part of an envelope")
    if isinstance(value, int):
        return uint(value)
    if isinstance(value, bytes):
        return bin_(value)
    return array_header(len(value)) + b"".join(pack(item) for item in value)
