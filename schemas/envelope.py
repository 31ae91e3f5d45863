"""The envelope: what the relay stores and forwards (docs/PROTOCOL.md §4).

An envelope is a msgpack array of eleven fields in a fixed order. The canonical bytes are
msgspec's msgpack encoding of that array: integers in their shortest form, byte strings
as ``bin``, ``None`` as ``nil``. Any language can rebuild them, so signatures and event
ids do not depend on our library.

    header  = [version, space_id, author, seq, prev, epoch, wrapped_key, key_commitment,
               nonce]
    signed  = header + [ciphertext]           -> Ed25519 signature by ``author``
    envelope = signed + [signature]           -> BLAKE2b-256 gives the event id

The header is also the associated data of the payload encryption, so a ciphertext
cannot be moved to another space, author, position or epoch without failing to open.

Version 2 added ``key_commitment`` (docs/PROTOCOL.md §4.7): XChaCha20-Poly1305 does not
commit to its key, so one ciphertext can be made to open under two content keys to two
different payloads. The signed header names a hash of the one content key that counts,
and every reader refuses any other key. Version 1 envelopes are refused: there is no
compatibility path.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

import msgspec

from schemas.ids import DEVICE_ID_BYTES, EVENT_ID_BYTES, SPACE_ID_BYTES, EventId

ENVELOPE_VERSION = 2
KEY_COMMITMENT_PURPOSE = b"trellis-kcommit"
"""Personalisation of the key commitment's keyed BLAKE2b (docs/PROTOCOL.md §4.7)."""
KEY_COMMITMENT_BYTES = 32
MAX_EPOCH = 2**31 - 1
"""The largest epoch: the same limit as ``KeyRotated.epoch``, which starts every epoch
after 0, so an envelope can never name an epoch no rotation could reach."""
NONCE_BYTES = 24
"""XChaCha20-Poly1305-IETF public nonce."""
AEAD_TAG_BYTES = 16
CONTENT_KEY_BYTES = 32
WRAPPED_KEY_BYTES = NONCE_BYTES + CONTENT_KEY_BYTES + AEAD_TAG_BYTES
"""wrap_nonce || XChaCha20-Poly1305(events_key, content_key)."""
SIGNATURE_BYTES = 64
MAX_CIPHERTEXT_BYTES = 256 * 1024
"""Hard ceiling of the format; relays may set a lower limit (docs/OPERATIONS.md)."""


def _fixed(size: int) -> msgspec.Meta:
    return msgspec.Meta(min_length=size, max_length=size)


class Envelope(msgspec.Struct, array_like=True, frozen=True):
    """One signed, encrypted event. Field order is part of the wire format: never reorder."""

    version: Annotated[int, msgspec.Meta(ge=ENVELOPE_VERSION, le=ENVELOPE_VERSION)]
    space_id: Annotated[bytes, _fixed(SPACE_ID_BYTES)]
    author: Annotated[bytes, _fixed(DEVICE_ID_BYTES)]
    seq: Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]
    prev: Annotated[bytes, _fixed(EVENT_ID_BYTES)] | None
    epoch: Annotated[int, msgspec.Meta(ge=0, le=MAX_EPOCH)]
    wrapped_key: Annotated[bytes, _fixed(WRAPPED_KEY_BYTES)]
    key_commitment: Annotated[bytes, _fixed(KEY_COMMITMENT_BYTES)]
    """:func:`key_commitment_of` the content key: binds the one key that opens this event."""
    nonce: Annotated[bytes, _fixed(NONCE_BYTES)]
    ciphertext: Annotated[
        bytes, msgspec.Meta(min_length=AEAD_TAG_BYTES, max_length=MAX_CIPHERTEXT_BYTES)
    ]
    signature: Annotated[bytes, _fixed(SIGNATURE_BYTES)]


class EnvelopeFormatError(ValueError):
    """Bytes that are not a well-formed, canonical envelope.

    The message names the field or rule that failed; it never contains the bytes.
    """


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Envelope)


def header_tuple(env: Envelope) -> tuple[object, ...]:
    return (
        env.version,
        env.space_id,
        env.author,
        env.seq,
        env.prev,
        env.epoch,
        env.wrapped_key,
        env.key_commitment,
        env.nonce,
    )


def header_bytes(env: Envelope) -> bytes:
    """Associated data for the payload encryption (docs/PROTOCOL.md §4.2)."""
    return _encoder.encode(header_tuple(env))


def signed_bytes(env: Envelope) -> bytes:
    """The bytes the author's Ed25519 signature covers (docs/PROTOCOL.md §4.3)."""
    return _encoder.encode((*header_tuple(env), env.ciphertext))


_SIGNED_START = b"\x9a"
"""A msgpack array of ten: the signed fields (the envelope's eleven minus the signature)."""
_V2_START = b"\x9b\x02\xc4\x10"
_AUTHOR_TAG = b"\xc4\x20"
_SIGNATURE_TAG = b"\xc4\x40"


def signature_parts(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(author, signed bytes, signature) cut straight out of a version 2 envelope's
    bytes, without decoding it; None when the bytes do not have that shape.

    For a canonical envelope this is exactly ``(env.author, signed_bytes(env),
    env.signature)``: the signed bytes are the same ten encoded fields under a ten-array
    header, and the signature is the last field, a 64-byte ``bin``. For any other bytes
    of that shape it is a guess that can only make a signature fail: whoever uses it
    must still decode the envelope strictly before trusting anything in it (admission
    does, and refuses what is not canonical)."""
    if (
        len(data) < 54 + 2 + SIGNATURE_BYTES
        or data[:4] != _V2_START
        or data[20:22] != _AUTHOR_TAG
        or data[-SIGNATURE_BYTES - 2 : -SIGNATURE_BYTES] != _SIGNATURE_TAG
    ):
        return None
    return data[22:54], _SIGNED_START + data[1 : -SIGNATURE_BYTES - 2], data[-SIGNATURE_BYTES:]


def key_commitment_of(content_key: bytes) -> bytes:
    """BLAKE2b-256 keyed with the content key, personalised with ``trellis-kcommit``, over
    the empty message (docs/PROTOCOL.md §4.7).

    Collision resistance of BLAKE2b means no one can find a second content key with the
    same commitment, so the signed header fixes the one key, and so the one plaintext,
    of the event. It reveals nothing of the key: it is a pseudorandom function of it.
    """
    return hashlib.blake2b(
        b"", digest_size=KEY_COMMITMENT_BYTES, key=content_key, person=KEY_COMMITMENT_PURPOSE
    ).digest()


def encode_envelope(env: Envelope) -> bytes:
    """Canonical bytes of a whole envelope."""
    return _encoder.encode(env)


def event_id_of(canonical: bytes) -> EventId:
    """BLAKE2b-256 (unkeyed, no personalisation) of canonical envelope bytes."""
    return EventId(hashlib.blake2b(canonical, digest_size=32).digest())


def decode_envelope(data: bytes) -> Envelope:
    """Decode and check that ``data`` is exactly the canonical form.

    Requiring canonical bytes means every party computes the same event id from what it
    received; a relay or peer cannot make two encodings of one event.
    """
    # Read the version first so an envelope of another version is named as such, not
    # as a field error (its field count differs).
    version = _version_of(data)
    if version is not None and version != ENVELOPE_VERSION:
        raise EnvelopeFormatError(f"unsupported envelope version {version}")
    try:
        env = _decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise EnvelopeFormatError(f"envelope field invalid: {exc}") from None
    except msgspec.DecodeError:
        raise EnvelopeFormatError("envelope is not valid msgpack") from None
    if (env.seq == 1) != (env.prev is None):
        raise EnvelopeFormatError("prev must be empty exactly when seq is 1")
    if _encoder.encode(env) != data:
        raise EnvelopeFormatError("envelope is not in canonical form")
    return env


def _version_of(data: bytes) -> int | None:
    """The first element of a msgpack fixarray if it is a small integer, else None."""
    if len(data) < 2 or not 0x90 <= data[0] <= 0x9F:
        return None
    if data[1] < 0x80:
        return data[1]
    return data[2] if data[1] == 0xCC and len(data) >= 3 else None
