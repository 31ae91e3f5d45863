"""Hypothesis strategies built from msgspec's own view of our types.

:func:`from_type` reads the constraints in ``msgspec.inspect.type_info`` (lengths, ranges,
patterns, unions, nested structs), so a new field or payload type is covered by the
codec tests without writing a strategy for it. Sizes are capped to keep tests fast while
still crossing msgpack's 8-bit/16-bit length forms.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
import msgspec.inspect as mi
from hypothesis import strategies as st

from schemas.envelope import (
    AEAD_TAG_BYTES,
    ENVELOPE_VERSION,
    NONCE_BYTES,
    SIGNATURE_BYTES,
    WRAPPED_KEY_BYTES,
    Envelope,
)
from schemas.ids import DEVICE_ID_BYTES, EVENT_ID_BYTES, SPACE_ID_BYTES
from schemas.payloads import PAYLOAD_TYPES, EventBody, encode_payload

MAX_BYTES = 300
MAX_TEXT = 300
MAX_ITEMS = 4
INT64_MIN = -(2**63)
UINT64_MAX = 2**64 - 1


def _sized(min_length: int | None, max_length: int | None, cap: int) -> tuple[int, int]:
    low = min_length or 0
    high = cap if max_length is None else min(max_length, max(low, cap))
    return low, high


def _integers(info: mi.IntType) -> st.SearchStrategy[int]:
    low = INT64_MIN
    high = UINT64_MAX
    if info.ge is not None:
        low = info.ge
    if info.gt is not None:
        low = info.gt + 1
    if info.le is not None:
        high = info.le
    if info.lt is not None:
        high = info.lt - 1
    return st.integers(low, high)


def _from_info(info: mi.Type) -> st.SearchStrategy[Any]:
    match info:
        case mi.Metadata():
            return _from_info(info.type)
        case mi.NoneType():
            return st.none()
        case mi.BoolType():
            return st.booleans()
        case mi.IntType():
            return _integers(info)
        case mi.BytesType():
            low, high = _sized(info.min_length, info.max_length, MAX_BYTES)
            return st.binary(min_size=low, max_size=high)
        case mi.StrType(pattern=str() as pattern):
            return st.from_regex(pattern, fullmatch=True)
        case mi.StrType():
            low, high = _sized(info.min_length, info.max_length, MAX_TEXT)
            return st.text(min_size=low, max_size=high)
        case mi.LiteralType():
            return st.sampled_from(info.values)
        case mi.ListType():
            low, high = _sized(info.min_length, info.max_length, MAX_ITEMS)
            return st.lists(_from_info(info.item_type), min_size=low, max_size=high)
        case mi.UnionType():
            return st.one_of(*(_from_info(t) for t in info.types))
        case mi.StructType():
            fields = {f.name: _from_info(f.type) for f in info.fields}
            return st.builds(info.cls, **fields)
        case mi.RawType():
            return st.builds(msgspec.Raw, st.binary(max_size=MAX_BYTES))
    raise NotImplementedError(f"no strategy for {info!r}: extend tests/schemas/strategies.py")


def from_type(tp: Any) -> st.SearchStrategy[Any]:
    return _from_info(mi.type_info(tp))


@functools.cache
def payloads() -> st.SearchStrategy[Any]:
    # Built once: event_bodies() draws from it on every example, and building the
    # strategies of every payload type each time made input generation too slow.
    return st.one_of(*(from_type(t) for t in PAYLOAD_TYPES))


@st.composite
def event_bodies(draw: st.DrawFn) -> EventBody:
    """An EventBody whose payload is a real, encoded payload (as a writer makes it)."""
    body: EventBody = draw(from_type(EventBody))
    raw = msgspec.Raw(encode_payload(draw(payloads())))
    return msgspec.structs.replace(body, payload=raw)


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    """A structurally valid envelope (not a correctly signed or encrypted one)."""
    seq = draw(st.one_of(st.just(1), st.integers(1, 2**53 - 1)))
    prev = None if seq == 1 else draw(st.binary(min_size=EVENT_ID_BYTES, max_size=EVENT_ID_BYTES))
    return Envelope(
        version=ENVELOPE_VERSION,
        space_id=draw(st.binary(min_size=SPACE_ID_BYTES, max_size=SPACE_ID_BYTES)),
        author=draw(st.binary(min_size=DEVICE_ID_BYTES, max_size=DEVICE_ID_BYTES)),
        seq=seq,
        prev=prev,
        epoch=draw(st.integers(0, 2**31 - 1)),
        wrapped_key=draw(st.binary(min_size=WRAPPED_KEY_BYTES, max_size=WRAPPED_KEY_BYTES)),
        key_commitment=draw(st.binary(min_size=32, max_size=32)),
        nonce=draw(st.binary(min_size=NONCE_BYTES, max_size=NONCE_BYTES)),
        ciphertext=draw(st.binary(min_size=AEAD_TAG_BYTES, max_size=MAX_BYTES)),
        signature=draw(st.binary(min_size=SIGNATURE_BYTES, max_size=SIGNATURE_BYTES)),
    )


def msgpack_values() -> st.SearchStrategy[Any]:
    """Arbitrary msgpack-encodable values, nested: garbage with structure."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(INT64_MIN, UINT64_MAX),
        st.floats(),
        st.text(max_size=40),
        st.binary(max_size=80),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=12),
            st.dictionaries(st.text(max_size=12), children, max_size=6),
        ),
        max_leaves=30,
    )


def tagged_maps(tags: list[str], field_names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Maps that look like our tagged messages: a known tag and known field names with
    values of any type. Reaches the validators behind the tag dispatch."""
    return st.builds(
        lambda tag, fields: {**fields, "type": tag},
        st.sampled_from(tags),
        st.dictionaries(st.sampled_from(field_names), msgpack_values(), max_size=6),
    )
