"""The batched signature checker (client/keys/signatures.py over schemas/signatures.py).

Admission trusts exactly the envelopes this checker calls valid, so it must agree with
PyNaCl on every input, on the multi-thread path as on one thread, and when the GIL-free
libsodium symbol cannot be loaded.
"""

from __future__ import annotations

import threading

import nacl.signing
import pytest

from client.keys import crypto, signatures
from schemas import signatures as shared
from schemas.envelope import EnvelopeFormatError, decode_envelope, signature_parts, signed_bytes
from tests.client.builders import Built, Writer, entry, fixed_bytes, genesis

MESSAGE = b"a message someone signed"


def signed_items(count: int) -> tuple[list[shared.Item], list[bool]]:
    """Items mixing valid signatures with each kind of bad one, and what each should be."""
    items: list[shared.Item] = []
    expected: list[bool] = []
    for i in range(count):
        key = nacl.signing.SigningKey(fixed_bytes(f"signer {i}", 32))
        public = bytes(key.verify_key)
        message = MESSAGE + i.to_bytes(4, "big")
        signature = key.sign(message).signature
        match i % 6:
            case 0 | 1:
                item, ok = (public, message, signature), True
            case 2:
                item, ok = (public, message + b"!", signature), False
            case 3:
                item, ok = (public, message, bytes([signature[0] ^ 1]) + signature[1:]), False
            case 4:
                other = bytes(nacl.signing.SigningKey(fixed_bytes("other", 32)).verify_key)
                item, ok = (other, message, signature), False
            case _:
                item, ok = (public[:31], message, signature[:63]), False
        items.append(item)
        expected.append(ok)
    return items, expected


def test_the_fast_check_agrees_with_pynacl_on_every_kind_of_input() -> None:
    items, expected = signed_items(36)
    assert [shared.nacl_verify(*item) for item in items] == expected
    assert [shared.verify_signature(*item) for item in items] == expected


def test_a_long_list_split_over_threads_gives_the_same_answers_in_order() -> None:
    items, expected = signed_items(shared.MIN_PARALLEL_SIGNATURES * 3 + 5)
    assert shared.verify_all(items, threads=3) == expected
    assert shared.verify_all(items, threads=1) == expected
    if shared.GIL_FREE:
        # The work really went to the shared pool, not only the calling thread.
        assert any(t.name.startswith("trellis-verify") for t in threading.enumerate())


def test_a_short_list_stays_on_the_calling_thread() -> None:
    items, expected = signed_items(shared.MIN_PARALLEL_SIGNATURES - 1)
    assert shared.verify_all(items, threads=4) == expected


def test_without_the_libsodium_symbol_verification_falls_back_to_pynacl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shared, "find_spec", lambda _name: None)
    assert shared._gil_free_verify() is None
    items, expected = signed_items(12)
    assert [shared.nacl_verify(*item) for item in items] == expected


def test_with_the_fallback_a_page_is_checked_by_pynacl_on_one_thread_with_the_same_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the module chooses when libsodium's symbol cannot be loaded (above)."""
    monkeypatch.setattr(shared, "GIL_FREE", False)
    monkeypatch.setattr(shared, "verify_signature", shared.nacl_verify)
    assert shared.default_threads() == 1

    items, expected = signed_items(shared.MIN_PARALLEL_SIGNATURES + 6)
    assert shared.verify_all(items) == expected

    built = page_of(shared.MIN_PARALLEL_SIGNATURES + 2)
    page = [b.data for b in built]
    forged = bytearray(page[5])
    forged[-1] ^= 1
    page[5] = bytes(forged)
    assert signatures.valid_signatures(page) == {d for i, d in enumerate(page) if i != 5}


def test_the_gil_free_check_loads_when_pynacl_ships_libsodium() -> None:
    verify = shared._gil_free_verify()
    assert (verify is not None) == shared.GIL_FREE
    if verify is not None:
        items, expected = signed_items(12)
        assert [verify(*item) for item in items] == expected


def page_of(count: int) -> list[Built]:
    alex = Writer("alex", "Alex")
    return [genesis(alex), *(entry(alex, f"note {i}") for i in range(count - 1))]


def test_a_page_of_envelopes_is_valid_exactly_where_each_signature_verifies() -> None:
    built = page_of(4)
    forged = bytearray(built[2].data)
    forged[-1] ^= 1
    page = [built[0].data, built[1].data, bytes(forged), b"not an envelope", built[3].data]

    valid = signatures.valid_signatures(page)

    assert valid == {built[0].data, built[1].data, built[3].data}


def test_a_large_page_agrees_with_the_one_by_one_check() -> None:
    built = page_of(shared.MIN_PARALLEL_SIGNATURES * 2)
    page = [b.data for b in built]
    for i in range(0, len(page), 7):
        forged = bytearray(page[i])
        forged[-1] ^= 1
        page[i] = bytes(forged)

    valid = signatures.valid_signatures(page)

    one_by_one = {d for d in page if crypto.envelope_signature_valid(decode_envelope(d))}
    assert valid == one_by_one
    assert len(valid) == len(page) - len(range(0, len(page), 7))


def test_signatures_are_cut_from_canonical_envelopes_exactly_as_decoding_gives_them() -> None:
    # valid_signatures cuts (author, signed bytes, signature) out of the bytes instead
    # of decoding each envelope a second time; for every canonical envelope (a first one
    # with no prev included) that must be what decoding gives.
    for built in page_of(5):
        env = decode_envelope(built.data)
        assert signature_parts(built.data) == (env.author, signed_bytes(env), env.signature)
    assert signature_parts(b"not an envelope") is None


def test_whatever_a_page_holds_admission_trusts_only_what_decodes_and_verifies() -> None:
    # Any byte of a real envelope flipped: what the cut check calls valid is valid by
    # the full check too, or else is not canonical (admission refuses it at decoding).
    original = page_of(2)[1].data
    page = []
    for i in range(len(original)):
        flipped = bytearray(original)
        flipped[i] ^= 0x01
        page.append(bytes(flipped))
    valid = signatures.valid_signatures(page)
    for data in valid:
        try:
            env = decode_envelope(data)
        except EnvelopeFormatError:
            continue
        assert crypto.envelope_signature_valid(env)
