"""Behaviour of client/keys/crypto.py: padding, sealing events, the vault, invites and the
safety number (docs/PROTOCOL.md §3-4)."""

from __future__ import annotations

import hashlib
import re
from functools import cache

import msgspec
import nacl.pwhash.argon2id as argon2id
import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.keys import aead_direct, crypto
from schemas.envelope import Envelope, EnvelopeFormatError, decode_envelope, encode_envelope
from schemas.ids import DeviceId, EventId, SpaceId
from tests.tools.vectors import fixed_bytes

SPACE_ID = SpaceId(fixed_bytes("crypto tests space id", 16))
SPACE_KEY = fixed_bytes("crypto tests space key", 32)
EVENTS_KEY = crypto.events_key_for(SPACE_KEY)
DEVICE = crypto.DeviceKeys.from_seeds(
    fixed_bytes("crypto tests signing seed", 32), fixed_bytes("crypto tests box secret", 32)
)
PLAINTEXT = b"We talked about the weekend and it went well."
PREV = EventId(fixed_bytes("crypto tests prev", 32))

FAST_VAULT = {"opslimit": argon2id.OPSLIMIT_MIN, "memlimit": argon2id.MEMLIMIT_MIN}


def _seal(
    plaintext: bytes = PLAINTEXT, *, seq: int = 2, epoch: int = 5, events_key: bytes = EVENTS_KEY
) -> Envelope:
    return crypto.seal_event(
        device=DEVICE,
        space_id=SPACE_ID,
        seq=seq,
        prev=None if seq == 1 else PREV,
        epoch=epoch,
        events_key=events_key,
        plaintext=plaintext,
    )


@cache
def _sealed() -> Envelope:
    return _seal()


def _opens(env: Envelope) -> bool:
    try:
        crypto.open_event(EVENTS_KEY, env)
    except crypto.CryptoError:
        return False
    return True


# --- sub-keys ----------------------------------------------------------------------


def test_events_key_is_keyed_blake2b_with_the_events_purpose():
    expected = hashlib.blake2b(b"", digest_size=32, key=SPACE_KEY, person=b"trellis-events")
    assert expected.digest() == EVENTS_KEY


def test_sub_keys_for_different_purposes_differ():
    purposes = [
        crypto.EVENTS_PURPOSE,
        crypto.INVITE_ID_PURPOSE,
        crypto.INVITE_WRAP_PURPOSE,
        crypto.INVITE_SIGN_PURPOSE,
        crypto.SAFETY_NUMBER_PURPOSE,
    ]
    assert all(len(p) <= 16 for p in purposes)
    assert len({crypto.derive_subkey(SPACE_KEY, p) for p in purposes}) == len(purposes)


# --- Padmé padding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "padded"),
    [
        (0, 0),
        (1, 1),
        (2, 2),
        (8, 8),
        (9, 10),
        (100, 104),
        (129, 144),
        (1000, 1024),
        (1025, 1088),
        (5000, 5120),
    ],
)
def test_padme_length_matches_known_values(length, padded):
    assert crypto.padme_length(length) == padded


@given(st.integers(min_value=0, max_value=2**40))
def test_padme_length_never_shrinks_is_idempotent_and_costs_at_most_an_eighth(length):
    # Padmé rounds to a multiple of 2^(E-S) with E = floor(log2 L), S = bits of E: the
    # padding is below 2^E / 2^S <= L / 8 (S >= 3 from E = 4 on; below that at most 1 byte
    # on L >= 8). "A ninth" was wrong: L = 129 pads to 144 (hypothesis found it).
    padded = crypto.padme_length(length)
    assert padded >= length
    assert crypto.padme_length(padded) == padded
    assert (padded - length) * 8 <= length


@given(st.integers(min_value=0, max_value=2**40))
def test_padme_length_is_monotonic(length):
    assert crypto.padme_length(length) <= crypto.padme_length(length + 1)


@given(st.binary(max_size=5000))
def test_pad_then_unpad_returns_the_plaintext(plaintext):
    padded = crypto.pad(plaintext)
    assert len(padded) == crypto.padme_length(len(plaintext) + 1)
    assert crypto.unpad(padded) == plaintext


@given(st.binary(max_size=64).map(lambda b: b + b"\x80"))
def test_plaintext_ending_in_the_padding_marker_survives_padding(plaintext):
    assert crypto.unpad(crypto.pad(plaintext)) == plaintext


@pytest.mark.parametrize(
    "padded",
    [b"", b"\x00\x00\x00", b"abc", b"abc\x80\x01", b"abc\x81\x00"],
    ids=["empty", "only zeros", "no marker", "byte after marker", "wrong marker"],
)
def test_unpad_rejects_malformed_padding(padded):
    with pytest.raises(crypto.CryptoError, match="padding"):
        crypto.unpad(padded)


# --- sealing and opening events ----------------------------------------------------


@given(st.binary(max_size=3000), st.integers(1, 2**20), st.integers(0, 2**31 - 1))
def test_sealed_event_opens_to_its_plaintext_and_carries_a_valid_signature(plaintext, seq, epoch):
    env = _seal(plaintext, seq=seq, epoch=epoch)
    decoded = decode_envelope(encode_envelope(env))
    assert crypto.envelope_signature_valid(decoded)
    assert crypto.open_event(EVENTS_KEY, decoded) == plaintext


def test_ciphertext_length_is_the_padded_length_plus_the_tag():
    env = _seal(b"x" * 1000)
    assert len(env.ciphertext) == crypto.padme_length(1001) + 16


def test_each_seal_uses_a_fresh_content_key_and_nonces():
    first, second = _seal(), _seal()
    assert first.nonce != second.nonce
    assert first.wrapped_key != second.wrapped_key
    assert crypto.content_key_of(EVENTS_KEY, first) != crypto.content_key_of(EVENTS_KEY, second)


def test_content_key_alone_opens_its_event_for_a_selective_export():
    env = _sealed()
    content_key = crypto.content_key_of(EVENTS_KEY, env)
    assert crypto.open_with_content_key(content_key, env) == PLAINTEXT
    other = _seal(b"another event")
    with pytest.raises(crypto.CryptoError):
        crypto.open_with_content_key(content_key, other)


def test_event_does_not_open_under_another_epochs_key():
    other_events_key = crypto.events_key_for(fixed_bytes("another epoch space key", 32))
    with pytest.raises(crypto.CryptoError):
        crypto.open_event(other_events_key, _sealed())


_BYTE_FIELDS = ["space_id", "author", "prev", "wrapped_key", "nonce", "ciphertext"]


@given(
    field=st.sampled_from(_BYTE_FIELDS),
    position=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_flipped_byte_in_any_sealed_field_fails_both_signature_and_opening(field, position, flip):
    env = _sealed()
    value = bytearray(getattr(env, field))
    value[position % len(value)] ^= flip
    tampered = msgspec.structs.replace(env, **{field: bytes(value)})
    assert not crypto.envelope_signature_valid(tampered)
    assert not _opens(tampered)


@given(position=st.integers(min_value=0, max_value=63), flip=st.integers(1, 255))
def test_flipped_byte_in_the_signature_fails_the_signature_check(position, flip):
    env = _sealed()
    signature = bytearray(env.signature)
    signature[position] ^= flip
    tampered = msgspec.structs.replace(env, signature=bytes(signature))
    assert not crypto.envelope_signature_valid(tampered)


@given(position=st.integers(min_value=0), flip=st.integers(1, 255))
def test_flipped_byte_anywhere_in_the_canonical_bytes_is_caught(position, flip):
    data = bytearray(encode_envelope(_sealed()))
    data[position % len(data)] ^= flip
    try:
        env = decode_envelope(bytes(data))
    except EnvelopeFormatError:
        return
    assert not crypto.envelope_signature_valid(env)


@pytest.mark.parametrize(
    "change",
    [
        {"space_id": fixed_bytes("some other space", 16)},
        {"seq": 3},
        {"prev": fixed_bytes("some other prev", 32)},
        {"epoch": 6},
    ],
    ids=["other space", "other seq", "other prev", "other epoch"],
)
def test_envelope_moved_elsewhere_in_the_log_fails_to_open_even_if_re_signed(change):
    env = _sealed()
    moved = msgspec.structs.replace(env, **change)
    resigned = msgspec.structs.replace(moved, signature=DEVICE.sign(crypto.signed_bytes(moved)))
    assert crypto.envelope_signature_valid(resigned)
    with pytest.raises(crypto.CryptoError, match="did not authenticate"):
        crypto.open_event(EVENTS_KEY, resigned)


def test_signature_by_another_device_is_rejected():
    other = crypto.DeviceKeys.from_seeds(fixed_bytes("other seed", 32), fixed_bytes("b", 32))
    env = _sealed()
    forged = msgspec.structs.replace(env, signature=other.sign(crypto.signed_bytes(env)))
    assert not crypto.envelope_signature_valid(forged)


@pytest.mark.parametrize(
    ("verify_key", "signature"),
    [(b"\x00" * 31, b"\x00" * 64), (b"\x01" * 32, b"\x00" * 63), (b"", b"")],
    ids=["short key", "short signature", "empty"],
)
def test_verify_signature_returns_false_for_malformed_keys_and_signatures(verify_key, signature):
    assert crypto.verify_signature(verify_key, b"message", signature) is False


# --- key delivery ------------------------------------------------------------------


def test_sealed_box_opens_only_with_the_recipients_private_key():
    sealed = crypto.seal_to_device(DEVICE.box_public_key, SPACE_KEY)
    assert crypto.open_sealed(DEVICE.box_private_key, sealed) == SPACE_KEY
    stranger = crypto.DeviceKeys.from_seeds(fixed_bytes("s", 32), fixed_bytes("stranger", 32))
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(stranger.box_private_key, sealed)


# --- passphrase vault --------------------------------------------------------------


def test_vault_opens_with_the_right_passphrase():
    blob = crypto.seal_vault("correct horse battery staple", SPACE_KEY, **FAST_VAULT)
    assert crypto.open_vault("correct horse battery staple", blob) == SPACE_KEY


def test_vault_refuses_a_wrong_passphrase():
    blob = crypto.seal_vault("correct horse battery staple", SPACE_KEY, **FAST_VAULT)
    with pytest.raises(crypto.CryptoError):
        crypto.open_vault("correct horse battery stapler", blob)


def test_vault_records_its_argon2id_parameters_and_survives_encoding():
    blob = crypto.seal_vault("pass", SPACE_KEY, **FAST_VAULT)
    assert (blob.opslimit, blob.memlimit) == (argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)
    decoded = msgspec.msgpack.decode(msgspec.msgpack.encode(blob), type=crypto.VaultBlob)
    assert crypto.open_vault("pass", decoded) == SPACE_KEY


def test_vault_with_a_tampered_ciphertext_does_not_open():
    blob = crypto.seal_vault("pass", SPACE_KEY, **FAST_VAULT)
    flipped = bytes([blob.ciphertext[0] ^ 1]) + blob.ciphertext[1:]
    tampered = msgspec.structs.replace(blob, ciphertext=flipped)
    with pytest.raises(crypto.CryptoError):
        crypto.open_vault("pass", tampered)


def test_vault_salts_differ_so_equal_passphrases_give_different_blobs():
    first = crypto.seal_vault("pass", SPACE_KEY, **FAST_VAULT)
    second = crypto.seal_vault("pass", SPACE_KEY, **FAST_VAULT)
    assert first.salt != second.salt
    assert first.ciphertext != second.ciphertext


# --- invite codes ------------------------------------------------------------------

INVITE_CODE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$")


@given(st.binary(min_size=crypto.INVITE_SECRET_BYTES, max_size=crypto.INVITE_SECRET_BYTES))
def test_invite_code_is_eight_groups_of_four_base32_characters_and_parses_back(secret):
    code = crypto.format_invite_code(secret)
    assert INVITE_CODE.match(code)
    assert crypto.parse_invite_code(code) == secret


@given(st.binary(min_size=crypto.INVITE_SECRET_BYTES, max_size=crypto.INVITE_SECRET_BYTES))
def test_invite_code_parsing_forgives_lowercase_spaces_and_missing_dashes(secret):
    code = crypto.format_invite_code(secret)
    assert crypto.parse_invite_code(code.lower()) == secret
    assert crypto.parse_invite_code(code.replace("-", " ")) == secret
    assert crypto.parse_invite_code(code.replace("-", "")) == secret
    assert crypto.parse_invite_code(f"  {code.lower()}\n") == secret


def test_invite_code_parsing_reads_digits_typed_for_look_alike_letters():
    # 0, 1 and 8 are not base32 digits; people type them for O, I and B.
    letters = "OIB" + "A" * 29
    assert crypto.parse_invite_code(letters) is not None
    assert crypto.parse_invite_code("018" + "A" * 29) == crypto.parse_invite_code(letters)


@pytest.mark.parametrize("size", [0, 10, 19, 21, 25])
def test_invite_code_of_the_wrong_length_is_rejected(size):
    assert crypto.parse_invite_code(crypto.format_invite_code(bytes(size))) is None


@pytest.mark.parametrize(
    "code",
    ["", "hello", "!!!!-!!!!-!!!!-!!!!-!!!!-!!!!-!!!!-!!!!", "9" * 32, "é" * 32, "A" * 30 + "=="],
    ids=["empty", "word", "punctuation", "not base32", "non-ascii", "padding"],
)
def test_invite_code_garbage_is_rejected(code):
    assert crypto.parse_invite_code(code) is None


@given(st.text(max_size=60))
def test_invite_code_parsing_never_raises(text):
    parsed = crypto.parse_invite_code(text)
    assert parsed is None or len(parsed) == crypto.INVITE_SECRET_BYTES


# --- invite keys -------------------------------------------------------------------


def test_invite_keys_are_derived_deterministically_from_the_secret():
    secret = fixed_bytes("invite secret", crypto.INVITE_SECRET_BYTES)
    first, second = crypto.InviteKeys.from_secret(secret), crypto.InviteKeys.from_secret(secret)
    assert first.invite_id == second.invite_id
    assert len(first.invite_id) == 16
    assert first.verify_key == second.verify_key
    assert first.wrap_key != first.invite_id


def test_invite_keys_wrap_and_unwrap_the_space_keys():
    keys = crypto.InviteKeys.from_secret(crypto.new_invite_secret())
    assert keys.unwrap(keys.wrap(SPACE_KEY)) == SPACE_KEY


def test_a_different_invite_secret_cannot_unwrap():
    keys = crypto.InviteKeys.from_secret(crypto.new_invite_secret())
    other = crypto.InviteKeys.from_secret(crypto.new_invite_secret())
    with pytest.raises(crypto.CryptoError):
        other.unwrap(keys.wrap(SPACE_KEY))


@given(st.binary(max_size=120))
def test_wrapped_keys_from_the_relay_that_do_not_open_raise_only_crypto_error(wrapped):
    # InviteInfo.wrapped_keys comes from the relay: nothing it sends may crash the
    # client with anything but CryptoError (lengths 24-39 once raised ValueError).
    keys = crypto.InviteKeys.from_secret(fixed_bytes("invite secret", 20))
    with pytest.raises(crypto.CryptoError):
        keys.unwrap(wrapped)


def test_invite_signature_verifies_under_the_invite_verify_key():
    keys = crypto.InviteKeys.from_secret(crypto.new_invite_secret())
    assert crypto.verify_signature(keys.verify_key, b"proof", keys.sign(b"proof"))
    assert not crypto.verify_signature(keys.verify_key, b"other", keys.sign(b"proof"))


# --- safety number -----------------------------------------------------------------

DEVICE_IDS = [DeviceId(fixed_bytes(f"device {i}", 32)) for i in range(3)]
SAFETY_NUMBER = re.compile(r"^\d{5}( \d{5}){5}$")


def test_safety_number_is_six_groups_of_five_digits():
    assert SAFETY_NUMBER.match(crypto.safety_number(SPACE_ID, DEVICE_IDS[:2]))


@given(st.permutations(DEVICE_IDS))
def test_safety_number_does_not_depend_on_the_order_of_devices(devices):
    assert crypto.safety_number(SPACE_ID, list(devices)) == crypto.safety_number(
        SPACE_ID, DEVICE_IDS
    )


def test_safety_number_changes_when_a_device_is_added():
    before = crypto.safety_number(SPACE_ID, DEVICE_IDS[:2])
    assert crypto.safety_number(SPACE_ID, DEVICE_IDS) != before


def test_safety_number_changes_when_a_device_key_is_substituted():
    substituted = [DEVICE_IDS[0], DeviceId(fixed_bytes("relay's own key", 32))]
    assert crypto.safety_number(SPACE_ID, substituted) != crypto.safety_number(
        SPACE_ID, DEVICE_IDS[:2]
    )


def test_safety_number_differs_between_spaces():
    other_space = SpaceId(fixed_bytes("another space", 16))
    assert crypto.safety_number(other_space, DEVICE_IDS) != crypto.safety_number(
        SPACE_ID, DEVICE_IDS
    )


# --- comparisons -------------------------------------------------------------------


def test_secrets_equal_compares_contents():
    assert crypto.secrets_equal(b"same secret", b"same secret")
    assert not crypto.secrets_equal(b"same secret", b"same secreT")
    assert not crypto.secrets_equal(b"short", b"longer secret")


# --- opening through libsodium directly ------------------------------------------------


@given(
    plaintext=st.binary(max_size=300),
    aad=st.one_of(st.none(), st.binary(max_size=64)),
    flip=st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)),
)
def test_opening_directly_agrees_with_pynacl_on_every_ciphertext(
    plaintext: bytes, aad: bytes | None, flip: int | None
) -> None:
    # Opening calls libsodium without PyNaCl's per-argument wrapper (it cost twice the
    # decryption during catch-up); what opens, and what fails, must not change.
    import nacl.bindings
    import nacl.exceptions

    key, nonce = fixed_bytes("direct key", 32), fixed_bytes("direct nonce", 24)
    sealed = bytearray(
        nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)
    )
    if flip is not None:
        sealed[flip % len(sealed)] ^= 0x01
    try:
        expected: bytes | None = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            bytes(sealed), aad, nonce, key
        )
    except nacl.exceptions.CryptoError:
        expected = None
    assert aead_direct.AVAILABLE, "PyNaCl's libsodium is reachable directly"
    try:
        opened: bytes | None = crypto._open(key, nonce, bytes(sealed), aad)
    except crypto.CryptoError:
        opened = None
    assert opened == expected
    with pytest.raises(crypto.CryptoError):
        crypto._open(fixed_bytes("another key", 32), nonce, bytes(sealed), aad)
