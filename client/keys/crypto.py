"""All of the client's key handling, in one place (docs/PROTOCOL.md §3).

Every key has a name that says what it is. Sub-keys are derived from a root with keyed
BLAKE2b-256 and a per-purpose personalisation string (the constants below), which is
libsodium's ``crypto_generichash_blake2b_salt_personal`` with an empty message, a zero
salt and the purpose zero-padded to 16 bytes. Randomness is injectable so tests can
check known-answer vectors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
import nacl.bindings as sodium
import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.signing
from nacl.public import PrivateKey, PublicKey, SealedBox

from client.keys import aead_direct
from schemas.envelope import (
    AEAD_TAG_BYTES,
    CONTENT_KEY_BYTES,
    ENVELOPE_VERSION,
    NONCE_BYTES,
    Envelope,
    header_bytes,
    key_commitment_of,
    signed_bytes,
)
from schemas.ids import DeviceId, EventId, InviteId, SpaceId

RandomBytes = Callable[[int], bytes]

# Purposes for sub-keys; each is at most 16 bytes (BLAKE2b personalisation size).
EVENTS_PURPOSE = b"trellis-events"
INVITE_ID_PURPOSE = b"trellis-inv-id"
INVITE_WRAP_PURPOSE = b"trellis-inv-wrap"
INVITE_SIGN_PURPOSE = b"trellis-inv-sign"
SAFETY_NUMBER_PURPOSE = b"trellis-safety"

SPACE_KEY_BYTES = 32
INVITE_SECRET_BYTES = 20
"""160 bits: far beyond guessing, and 32 base32 characters to type."""
SAFETY_NUMBER_DIGITS = 30


class CryptoError(Exception):
    """Something did not decrypt or verify. Never carries key or plaintext bytes."""


class KeyCommitmentError(CryptoError):
    """A content key that is not the one the envelope's signed header commits to
    (docs/PROTOCOL.md §4.7): the event may have a second reading, so it has none."""


def derive_subkey(root_key: bytes, purpose: bytes, size: int = 32) -> bytes:
    """Keyed BLAKE2b with a purpose personalisation (docs/PROTOCOL.md §3.1)."""
    return hashlib.blake2b(b"", digest_size=size, key=root_key, person=purpose).digest()


def events_key_for(space_key: bytes) -> bytes:
    return derive_subkey(space_key, EVENTS_PURPOSE)


# --- padding (docs/PROTOCOL.md §4.4) ---------------------------------------------


def padme_length(length: int) -> int:
    """Padmé (Nikitin et al., PETS 2019): leaks O(log log L) bits of the length."""
    if length < 2:
        return length
    exponent = length.bit_length() - 1
    mantissa_bits = exponent.bit_length()
    low_bits = exponent - mantissa_bits
    mask = (1 << low_bits) - 1
    return (length + mask) & ~mask


def pad(plaintext: bytes) -> bytes:
    """ISO/IEC 7816-4 padding (0x80 then zeros) up to the Padmé length of len + 1."""
    target = padme_length(len(plaintext) + 1)
    return plaintext + b"\x80" + bytes(target - len(plaintext) - 1)


def unpad(padded: bytes) -> bytes:
    stripped = padded.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise CryptoError("padding is malformed")
    return stripped[:-1]


# --- AEAD helpers ----------------------------------------------------------------


def _seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes | None) -> bytes:
    return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def _open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes | None) -> bytes:
    # Shorter than the tag makes libsodium's binding raise ValueError, not CryptoError;
    # such bytes can come from the relay (InviteInfo.wrapped_keys).
    if len(ciphertext) < AEAD_TAG_BYTES:
        raise CryptoError("ciphertext did not authenticate")
    if aead_direct.AVAILABLE and len(key) == CONTENT_KEY_BYTES and len(nonce) == NONCE_BYTES:
        opened = aead_direct.open_xchacha(key, nonce, ciphertext, aad or b"")
        if opened is None:
            raise CryptoError("ciphertext did not authenticate")
        return opened
    try:
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
    except nacl.exceptions.CryptoError:
        raise CryptoError("ciphertext did not authenticate") from None


def wrap_content_key(events_key: bytes, content_key: bytes, wrap_nonce: bytes) -> bytes:
    """wrap_nonce || XChaCha20-Poly1305(events_key, content_key), no associated data."""
    return wrap_nonce + _seal(events_key, wrap_nonce, content_key, None)


def unwrap_content_key(events_key: bytes, wrapped_key: bytes) -> bytes:
    return _open(events_key, wrapped_key[:NONCE_BYTES], wrapped_key[NONCE_BYTES:], None)


# --- devices ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceKeys:
    """A device's identity: Ed25519 for signing, X25519 for receiving key material."""

    signing_key: nacl.signing.SigningKey
    box_private_key: PrivateKey

    @classmethod
    def generate(cls) -> DeviceKeys:
        return cls(nacl.signing.SigningKey.generate(), PrivateKey.generate())

    @classmethod
    def from_seeds(cls, signing_seed: bytes, box_secret: bytes) -> DeviceKeys:
        return cls(nacl.signing.SigningKey(signing_seed), PrivateKey(box_secret))

    @property
    def device_id(self) -> DeviceId:
        return DeviceId(bytes(self.signing_key.verify_key))

    @property
    def box_public_key(self) -> bytes:
        return bytes(self.box_private_key.public_key)

    def sign(self, message: bytes) -> bytes:
        return bytes(self.signing_key.sign(message).signature)


def verify_signature(verify_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(verify_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


def seal_to_device(box_public_key: bytes, secret: bytes) -> bytes:
    """Anonymous sealed box for key delivery to one device (docs/PROTOCOL.md §3.5)."""
    return bytes(SealedBox(PublicKey(box_public_key)).encrypt(secret))


def open_sealed(box_private_key: PrivateKey, sealed: bytes) -> bytes:
    try:
        return bytes(SealedBox(box_private_key).decrypt(sealed))
    except nacl.exceptions.CryptoError:
        raise CryptoError("sealed key did not open") from None


# --- events ----------------------------------------------------------------------


def seal_event(
    *,
    device: DeviceKeys,
    space_id: SpaceId,
    seq: int,
    prev: EventId | None,
    epoch: int,
    events_key: bytes,
    plaintext: bytes,
    random_bytes: RandomBytes = os.urandom,
) -> Envelope:
    """Pad, encrypt under a fresh content key, wrap that key, sign (§4)."""
    content_key = random_bytes(CONTENT_KEY_BYTES)
    wrap_nonce = random_bytes(NONCE_BYTES)
    nonce = random_bytes(NONCE_BYTES)
    unsigned = Envelope(
        version=ENVELOPE_VERSION,
        space_id=space_id,
        author=device.device_id,
        seq=seq,
        prev=prev,
        epoch=epoch,
        wrapped_key=wrap_content_key(events_key, content_key, wrap_nonce),
        key_commitment=key_commitment_of(content_key),
        nonce=nonce,
        ciphertext=b"\x00" * 16,
        signature=b"\x00" * 64,
    )
    ciphertext = _seal(content_key, nonce, pad(plaintext), header_bytes(unsigned))
    with_ct = msgspec.structs.replace(unsigned, ciphertext=ciphertext)
    return msgspec.structs.replace(with_ct, signature=device.sign(signed_bytes(with_ct)))


def envelope_signature_valid(env: Envelope) -> bool:
    return verify_signature(env.author, signed_bytes(env), env.signature)


def content_key_of(events_key: bytes, env: Envelope) -> bytes:
    return unwrap_content_key(events_key, env.wrapped_key)


def open_with_content_key(content_key: bytes, env: Envelope) -> bytes:
    """Check the key commitment, decrypt and unpad with one event's content key.

    Every path that opens an event comes here (admission, exports, verify-export), so no
    reader ever accepts a key other than the one the author signed (§4.7).
    """
    if not secrets_equal(key_commitment_of(content_key), env.key_commitment):
        raise KeyCommitmentError("the content key is not the one the event commits to")
    return unpad(_open(content_key, env.nonce, env.ciphertext, header_bytes(env)))


def open_event(events_key: bytes, env: Envelope) -> bytes:
    return open_with_content_key(content_key_of(events_key, env), env)


# --- passphrase vault (docs/PROTOCOL.md §3.6) ------------------------------------


class VaultBlob(msgspec.Struct, frozen=True):
    salt: bytes
    opslimit: int
    memlimit: int
    nonce: bytes
    ciphertext: bytes


VAULT_OPSLIMIT = argon2id.OPSLIMIT_MODERATE
VAULT_MEMLIMIT = argon2id.MEMLIMIT_INTERACTIVE * 2
"""Argon2id at ~3 passes over 128 MiB: ~0.2 s once per unlock, never on a hot path."""


def _vault_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return bytes(
        argon2id.kdf(32, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit)
    )


def seal_vault(
    passphrase: str,
    secrets: bytes,
    random_bytes: RandomBytes = os.urandom,
    opslimit: int | None = None,
    memlimit: int | None = None,
) -> VaultBlob:
    # Read the module constants at call time so a test can lower the cost for speed.
    opslimit = VAULT_OPSLIMIT if opslimit is None else opslimit
    memlimit = VAULT_MEMLIMIT if memlimit is None else memlimit
    salt = random_bytes(argon2id.SALTBYTES)
    nonce = random_bytes(NONCE_BYTES)
    key = _vault_key(passphrase, salt, opslimit, memlimit)
    return VaultBlob(
        salt=salt,
        opslimit=opslimit,
        memlimit=memlimit,
        nonce=nonce,
        ciphertext=_seal(key, nonce, secrets, b"trellis-vault-v1"),
    )


def open_vault(passphrase: str, blob: VaultBlob) -> bytes:
    """Raises CryptoError for a wrong passphrase (authentication fails) or a damaged
    blob; the cost parameters are capped so a tampered file cannot stall the device."""
    if (
        len(blob.salt) != argon2id.SALTBYTES
        or len(blob.nonce) != NONCE_BYTES
        or not argon2id.OPSLIMIT_MIN <= blob.opslimit <= argon2id.OPSLIMIT_SENSITIVE
        or not argon2id.MEMLIMIT_MIN <= blob.memlimit <= argon2id.MEMLIMIT_SENSITIVE
    ):
        raise CryptoError("vault is damaged")
    key = _vault_key(passphrase, blob.salt, blob.opslimit, blob.memlimit)
    return _open(key, blob.nonce, blob.ciphertext, b"trellis-vault-v1")


# --- invites (docs/PROTOCOL.md §5.3) ---------------------------------------------

_CODE_GROUP = 4


@dataclass(frozen=True, slots=True)
class InviteKeys:
    """Everything derived from an invite secret; the relay only ever sees the id and
    the verify key."""

    invite_id: InviteId
    wrap_key: bytes
    signing_key: nacl.signing.SigningKey

    @classmethod
    def from_secret(cls, secret: bytes) -> InviteKeys:
        return cls(
            invite_id=InviteId(derive_subkey(secret, INVITE_ID_PURPOSE, 16)),
            wrap_key=derive_subkey(secret, INVITE_WRAP_PURPOSE),
            signing_key=nacl.signing.SigningKey(derive_subkey(secret, INVITE_SIGN_PURPOSE)),
        )

    @property
    def verify_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    def sign(self, message: bytes) -> bytes:
        return bytes(self.signing_key.sign(message).signature)

    def wrap(self, secrets: bytes, random_bytes: RandomBytes = os.urandom) -> bytes:
        nonce = random_bytes(NONCE_BYTES)
        return nonce + _seal(self.wrap_key, nonce, secrets, self.invite_id)

    def unwrap(self, wrapped: bytes) -> bytes:
        if len(wrapped) < NONCE_BYTES:
            raise CryptoError("wrapped keys are too short")
        return _open(self.wrap_key, wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], self.invite_id)


def new_invite_secret(random_bytes: RandomBytes = os.urandom) -> bytes:
    return random_bytes(INVITE_SECRET_BYTES)


def format_invite_code(secret: bytes) -> str:
    """Base32 (RFC 4648, no padding) in groups of four, e.g. ``K7Q2-MX4A-...``."""
    text = base64.b32encode(secret).decode("ascii").rstrip("=")
    return "-".join(text[i : i + _CODE_GROUP] for i in range(0, len(text), _CODE_GROUP))


def parse_invite_code(code: str) -> bytes | None:
    """Forgiving of case, spaces and dashes; returns None for anything malformed.

    A code copied from a chat app or a document comes back with no-break spaces, a
    Windows line end, typographic dashes (U+2010-U+2015, U+2212), fullwidth letters,
    an invisible zero-width space, or the full stop of the sentence it ended: none can
    be part of a code (Base32 is A-Z and 2-7), so only letters and digits are read,
    after NFKC folds the fullwidth ones (THREAT_MODEL §7.1)."""
    folded = unicodedata.normalize("NFKC", code).upper()
    text = "".join(ch for ch in folded if ch.isascii() and ch.isalnum())
    text = text.replace("0", "O").replace("1", "I").replace("8", "B")
    if len(text) != 32:
        return None
    try:
        secret = base64.b32decode(text)
    except ValueError:
        return None
    return secret if len(secret) == INVITE_SECRET_BYTES else None


# --- safety number (docs/PROTOCOL.md §3.7) ---------------------------------------


def safety_number(space_id: SpaceId, device_ids: list[DeviceId]) -> str:
    """Thirty digits in six groups, the same on every device that sees the same devices.

    Derived from the space id and the sorted set of member device keys, so a relay that
    substitutes or inserts a key changes the number the partners compare in person.
    """
    material = space_id + b"".join(sorted(set(device_ids)))
    digest = hashlib.blake2b(material, digest_size=32, person=SAFETY_NUMBER_PURPOSE).digest()
    number = int.from_bytes(digest, "big") % (10**SAFETY_NUMBER_DIGITS)
    digits = f"{number:0{SAFETY_NUMBER_DIGITS}d}"
    return " ".join(digits[i : i + 5] for i in range(0, SAFETY_NUMBER_DIGITS, 5))


def secrets_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison for anything secret."""
    return hmac.compare_digest(a, b)
