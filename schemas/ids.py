"""Typed identifiers, so a device id is never passed where a space id belongs.

All ids are raw bytes on the wire (msgpack ``bin``) and lowercase hex in JSON, URLs and
on screen (docs/PROTOCOL.md §2).
"""

from __future__ import annotations

from typing import NewType

SpaceId = NewType("SpaceId", bytes)
"""16 random bytes chosen by the device that creates the space."""

DeviceId = NewType("DeviceId", bytes)
"""A device's 32-byte Ed25519 public (verify) key: the id certifies itself."""

EventId = NewType("EventId", bytes)
"""BLAKE2b-256 of an envelope's canonical bytes."""

InviteId = NewType("InviteId", bytes)
"""16 bytes derived from the invite secret; the relay never sees the secret."""

MemberId = NewType("MemberId", bytes)
"""16 random bytes naming a partner, shared by all of that partner's devices."""

SPACE_ID_BYTES = 16
DEVICE_ID_BYTES = 32
EVENT_ID_BYTES = 32
INVITE_ID_BYTES = 16
MEMBER_ID_BYTES = 16


def parse_hex_id(text: str, size: int) -> bytes | None:
    """Return the bytes of a lowercase/uppercase hex id of ``size`` bytes, or None.

    Returning None instead of raising lets callers attach the error code that fits the
    place the id came from (a URL, a CLI argument, a frame).
    """
    if len(text) != size * 2:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None
