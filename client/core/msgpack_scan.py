"""Walking msgpack without recursion, to set aside a payload nested too deeply to decode
(client/core/admission_checks.py). Only sizes are read; no value is built."""

from __future__ import annotations

_FIXED = {0xC0: 1, 0xC2: 1, 0xC3: 1, 0xCA: 5, 0xCB: 9, 0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9}
_FIXED.update({0xD0: 2, 0xD1: 3, 0xD2: 5, 0xD3: 9, 0xD4: 3, 0xD5: 4, 0xD6: 6, 0xD7: 10, 0xD8: 18})
_SIZED = {0xC4: (1, 0), 0xC5: (2, 0), 0xC6: (4, 0), 0xC7: (1, 1), 0xC8: (2, 1), 0xC9: (4, 1)}
_SIZED.update({0xD9: (1, 0), 0xDA: (2, 0), 0xDB: (4, 0)})
_CONTAINERS = {0xDC: (2, 1), 0xDD: (4, 1), 0xDE: (2, 2), 0xDF: (4, 2)}


class ScanError(ValueError):
    """Not msgpack (cut short, or a byte no encoder writes)."""


def _uint(data: bytes, pos: int, size: int) -> int:
    if pos + size > len(data):
        raise ScanError("cut short")
    return int.from_bytes(data[pos : pos + size], "big")


def _head(data: bytes, pos: int) -> tuple[int, int]:
    """(size of the item's own bytes, number of items it contains) at ``pos``."""
    if pos >= len(data):
        raise ScanError("cut short")
    b = data[pos]
    if b <= 0x7F or b >= 0xE0:
        return 1, 0
    if 0x80 <= b <= 0x8F:
        return 1, 2 * (b & 0x0F)
    if 0x90 <= b <= 0x9F:
        return 1, b & 0x0F
    if 0xA0 <= b <= 0xBF:
        return 1 + (b & 0x1F), 0
    if b in _FIXED:
        return _FIXED[b], 0
    if b in _SIZED:
        width, extra = _SIZED[b]
        return 1 + width + extra + _uint(data, pos + 1, width), 0
    if b in _CONTAINERS:
        width, per = _CONTAINERS[b]
        return 1 + width, per * _uint(data, pos + 1, width)
    raise ScanError("not msgpack")


def skip(data: bytes, pos: int) -> int:
    """The position just after the one item starting at ``pos``, however deep."""
    remaining = 1
    while remaining:
        size, children = _head(data, pos)
        pos += size
        remaining += children - 1
        if pos > len(data):
            raise ScanError("cut short")
    return pos


def replace_map_value(data: bytes, key: str, value: bytes) -> bytes | None:
    """``data`` (a msgpack map with string keys) with the value under ``key`` replaced
    by the encoded ``value``; None when ``data`` is not such a map or lacks the key."""
    wanted = key.encode()
    try:
        size, children = _head(data, 0)
        if not (0x80 <= data[0] <= 0x8F or data[0] in (0xDE, 0xDF)):
            return None
        pos = size
        for _ in range(children // 2):
            key_end = skip(data, pos)
            value_end = skip(data, key_end)
            header = 1 if 0xA0 <= data[pos] <= 0xBF else 2 if data[pos] == 0xD9 else None
            if header is not None and data[pos + header : key_end] == wanted:
                return data[:key_end] + value + data[value_end:]
            pos = value_end
    except ScanError:
        return None
    return None
