"""The device's secrets at rest: sealed with the passphrase (docs/PROTOCOL.md §3.6).

Only the vault holds secret keys; the rest of the local database is ciphertext and
public material. A wrong passphrase fails authentication, which is how it is detected.
"""

from __future__ import annotations

import msgspec

from client import crypto
from client.errors import LocalDataError, PassphraseError


class DeviceSecrets(msgspec.Struct):
    signing_seed: bytes
    box_secret: bytes
    space_keys: dict[int, bytes]
    """Space key per epoch; the events key of each is derived, never stored."""


class SpaceKeys(msgspec.Struct):
    """What an invite carries to a new device: every epoch's space key."""

    space_keys: dict[int, bytes]


_encoder = msgspec.msgpack.Encoder()
_vault_decoder = msgspec.msgpack.Decoder(crypto.VaultBlob)
_secrets_decoder = msgspec.msgpack.Decoder(DeviceSecrets)
_space_keys_decoder = msgspec.msgpack.Decoder(SpaceKeys)


def seal(passphrase: str, secrets: DeviceSecrets) -> bytes:
    return _encoder.encode(crypto.seal_vault(passphrase, _encoder.encode(secrets)))


def unseal(passphrase: str, sealed: bytes) -> DeviceSecrets:
    try:
        blob = _vault_decoder.decode(sealed)
    except (msgspec.MsgspecError, UnicodeDecodeError):
        raise LocalDataError("This device's key store is damaged and cannot be read.") from None
    try:
        plaintext = crypto.open_vault(passphrase, blob)
    except crypto.CryptoError:
        raise PassphraseError(
            "That passphrase is not right. Nothing was changed; try again."
        ) from None
    return _secrets_decoder.decode(plaintext)


def encode_space_keys(keys: SpaceKeys) -> bytes:
    return _encoder.encode(keys)


def decode_space_keys(data: bytes) -> SpaceKeys:
    return _space_keys_decoder.decode(data)
