"""The OpenAPI document (``/schema/openapi.json``), corrected where Litestar guesses.

Litestar describes a msgspec ``bytes`` field as a UTF-8 string whose length limits are
the byte limits. On the wire (docs/PROTOCOL.md §2.3) such a field is standard base64
with padding, so a 64-byte signature is 88 characters. ``correct_bytes_fields``
rewrites each of them after the document is built: contentEncoding base64, a pattern
that only padded base64 matches, and lengths in characters. A client generated from
the document then sends what the relay accepts, and schemathesis can hold the relay
to it (tests/relay_ops/test_openapi_contract.py).
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import msgspec.inspect as mi
from litestar import Litestar
from litestar.openapi.spec import Schema

from schemas import http

_B64 = "[A-Za-z0-9+/]"
_ANY_LENGTH = f"^(?:{_B64}{{4}})*(?:{_B64}{{2}}==|{_B64}{{3}}=)?$"
_TAIL = {0: "", 1: f"{_B64}{{2}}==", 2: f"{_B64}{{3}}="}

HTTP_BODIES = [
    obj
    for obj in vars(http).values()
    if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj.__module__ == http.__name__
]


def base64_bounds(min_bytes: int, max_bytes: int | None) -> tuple[str, int, int | None]:
    """(pattern, minLength, maxLength) of padded base64 for that many bytes.

    Exact sizes are exact. For a range, the lengths are conservative: every string that
    fits decodes to an allowed number of bytes."""
    if max_bytes is not None and min_bytes == max_bytes:
        full, rest = divmod(min_bytes, 3)
        pattern = f"^{_B64}{{{4 * full}}}{_TAIL[rest]}$"
        length = 4 * math.ceil(min_bytes / 3)
        return pattern, length, length
    min_chars = 4 * math.ceil((min_bytes + 2) / 3) if min_bytes else 0
    max_chars = None if max_bytes is None else 4 * (max_bytes // 3)
    return _ANY_LENGTH, min_chars, max_chars


def _bytes_type(info: Any) -> mi.BytesType | None:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info if isinstance(info, mi.BytesType) else None


def correct_bytes_fields(app: Litestar) -> None:
    """Rewrite every bytes field of the HTTP bodies in the app's OpenAPI components."""
    components = app.openapi_schema.components.schemas or {}
    for body in HTTP_BODIES:
        component = components.get(body.__name__)
        info = mi.type_info(body)
        if not isinstance(component, Schema) or not isinstance(info, mi.StructType):
            continue
        for field in info.fields:
            kind = _bytes_type(field.type)
            prop = (component.properties or {}).get(field.encode_name)
            if kind is None or not isinstance(prop, Schema):
                continue
            pattern, min_chars, max_chars = base64_bounds(kind.min_length or 0, kind.max_length)
            prop.content_encoding = "base64"
            prop.pattern = pattern
            prop.min_length = min_chars or None
            prop.max_length = max_chars
