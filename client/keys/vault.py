"""The device's secrets at rest: sealed with the passphrase (docs/PROTOCOL.md §3.6).

Only the vault holds secret keys; the rest of the local database is ciphertext and
public material. A wrong passphrase fails authentication, which is how it is detected.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import msgspec
import nacl.pwhash.argon2id as argon2id

from client.errors import LocalDataError, PassphraseError
from client.keys import crypto


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


@dataclass(frozen=True, slots=True)
class KdfCost:
    """What deriving the vault key from a passphrase costs (Argon2id, PROTOCOL.md §3.6).

    Each sealed vault records its cost, so opening never needs this; only sealing does.
    A person's device always seals at :data:`REAL_COST`. :data:`CHEAP_COST` exists so
    tests and benchmarks that make many devices stay fast; it must never reach a person
    (it would make a stolen device's passphrase cheap to guess)."""

    opslimit: int
    memlimit: int


REAL_COST = KdfCost(crypto.VAULT_OPSLIMIT, crypto.VAULT_MEMLIMIT)
CHEAP_COST = KdfCost(argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)


def seal(passphrase: str, secrets: DeviceSecrets, cost: KdfCost | None = None) -> bytes:
    """``cost=None`` is the real cost (crypto.VAULT_OPSLIMIT / VAULT_MEMLIMIT)."""
    opslimit, memlimit = (None, None) if cost is None else (cost.opslimit, cost.memlimit)
    blob = crypto.seal_vault(
        passphrase, _encoder.encode(secrets), opslimit=opslimit, memlimit=memlimit
    )
    return _encoder.encode(blob)


async def seal_off_loop(
    passphrase: str, secrets: DeviceSecrets, cost: KdfCost | None = None
) -> bytes:
    """:func:`seal` on a worker thread: Argon2id takes ~0.2-1 s and libsodium releases
    the GIL, so an app's event loop keeps serving while a vault is sealed."""
    return await asyncio.to_thread(seal, passphrase, secrets, cost)


async def unseal_off_loop(passphrase: str, sealed: bytes) -> DeviceSecrets:
    """:func:`unseal` on a worker thread, for the same reason as :func:`seal_off_loop`."""
    return await asyncio.to_thread(unseal, passphrase, sealed)


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
