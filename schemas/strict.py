"""One reading per payload: the strict msgpack rules (docs/PROTOCOL.md §5.10).

msgspec, like most msgpack readers, is lenient: with duplicate map keys the last one
wins, it skips unknown fields without checking their text, and it accepts any of the
several encodings of one integer or string length. Two readers in two languages could
then read one signed plaintext two ways (a reader that keeps the first duplicate sees
"declined" where ours sees "accepted"). So before any plaintext is read, this walks its
bytes once and refuses everything that is not in the one form every reader agrees on:

- exactly one msgpack value, no trailing bytes;
- every integer, string, binary, array and map in its shortest form (msgspec's);
- every map key a string, no key twice in one map;
- every string valid UTF-8;
- no ``ext`` types and no 32-bit floats (writers use float64 only);
- nesting at most :data:`MAX_DEPTH` deep.

Map keys may come in any order: order does not change the reading.
Pure: no I/O, and no import of ours, like the rest of ``schemas``.
"""

from __future__ import annotations

MAX_DEPTH = 32
"""Far deeper than any payload nests (an agreement's clauses are three levels)."""


class StrictFormatError(ValueError):
    """Bytes that a strict reader refuses; the message names the rule, never the bytes."""


def check_strict(data: bytes) -> None:
    """Raise :class:`StrictFormatError` unless ``data`` is one value in its one form."""
    end = _value(data, 0, 0)
    if end != len(data):
        raise StrictFormatError("there are bytes after the value")


def _need(data: bytes, pos: int, size: int) -> int:
    if pos + size > len(data):
        raise StrictFormatError("the value is cut short")
    return int.from_bytes(data[pos : pos + size], "big")


# Smallest value each wide form may carry; anything below fits a shorter form.
_UINT_MIN = {0xCC: 0x80, 0xCD: 0x100, 0xCE: 0x10000, 0xCF: 0x100000000}
_UINT_SIZE = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
_INT_SIZE = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
# Negative values each signed form is needed for (non-negatives use uint forms).
_INT_MAX = {0xD0: -33, 0xD1: -129, 0xD2: -32769, 0xD3: -2147483649}
_STR_SIZE = {0xD9: 1, 0xDA: 2, 0xDB: 4}
_STR_MIN = {0xD9: 32, 0xDA: 0x100, 0xDB: 0x10000}
_BIN_SIZE = {0xC4: 1, 0xC5: 2, 0xC6: 4}
_BIN_MIN = {0xC4: 0, 0xC5: 0x100, 0xC6: 0x10000}


def _value(data: bytes, pos: int, depth: int) -> int:
    """Check the value at ``pos``; return the position after it."""
    if depth > MAX_DEPTH:
        raise StrictFormatError("the value is nested too deeply")
    if pos >= len(data):
        raise StrictFormatError("the value is cut short")
    marker = data[pos]
    pos += 1
    if marker <= 0x7F or marker >= 0xE0 or marker in (0xC0, 0xC2, 0xC3):
        return pos  # fixint, negative fixint, nil, false, true
    if 0xA0 <= marker <= 0xBF:
        return _text(data, pos, marker & 0x1F)
    if 0x90 <= marker <= 0x9F:
        return _array(data, pos, marker & 0x0F, depth)
    if 0x80 <= marker <= 0x8F:
        return _map(data, pos, marker & 0x0F, depth)
    if marker in _UINT_SIZE:
        size = _UINT_SIZE[marker]
        if _need(data, pos, size) < _UINT_MIN[marker]:
            raise StrictFormatError("an integer is not in its shortest form")
        return pos + size
    if marker in _INT_SIZE:
        size = _INT_SIZE[marker]
        _need(data, pos, size)
        value = int.from_bytes(data[pos : pos + size], "big", signed=True)
        if value > _INT_MAX[marker]:
            raise StrictFormatError("an integer is not in its shortest form")
        return pos + size
    if marker in _STR_SIZE:
        size = _STR_SIZE[marker]
        length = _need(data, pos, size)
        if length < _STR_MIN[marker]:
            raise StrictFormatError("a string length is not in its shortest form")
        return _text(data, pos + size, length)
    if marker in _BIN_SIZE:
        size = _BIN_SIZE[marker]
        length = _need(data, pos, size)
        if length < _BIN_MIN[marker]:
            raise StrictFormatError("a byte string length is not in its shortest form")
        _need(data, pos + size, length)
        return pos + size + length
    if marker == 0xCB:
        _need(data, pos, 8)
        return pos + 8
    if marker in (0xDC, 0xDE):
        length = _need(data, pos, 2)
        if length < 16:
            raise StrictFormatError("a length is not in its shortest form")
        walk = _array if marker == 0xDC else _map
        return walk(data, pos + 2, length, depth)
    if marker in (0xDD, 0xDF):
        length = _need(data, pos, 4)
        if length < 0x10000:
            raise StrictFormatError("a length is not in its shortest form")
        walk = _array if marker == 0xDD else _map
        return walk(data, pos + 4, length, depth)
    if marker == 0xCA:
        raise StrictFormatError("32-bit floats are not used")
    raise StrictFormatError("extension types are not used")


def _text(data: bytes, pos: int, length: int) -> int:
    _need(data, pos, length)
    try:
        data[pos : pos + length].decode("utf-8")
    except UnicodeDecodeError:
        raise StrictFormatError("a string is not valid UTF-8") from None
    return pos + length


def _array(data: bytes, pos: int, length: int, depth: int) -> int:
    if length > len(data) - pos:  # each element takes at least one byte
        raise StrictFormatError("the value is cut short")
    for _ in range(length):
        pos = _value(data, pos, depth + 1)
    return pos


def _map(data: bytes, pos: int, length: int, depth: int) -> int:
    if 2 * length > len(data) - pos:
        raise StrictFormatError("the value is cut short")
    seen: set[bytes] = set()
    for _ in range(length):
        start = pos
        if pos >= len(data):
            raise StrictFormatError("the value is cut short")
        marker = data[pos]
        if not (0xA0 <= marker <= 0xBF or marker in _STR_SIZE):
            raise StrictFormatError("a map key is not a string")
        pos = _value(data, pos, depth + 1)
        key = data[start:pos]
        if key in seen:
            raise StrictFormatError("a map has the same key twice")
        seen.add(key)
        pos = _value(data, pos, depth + 1)
    return pos
