"""The one-pass reading of a canonical event (schemas.payloads.read_canonical): for the
bytes it reads it gives exactly what the strict reading (decode_body, then
decode_payload) gives, and it reads nothing else: admission (client/core/
admission_checks.py) takes the long road for every other plaintext."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.payloads import (
    EventBody,
    JournalEntry,
    PayloadFormatError,
    decode_body,
    decode_payload,
    encode_body,
    encode_payload,
    read_canonical,
)
from tests.schemas import strategies as strat

_RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _strict(plaintext: bytes) -> tuple[EventBody, Any] | None:
    try:
        body = decode_body(plaintext)
        return body, decode_payload(body.payload)
    except (PayloadFormatError, RecursionError):
        return None


def _body(payload: bytes) -> dict[str, Any]:
    return {
        "deps": [],
        "lamport": 1,
        "recorded_at": 1_700_000_000_000,
        "occurred_at": 1_700_000_000_000,
        "payload": msgspec.Raw(payload),
    }


@_RELAXED
@given(strat.event_bodies())
def test_a_canonical_event_reads_as_the_strict_reading_gives(body: EventBody) -> None:
    plaintext = encode_body(body)
    read = read_canonical(plaintext)
    strict = _strict(plaintext)
    assert strict is not None
    assert read == strict


@_RELAXED
@given(st.binary(max_size=300))
def test_any_bytes_read_only_as_the_strict_reading_gives(data: bytes) -> None:
    read = read_canonical(data)
    if read is not None:
        assert read == _strict(data)


def test_anything_not_canonical_is_left_to_the_strict_reading() -> None:
    entry = encode_payload(JournalEntry(text="hello"))
    canonical = msgspec.msgpack.encode(_body(entry))
    assert read_canonical(canonical) is not None
    reordered = dict(reversed(list(_body(entry).items())))
    unknown = msgspec.msgpack.encode({"type": "from_a_newer_app", "x": 1})
    long_int = entry.replace(b"\xa5hello", b"\xd9\x05hello")  # str8 for a short string
    cases = {
        "keys in another order": msgspec.msgpack.encode(reordered),
        "unknown kind of event": msgspec.msgpack.encode(_body(unknown)),
        "payload in a long form": msgspec.msgpack.encode(_body(long_int)),
        "trailing byte": canonical + b"\x00",
        "not msgpack": b"\xc1",
    }
    for name, plaintext in cases.items():
        assert read_canonical(plaintext) is None, name
