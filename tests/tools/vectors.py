"""Known-answer vectors for sealing an event (schemas/vectors/envelope.json).

Every input is fixed: keys and nonces are SHAKE-256 of a label, and the randomness that
``client.keys.crypto.seal_event`` draws is scripted, so the same code always produces the
same bytes. A client in another language checks its own sealing against these
(tests/crypto/test_vectors.py does it with raw libsodium calls).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from client.keys import crypto
from schemas.envelope import CONTENT_KEY_BYTES, NONCE_BYTES, encode_envelope, event_id_of
from schemas.envelope import header_bytes as envelope_header_bytes
from schemas.ids import EventId, SpaceId
from schemas.payloads import EventBody, JournalEntry, encode_body, encode_payload

VECTORS_FILE = "envelope.json"


def fixed_bytes(label: str, size: int) -> bytes:
    """Arbitrary but reproducible bytes, named by what they stand for."""
    return hashlib.shake_256(f"trellis test vector: {label}".encode()).digest(size)


class ScriptedRandom:
    """Hands out given byte strings in order, checking each request's size.

    ``seal_event`` draws content_key (32), then wrap_nonce (24), then nonce (24); if
    that order ever changes, generating the vectors fails instead of silently mixing
    the values up.
    """

    def __init__(self, *chunks: bytes) -> None:
        self._chunks = list(chunks)

    def __call__(self, size: int) -> bytes:
        if not self._chunks:
            raise AssertionError("seal_event drew more randomness than scripted")
        chunk = self._chunks.pop(0)
        if len(chunk) != size:
            raise AssertionError(f"seal_event asked for {size} bytes, script has {len(chunk)}")
        return chunk

    def assert_used_up(self) -> None:
        if self._chunks:
            raise AssertionError("seal_event drew less randomness than scripted")


@dataclass(frozen=True, slots=True)
class _Case:
    description: str
    space_key_label: str
    device_label: str
    seq: int
    prev: Callable[[list[bytes]], bytes | None]
    """The prev event id, given the event ids of the cases before this one."""
    epoch: int
    body: EventBody


_SPACE_ID = SpaceId(fixed_bytes("space id", 16))


def _journal(
    text: str,
    *,
    lamport: int,
    mood: int | None = None,
    tags: tuple[str, ...] = (),
    deps: tuple[bytes, ...] = (),
) -> EventBody:
    recorded_at = 1_767_225_600_000 + lamport * 60_000  # 2026-01-01T00:00Z onwards
    entry = JournalEntry(text=text, mood=mood, tags=list(tags))
    return EventBody(
        deps=list(deps),
        lamport=lamport,
        recorded_at=recorded_at,
        occurred_at=recorded_at - 3_600_000,
        payload=msgspec.Raw(encode_payload(entry)),
    )


_LONG_TEXT = (
    "Wir haben heute lange geredet, über die Abmachungen und darüber, was Vertrauen "
    "für uns beide heißt. Ça a été difficile. 今日はちゃんと話せた。 "
) * 30

_CASES = (
    _Case(
        description="first event of a device: seq 1, prev null, epoch 0",
        space_key_label="space key, epoch 0",
        device_label="device A",
        seq=1,
        prev=lambda ids: None,
        epoch=0,
        body=_journal("Went to my meeting tonight.", lamport=1, mood=4, tags=("meeting",)),
    ),
    _Case(
        description="the same device's next event: seq 2, prev is the first case's event id",
        space_key_label="space key, epoch 0",
        device_label="device A",
        seq=2,
        prev=lambda ids: ids[0],
        epoch=0,
        body=_journal(
            "We agreed to talk on Sunday evenings about how the week went. I want to keep "
            "that promise even when it is hard, and say so early when I feel like "
            "avoiding it. Writing it down here so we both remember what we said, and so "
            "I can look back at it in a few months.",
            lamport=2,
            mood=3,
            tags=("agreement", "sunday"),
        ),
    ),
    _Case(
        description="after a key rotation: epoch 1 under a new space key, seq 3, one dep",
        space_key_label="space key, epoch 1",
        device_label="device A",
        seq=3,
        prev=lambda ids: ids[1],
        epoch=1,
        body=_journal(
            "New keys after the old laptop was removed.",
            lamport=7,
            deps=(fixed_bytes("partner's latest event id", 32),),
        ),
    ),
    _Case(
        description="smallest journal entry: one character, no mood, tags or deps",
        space_key_label="space key, epoch 0",
        device_label="device B",
        seq=1,
        prev=lambda ids: None,
        epoch=0,
        body=_journal(".", lamport=1),
    ),
    _Case(
        description=(
            "large multi-byte UTF-8 entry padded across several Padmé sizes, ciphertext "
            "as msgpack bin 16; seq 1000 and epoch 70000 take uint16 and uint32 forms"
        ),
        space_key_label="space key, epoch 70000",
        device_label="device B",
        seq=1000,
        prev=lambda ids: fixed_bytes("device B event 999", 32),
        epoch=70_000,
        body=_journal(
            _LONG_TEXT,
            lamport=4321,
            mood=2,
            tags=("hard talk", "trust"),
            deps=(fixed_bytes("dep 1", 32), fixed_bytes("dep 2", 32)),
        ),
    ),
)


def _build(case: _Case, index: int, earlier_ids: list[bytes]) -> dict[str, object]:
    space_key = fixed_bytes(case.space_key_label, crypto.SPACE_KEY_BYTES)
    events_key = crypto.events_key_for(space_key)
    signing_seed = fixed_bytes(f"{case.device_label} signing seed", 32)
    device = crypto.DeviceKeys.from_seeds(
        signing_seed, fixed_bytes(f"{case.device_label} box secret", 32)
    )
    content_key = fixed_bytes(f"case {index} content key", CONTENT_KEY_BYTES)
    wrap_nonce = fixed_bytes(f"case {index} wrap nonce", NONCE_BYTES)
    nonce = fixed_bytes(f"case {index} nonce", NONCE_BYTES)
    plaintext = encode_body(case.body)
    prev = case.prev(earlier_ids)

    random = ScriptedRandom(content_key, wrap_nonce, nonce)
    env = crypto.seal_event(
        device=device,
        space_id=_SPACE_ID,
        seq=case.seq,
        prev=None if prev is None else EventId(prev),
        epoch=case.epoch,
        events_key=events_key,
        plaintext=plaintext,
        random_bytes=random,
    )
    random.assert_used_up()
    canonical = encode_envelope(env)
    event_id = event_id_of(canonical)
    earlier_ids.append(event_id)
    return {
        "description": case.description,
        "space_id": _SPACE_ID.hex(),
        "seq": case.seq,
        "prev": None if prev is None else prev.hex(),
        "epoch": case.epoch,
        "space_key": space_key.hex(),
        "signing_key_seed": signing_seed.hex(),
        "content_key": content_key.hex(),
        "wrap_nonce": wrap_nonce.hex(),
        "nonce": nonce.hex(),
        "plaintext": plaintext.hex(),
        "events_key": events_key.hex(),
        "author": bytes(device.device_id).hex(),
        "payload": crypto.pad(plaintext).hex(),
        "wrapped_key": env.wrapped_key.hex(),
        "key_commitment": env.key_commitment.hex(),
        "body": _decoded_body(case.body),
        "header": envelope_header_bytes(env).hex(),
        "ciphertext": env.ciphertext.hex(),
        "signature": env.signature.hex(),
        "envelope": canonical.hex(),
        "event_id": bytes(event_id).hex(),
    }


def _decoded_body(body: EventBody) -> dict[str, object]:
    """The plaintext as a reader should decode it (docs/PROTOCOL.md §5.1): byte strings
    in hex, the payload as its map."""
    payload = msgspec.msgpack.decode(bytes(body.payload))
    return {
        "deps": [bytes(d).hex() for d in body.deps],
        "lamport": body.lamport,
        "recorded_at": body.recorded_at,
        "occurred_at": body.occurred_at,
        "payload": payload,
    }


def envelope_vectors() -> list[dict[str, object]]:
    earlier_ids: list[bytes] = []
    return [_build(case, i, earlier_ids) for i, case in enumerate(_CASES)]


def render_envelope_vectors() -> bytes:
    """The contents of schemas/vectors/envelope.json."""
    text = json.dumps(envelope_vectors(), indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")
