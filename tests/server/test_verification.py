"""Where the relay verifies pushed signatures (server/verification.py): one-event pushes
on the loop, larger ones on worker threads, every one of them verified."""

from __future__ import annotations

import asyncio

import msgspec

from schemas.envelope import decode_envelope, encode_envelope
from server.ingest import check_batch, signature_items
from server.verification import INLINE_MAX_SIGNATURES, SignatureVerifier
from tests.server.helpers import Device, new_space_id

MAX_ENVELOPE_BYTES = 4096


def _items(count: int, forged_at: int | None = None) -> list[tuple[bytes, bytes, bytes]]:
    space_id, alex = new_space_id(), Device()
    raws = [alex.envelope(space_id) for _ in range(count)]
    if forged_at is not None:
        env = decode_envelope(raws[forged_at])
        raws[forged_at] = encode_envelope(
            msgspec.structs.replace(env, signature=Device().sign(b"not this event"))
        )
    checked = check_batch(raws, space_id, MAX_ENVELOPE_BYTES, verify=False)
    assert isinstance(checked, list)
    return signature_items(checked)


def test_a_one_event_push_is_verified_on_the_calling_thread_without_a_hand_off() -> None:
    # The hand-off to a worker cost the loop about as much as the verification itself
    # (single-event ingest was held back by it); one signature is checked in place.
    assert INLINE_MAX_SIGNATURES == 1
    verifier = SignatureVerifier(threads=2)
    try:
        assert verifier.verify_inline(_items(1)) == [True]
        assert verifier.verify_inline(_items(1, forged_at=0)) == [False]
        assert (verifier.inline, verifier.batches) == (2, 0)
    finally:
        verifier.close()


def test_a_larger_push_is_left_to_the_workers_and_still_verified_there() -> None:
    verifier = SignatureVerifier(threads=2)

    async def verify(items: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
        assert verifier.verify_inline(items) is None
        return await verifier.verify(items)

    try:
        results = asyncio.run(verify(_items(3, forged_at=2)))
        assert results == [True, True, False]
        assert (verifier.inline, verifier.batches) == (0, 1)
    finally:
        verifier.close()
