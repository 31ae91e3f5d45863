"""The strict msgpack reading (schemas/strict.py, docs/PROTOCOL.md §5.10)."""

from __future__ import annotations

import contextlib

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.payloads import EventBody, JournalEntry, decode_event, encode_body, encode_payload
from schemas.strict import MAX_DEPTH, StrictFormatError, check_strict
from tests.schemas import strategies as strat

_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=30,
)


# Generation cost is the strategies', not the code under test: on a loaded machine the
# too_slow health check would fail the run for nothing.
_RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_RELAXED
@given(_VALUES)
def test_whatever_msgspec_writes_reads_strictly(value):
    check_strict(msgspec.msgpack.encode(value))


@_RELAXED
@given(st.binary(max_size=512))
def test_garbage_raises_only_the_strict_error(data):
    with contextlib.suppress(StrictFormatError):
        check_strict(data)


REFUSED = {
    "trailing byte": b"\x01\x01",
    "uint8 for 5": b"\xcc\x05",
    "uint16 for 200": b"\xcd\x00\xc8",
    "int8 for -1": b"\xd0\xff",
    "int16 for -100": b"\xd1\xff\x9c",
    "str8 for 'a'": b"\xd9\x01a",
    "bin16 for 3 bytes": b"\xc5\x00\x03abc",
    "array16 for 1 item": b"\xdc\x00\x01\x01",
    "map16 for 1 entry": b"\xde\x00\x01\xa1a\x01",
    "integer key": b"\x81\x01\x01",
    "duplicate key": b"\x82\xa1a\x01\xa1a\x02",
    "bad UTF-8": b"\xa2\xc3\x28",
    "float32": b"\xca\x00\x00\x00\x00",
    "ext": b"\xd4\x01\x00",
    "cut short": b"\x92\x01",
    "too deep": b"\x91" * (MAX_DEPTH + 2) + b"\xc0",
}


@pytest.mark.parametrize("data", REFUSED.values(), ids=REFUSED.keys())
def test_each_second_form_is_refused(data):
    with pytest.raises(StrictFormatError):
        check_strict(data)


def test_keys_in_another_order_and_fields_of_a_newer_app_still_read():
    payload = msgspec.msgpack.encode({"text": "hi", "colour": "blue", "type": "journal_entry"})
    body = {"payload": msgspec.Raw(payload), "lamport": 1, "deps": [], "recorded_at": 0}
    body["occurred_at"] = 0
    decoded, read = decode_event(msgspec.msgpack.encode(body))
    assert read == JournalEntry(text="hi")
    assert decoded.lamport == 1


@_RELAXED
@given(strat.event_bodies())
def test_every_event_body_the_app_writes_decodes(body):
    assert decode_event(encode_body(body))[0] == body


def test_a_canonical_event_decodes_by_the_fast_path():
    body = EventBody(
        deps=[],
        lamport=1,
        recorded_at=0,
        occurred_at=0,
        payload=msgspec.Raw(encode_payload(JournalEntry(text="x"))),
    )
    assert decode_event(encode_body(body))[1] == JournalEntry(text="x")
