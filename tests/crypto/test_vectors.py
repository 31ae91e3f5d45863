"""Known-answer test of event sealing against schemas/vectors/envelope.json.

This is the test a client in another language runs. Every value is re-derived from the
vector's inputs with raw libsodium calls (``nacl.bindings``), ``hashlib`` and the
independent msgpack writer in tests/tools/rawpack.py, following docs/PROTOCOL.md §3-4:

1. events_key  = BLAKE2b-256(message="", key=space_key, personal="trellis-events")
2. author      = Ed25519 public key of signing_key_seed
3. payload     = plaintext || 0x80 || zeros, up to padme_length(len(plaintext) + 1)
4. wrapped_key = wrap_nonce || XChaCha20-Poly1305-IETF(content_key, aad=none,
                                                       wrap_nonce, events_key)
5. commitment  = BLAKE2b-256(message="", key=content_key, personal="trellis-kcommit")
   header      = msgpack [version=2, space_id, author, seq, prev|nil, epoch,
                          wrapped_key, key_commitment, nonce]
6. ciphertext  = XChaCha20-Poly1305-IETF(payload, aad=header, nonce, content_key)
7. signature   = Ed25519(signing key, msgpack [...header fields, ciphertext])
8. envelope    = msgpack [...header fields, ciphertext, signature]
9. event_id    = BLAKE2b-256(envelope), unkeyed, no personalisation
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import msgspec
import nacl.bindings as sodium
import pytest

from client.keys import crypto
from schemas.envelope import decode_envelope
from schemas.payloads import JournalEntry, decode_body, decode_payload
from tests.tools.rawpack import pack

VECTORS_PATH = Path(__file__).resolve().parents[2] / "schemas" / "vectors" / "envelope.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text())


def _padme_length(length: int) -> int:
    # Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication
    # with PURBs", PETS 2019, Algorithm 1.
    if length < 2:
        return length
    e = length.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (length + mask) & ~mask


def _h(vector: dict[str, Any], field: str) -> bytes:
    return bytes.fromhex(vector[field])


def _blake2b_keyed(key: bytes, purpose: bytes) -> bytes:
    # hashlib, not libsodium.js-style crypto_generichash_blake2b_salt_personal wrappers
    # that hash only an empty message: the call below is plain BLAKE2b with key and
    # personal, which every BLAKE2b library offers (docs/PROTOCOL.md §3.1).
    return hashlib.blake2b(b"", digest_size=32, key=key, person=purpose).digest()


def _header_fields(
    v: dict[str, Any], author: bytes, wrapped_key: bytes, commitment: bytes
) -> list[Any]:
    prev = None if v["prev"] is None else _h(v, "prev")
    return [
        2,
        _h(v, "space_id"),
        author,
        v["seq"],
        prev,
        v["epoch"],
        wrapped_key,
        commitment,
        _h(v, "nonce"),
    ]


def _rederive(v: dict[str, Any]) -> dict[str, bytes]:
    person = b"trellis-events".ljust(16, b"\x00")
    events_key = sodium.crypto_generichash_blake2b_salt_personal(
        b"", digest_size=32, key=_h(v, "space_key"), person=person
    )
    author, secret_key = sodium.crypto_sign_seed_keypair(_h(v, "signing_key_seed"))
    plaintext = _h(v, "plaintext")
    target = _padme_length(len(plaintext) + 1)
    payload = plaintext + b"\x80" + bytes(target - len(plaintext) - 1)
    wrap_nonce = _h(v, "wrap_nonce")
    wrapped_key = wrap_nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        _h(v, "content_key"), None, wrap_nonce, events_key
    )
    commitment = _blake2b_keyed(_h(v, "content_key"), b"trellis-kcommit")
    fields = _header_fields(v, author, wrapped_key, commitment)
    header = pack(fields)
    ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        payload, header, _h(v, "nonce"), _h(v, "content_key")
    )
    signature = sodium.crypto_sign(pack([*fields, ciphertext]), secret_key)[:64]
    envelope = pack([*fields, ciphertext, signature])
    return {
        "events_key": events_key,
        "author": author,
        "payload": payload,
        "wrapped_key": wrapped_key,
        "key_commitment": commitment,
        "header": header,
        "ciphertext": ciphertext,
        "signature": signature,
        "envelope": envelope,
        "event_id": hashlib.blake2b(envelope, digest_size=32).digest(),
    }


def _ids(v: dict[str, Any]) -> str:
    return str(v["description"])


def test_the_vectors_cover_the_cases_another_client_needs():
    assert len(VECTORS) >= 4
    assert any(v["seq"] == 1 and v["prev"] is None for v in VECTORS)
    assert any(v["prev"] is not None for v in VECTORS)
    assert len({v["epoch"] for v in VECTORS}) >= 2
    padded_sizes = {len(v["payload"]) // 2 for v in VECTORS}
    assert len(padded_sizes) >= 4
    assert max(padded_sizes) > 4096


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
@pytest.mark.parametrize(
    "field",
    [
        "events_key",
        "author",
        "payload",
        "wrapped_key",
        "key_commitment",
        "header",
        "ciphertext",
        "signature",
        "envelope",
        "event_id",
    ],
)
def test_independent_derivation_reproduces_the_vector(vector, field):
    assert _rederive(vector)[field].hex() == vector[field]


def test_second_event_chains_to_the_first_by_event_id():
    assert VECTORS[1]["prev"] == VECTORS[0]["event_id"]
    assert VECTORS[1]["seq"] == VECTORS[0]["seq"] + 1


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_client_opens_the_vector_envelope_to_its_plaintext(vector):
    env = decode_envelope(_h(vector, "envelope"))
    assert crypto.envelope_signature_valid(env)
    assert crypto.open_event(_h(vector, "events_key"), env) == _h(vector, "plaintext")


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_vector_plaintext_is_an_event_body_carrying_a_journal_entry(vector):
    body = decode_body(_h(vector, "plaintext"))
    assert isinstance(decode_payload(body.payload), JournalEntry)


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_client_derives_the_vector_events_key_from_the_space_key(vector):
    assert crypto.events_key_for(_h(vector, "space_key")) == _h(vector, "events_key")


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_vector_body_is_the_decoded_plaintext(vector):
    body = decode_body(_h(vector, "plaintext"))
    expected = vector["body"]
    assert [d.hex() for d in body.deps] == expected["deps"]
    assert (body.lamport, body.recorded_at, body.occurred_at) == (
        expected["lamport"],
        expected["recorded_at"],
        expected["occurred_at"],
    )
    assert msgspec.msgpack.decode(bytes(body.payload)) == expected["payload"]


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_a_different_content_key_is_refused_by_the_commitment(vector):
    env = decode_envelope(_h(vector, "envelope"))
    with pytest.raises(crypto.KeyCommitmentError):
        crypto.open_with_content_key(bytes(32), env)
