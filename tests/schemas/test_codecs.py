"""Codecs of the contract: everything round-trips, garbage never crashes a decoder, and
the envelope decoder accepts only the one canonical encoding (docs/PROTOCOL.md §4)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import http, protocol
from schemas.envelope import (
    Envelope,
    EnvelopeFormatError,
    decode_envelope,
    encode_envelope,
    header_bytes,
    signed_bytes,
)
from schemas.payloads import (
    PAYLOAD_TYPES,
    EventBody,
    JournalEntry,
    PayloadFormatError,
    UnknownPayload,
    decode_body,
    decode_payload,
    encode_body,
    encode_payload,
    payload_kind,
)
from tests.schemas import strategies as strat
from tests.tools import rawpack

CLIENT_MESSAGES = (protocol.Hello, protocol.Authenticate, protocol.Push, protocol.Pull)
RELAY_MESSAGES = (
    protocol.Challenge,
    protocol.Welcome,
    protocol.Acked,
    protocol.Page,
    protocol.Live,
    protocol.Error,
)
HTTP_BODIES = (
    http.CreateSpaceRequest,
    http.CreateSpaceResponse,
    http.CreateInviteRequest,
    http.CreateInviteResponse,
    http.InviteInfo,
    http.RedeemInviteRequest,
    http.RedeemInviteResponse,
    http.HealthResponse,
    http.ErrorBody,
)


def _tag(cls: type[msgspec.Struct]) -> str:
    return str(cls.__struct_config__.tag)


def _field_names(classes: tuple[type[msgspec.Struct], ...]) -> list[str]:
    return sorted({name for cls in classes for name in cls.__struct_fields__})


def test_the_message_lists_here_are_the_unions_of_the_contract():
    assert set(CLIENT_MESSAGES) == set(protocol.ClientMessage.__args__)
    assert set(RELAY_MESSAGES) == set(protocol.RelayMessage.__args__)


# --- round trips -------------------------------------------------------------------


@given(strat.envelopes())
def test_envelope_round_trips_through_its_canonical_bytes(env):
    assert decode_envelope(encode_envelope(env)) == env


@given(strat.envelopes())
def test_signed_bytes_are_the_header_plus_ciphertext_and_envelope_adds_the_signature(env):
    header = rawpack.pack(
        [
            env.version,
            env.space_id,
            env.author,
            env.seq,
            env.prev,
            env.epoch,
            env.wrapped_key,
            env.key_commitment,
            env.nonce,
        ]
    )
    assert header_bytes(env) == header
    tail = rawpack.bin_(env.ciphertext)
    assert signed_bytes(env) == b"\x9a" + header[1:] + tail
    assert encode_envelope(env) == b"\x9b" + header[1:] + tail + rawpack.bin_(env.signature)


@pytest.mark.parametrize("cls", CLIENT_MESSAGES, ids=_tag)
@given(data=st.data())
def test_every_client_message_round_trips(cls, data):
    message = data.draw(strat.from_type(cls))
    assert protocol.client_message_decoder.decode(protocol.encode_message(message)) == message


@pytest.mark.parametrize("cls", RELAY_MESSAGES, ids=_tag)
@given(data=st.data())
def test_every_relay_message_round_trips(cls, data):
    message = data.draw(strat.from_type(cls))
    assert protocol.relay_message_decoder.decode(protocol.encode_message(message)) == message


@pytest.mark.parametrize("cls", PAYLOAD_TYPES, ids=_tag)
@given(data=st.data())
def test_every_payload_type_round_trips(cls, data):
    payload = data.draw(strat.from_type(cls))
    assert decode_payload(encode_payload(payload)) == payload
    assert payload_kind(payload) == _tag(cls)


# Many payload types make one example slow to draw; the check is about codecs, not speed.
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(strat.event_bodies())
def test_event_body_round_trips_and_its_payload_decodes(body):
    decoded = decode_body(encode_body(body))
    assert decoded == body
    assert decode_payload(decoded.payload) == decode_payload(body.payload)


@pytest.mark.parametrize("cls", HTTP_BODIES, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_every_http_body_round_trips_through_json(cls, data):
    body = data.draw(strat.from_type(cls))
    assert msgspec.json.decode(msgspec.json.encode(body), type=cls) == body


# --- garbage -----------------------------------------------------------------------


def _only_raises(decode: Callable[[bytes], Any], data: bytes, *allowed: type[Exception]) -> None:
    """Call ``decode``; any exception other than ``allowed`` fails the test."""
    with contextlib.suppress(*allowed):
        decode(data)


garbage = st.one_of(
    st.binary(max_size=400),
    strat.msgpack_values().map(msgspec.msgpack.encode),
    st.lists(strat.msgpack_values(), min_size=10, max_size=11).map(msgspec.msgpack.encode),
)


def _tagged_garbage(classes: tuple[type[msgspec.Struct], ...]) -> st.SearchStrategy[bytes]:
    """Frames with a real tag and real field names but values of any type."""
    tags = [_tag(cls) for cls in classes]
    return strat.tagged_maps(tags, _field_names(classes)).map(msgspec.msgpack.encode)


@given(garbage)
def test_garbage_never_crashes_the_envelope_decoder(data):
    _only_raises(decode_envelope, data, EnvelopeFormatError)


@given(st.one_of(garbage, _tagged_garbage(CLIENT_MESSAGES)))
def test_garbage_never_crashes_the_client_message_decoder(data):
    _only_raises(protocol.client_message_decoder.decode, data, msgspec.DecodeError)


@given(st.one_of(garbage, _tagged_garbage(RELAY_MESSAGES)))
def test_garbage_never_crashes_the_relay_message_decoder(data):
    # msgspec.ValidationError is a subclass of msgspec.DecodeError.
    _only_raises(protocol.relay_message_decoder.decode, data, msgspec.DecodeError)


@given(garbage)
def test_garbage_never_crashes_the_event_body_decoder(data):
    _only_raises(decode_body, data, PayloadFormatError)


@given(st.one_of(garbage, _tagged_garbage(PAYLOAD_TYPES)))
def test_garbage_never_crashes_the_payload_decoder(data):
    _only_raises(decode_payload, data, PayloadFormatError)


# --- canonical form of the envelope ------------------------------------------------

_ENV = Envelope(
    version=2,
    space_id=bytes(range(16)),
    author=bytes(range(32)),
    seq=2,
    prev=bytes(range(32, 64)),
    epoch=3,
    wrapped_key=bytes(72),
    key_commitment=bytes(range(100, 132)),
    nonce=bytes(24),
    ciphertext=bytes(40),
    signature=bytes(64),
)
_FIELDS: list[bytes] = [rawpack.pack(getattr(_ENV, f)) for f in Envelope.__struct_fields__]


def _with_field(index: int, encoded: bytes) -> bytes:
    fields = list(_FIELDS)
    fields[index] = encoded
    return rawpack.array_header(11) + b"".join(fields)


def test_the_hand_built_envelope_is_canonical():
    assert rawpack.array_header(11) + b"".join(_FIELDS) == encode_envelope(_ENV)
    assert decode_envelope(encode_envelope(_ENV)) == _ENV


NON_CANONICAL = {
    "version as uint8": _with_field(0, rawpack.uint(2, width=1)),
    "seq as uint16": _with_field(3, rawpack.uint(2, width=2)),
    "epoch as uint64": _with_field(5, rawpack.uint(3, width=8)),
    "space id as bin16": _with_field(1, rawpack.bin_(_ENV.space_id, width=2)),
    "ciphertext as bin32": _with_field(9, rawpack.bin_(_ENV.ciphertext, width=4)),
    "space id as str": _with_field(1, rawpack.str_(_ENV.space_id)),
    "signature as str": _with_field(10, rawpack.str_(_ENV.signature)),
    "key commitment as bin16": _with_field(7, rawpack.bin_(_ENV.key_commitment, width=2)),
    "array16 header": rawpack.array_header(11, wide=True) + b"".join(_FIELDS),
    "twelfth field": rawpack.array_header(12) + b"".join(_FIELDS) + rawpack.NIL,
    "trailing byte": encode_envelope(_ENV) + b"\x00",
    "map instead of array": msgspec.msgpack.encode(msgspec.structs.asdict(_ENV)),
}


@pytest.mark.parametrize("data", NON_CANONICAL.values(), ids=NON_CANONICAL.keys())
def test_non_canonical_encoding_of_an_envelope_is_rejected(data):
    with pytest.raises(EnvelopeFormatError):
        decode_envelope(data)


def test_prev_present_with_seq_1_is_rejected():
    data = _with_field(3, rawpack.uint(1))
    with pytest.raises(EnvelopeFormatError, match="prev"):
        decode_envelope(data)


def test_prev_missing_after_seq_1_is_rejected():
    data = _with_field(4, rawpack.NIL)
    with pytest.raises(EnvelopeFormatError, match="prev"):
        decode_envelope(data)


@pytest.mark.parametrize("version", [0, 1, 3, 255])
def test_unsupported_envelope_version_is_rejected(version):
    with pytest.raises(EnvelopeFormatError, match="version"):
        decode_envelope(_with_field(0, rawpack.uint(version)))


def test_a_version_1_envelope_of_ten_fields_is_refused_as_version_1():
    ten = [f for i, f in enumerate(_FIELDS) if i != 7]
    ten[0] = rawpack.uint(1)
    with pytest.raises(EnvelopeFormatError, match="version 1"):
        decode_envelope(rawpack.array_header(10) + b"".join(ten))


@pytest.mark.parametrize(
    ("index", "size"),
    [(1, 15), (2, 33), (4, 31), (6, 71), (7, 31), (8, 25), (9, 15), (10, 63)],
    ids=[
        "space_id",
        "author",
        "prev",
        "wrapped_key",
        "key_commitment",
        "nonce",
        "ciphertext",
        "signature",
    ],
)
def test_envelope_byte_field_of_the_wrong_size_is_rejected(index, size):
    with pytest.raises(EnvelopeFormatError, match="field invalid"):
        decode_envelope(_with_field(index, rawpack.bin_(bytes(size))))


def test_envelope_error_never_echoes_the_bytes():
    secret_looking = b"\xab" * 15
    with pytest.raises(EnvelopeFormatError) as excinfo:
        decode_envelope(_with_field(1, rawpack.bin_(secret_looking)))
    assert "ab" * 4 not in str(excinfo.value)


# --- payload evolution -------------------------------------------------------------


def test_payload_of_an_unknown_type_decodes_to_unknown_payload():
    raw = msgspec.msgpack.encode({"type": "sobriety_milestone", "days": 90})
    assert decode_payload(raw) == UnknownPayload(type="sobriety_milestone")
    assert payload_kind(decode_payload(raw)) == "sobriety_milestone"


def test_event_body_with_an_unknown_payload_type_still_decodes():
    raw = msgspec.msgpack.encode({"type": "from_the_future", "x": [1, 2]})
    body = EventBody(deps=[], lamport=1, recorded_at=0, occurred_at=0, payload=msgspec.Raw(raw))
    decoded = decode_body(encode_body(body))
    assert isinstance(decode_payload(decoded.payload), UnknownPayload)


def test_payload_of_a_known_type_ignores_fields_added_by_a_newer_version():
    raw = msgspec.msgpack.encode({"type": "journal_entry", "text": "hi", "colour": "blue"})
    assert decode_payload(raw) == JournalEntry(text="hi")


@pytest.mark.parametrize(
    "value",
    [{"text": "no type"}, {"type": 7}, [1, 2, 3], "journal_entry"],
    ids=["no tag", "tag not a string", "array", "bare string"],
)
def test_payload_without_a_string_type_is_a_format_error(value):
    with pytest.raises(PayloadFormatError, match="no type"):
        decode_payload(msgspec.msgpack.encode(value))


def test_payload_of_a_known_type_with_invalid_fields_is_a_format_error():
    raw = msgspec.msgpack.encode({"type": "journal_entry", "text": "", "mood": 9})
    with pytest.raises(PayloadFormatError, match="invalid"):
        decode_payload(raw)


def test_unknown_client_message_type_is_a_validation_error():
    with pytest.raises(msgspec.ValidationError):
        protocol.client_message_decoder.decode(msgspec.msgpack.encode({"type": "teleport"}))


def test_client_message_ignores_fields_added_by_a_newer_version():
    frame = msgspec.msgpack.encode({"type": "pull", "req": 4, "newer_field": True})
    assert protocol.client_message_decoder.decode(frame) == protocol.Pull(req=4)


def test_hex_id_in_an_http_body_rejects_a_trailing_newline():
    body = b'{"space_id": "' + b"a" * 32 + b'\\n", "genesis": ""}'
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(body, type=http.CreateSpaceRequest)


def test_invalid_utf8_in_a_payload_string_is_a_payload_format_error():
    # {"type": "journal_entry", "text": <0xff 0xfe>}: msgspec raises UnicodeDecodeError.
    raw = b"\x82\xa4type\xadjournal_entry\xa4text\xa2\xff\xfe"
    with pytest.raises(PayloadFormatError):
        decode_payload(raw)
    with pytest.raises(PayloadFormatError):
        decode_payload(b"\x81\xa4type\xa2\xff\xfe")
