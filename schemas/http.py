"""JSON bodies of the relay's HTTP endpoints (docs/PROTOCOL.md §7).

Ids are lowercase hex strings; opaque blobs (envelopes, wrapped keys, signatures) are
standard base64, which is how msgspec encodes ``bytes`` in JSON.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.protocol import message_encoder

INVITE_CREATE_CONTEXT = "trellis-invite-create-v1"
INVITE_PROOF_CONTEXT = "trellis-invite-proof-v1"
DEVICE_REVOKE_CONTEXT = "trellis-device-revoke-v1"
MEMBER_LEAVE_CONTEXT = "trellis-member-leave-v1"
MAX_WRAPPED_KEYS_BYTES = 16 * 1024

_Hex16 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{32}$", min_length=32, max_length=32)]
_Hex32 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$", min_length=64, max_length=64)]
_Sig = Annotated[bytes, msgspec.Meta(min_length=64, max_length=64)]
_Key32 = Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
_Millis = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]

InviteKind = Literal["member", "device", "rejoin"]


class CreateSpaceRequest(msgspec.Struct, frozen=True):
    space_id: _Hex16
    genesis: bytes
    """Canonical bytes of the creator device's first envelope (seq 1)."""


class CreateSpaceResponse(msgspec.Struct, frozen=True):
    space_id: str
    seq: int


class CreateInviteRequest(msgspec.Struct, frozen=True):
    device_id: _Hex32
    """An active device of the space, which signs this request."""
    invite_id: _Hex16
    verify_key: _Key32
    """Public half of the Ed25519 key derived from the invite secret."""
    wrapped_keys: Annotated[bytes, msgspec.Meta(max_length=MAX_WRAPPED_KEYS_BYTES)]
    """The space keys, encrypted with the invite's wrap key; opaque to the relay."""
    expires_at: _Millis
    kind: InviteKind
    signed_at: _Millis
    signature: _Sig
    """By ``device_id`` over :func:`invite_create_transcript`."""
    for_device: _Hex32 | None = None
    """For ``kind == "rejoin"`` only: an active device of the partner who lost every
    device; the redeemer joins that device's member group (docs/PROTOCOL.md §7.10)."""


class CreateInviteResponse(msgspec.Struct, frozen=True):
    invite_id: str
    expires_at: int


class InviteInfo(msgspec.Struct, frozen=True):
    invite_id: str
    space_id: str
    wrapped_keys: bytes
    expires_at: int
    kind: InviteKind


class RedeemInviteRequest(msgspec.Struct, frozen=True):
    device_id: _Hex32
    box_key: _Key32
    """The new device's X25519 public key, covered by the proof."""
    proof: _Sig
    """By the invite's key over :func:`invite_proof_transcript`."""


class RedeemInviteResponse(msgspec.Struct, frozen=True):
    space_id: str
    device_id: str


class RevokeDeviceRequest(msgspec.Struct, frozen=True):
    """Ask the relay to refuse a device from now on (docs/PROTOCOL.md §7.8)."""

    device_id: _Hex32
    """The active device asking, of the same partner as the target; it signs this."""
    signed_at: _Millis
    signature: _Sig
    """By ``device_id`` over :func:`revoke_device_transcript`."""


class RevokeDeviceResponse(msgspec.Struct, frozen=True):
    device_id: str
    status: str


class LeaveRequest(msgspec.Struct, frozen=True):
    """Ask the relay to refuse every device of the asking device's partner (§7.9)."""

    device_id: _Hex32
    signed_at: _Millis
    signature: _Sig
    """By ``device_id`` over :func:`leave_transcript`."""


class LeaveResponse(msgspec.Struct, frozen=True):
    revoked: list[str]
    """Ids of the devices the relay refuses from now on."""
    space_deleted: bool
    """No active device remained, so the relay deleted the space's data."""


class HealthResponse(msgspec.Struct, frozen=True):
    status: str
    version: str


class ErrorBody(msgspec.Struct, frozen=True):
    code: str
    detail: str


def invite_create_transcript(space_id: bytes, req: CreateInviteRequest) -> bytes:
    return message_encoder.encode(
        (
            INVITE_CREATE_CONTEXT,
            space_id,
            bytes.fromhex(req.device_id),
            bytes.fromhex(req.invite_id),
            req.verify_key,
            req.wrapped_keys,
            req.expires_at,
            req.kind,
            req.signed_at,
            # Appended only when set, so a transcript without it is unchanged.
            *(() if req.for_device is None else (bytes.fromhex(req.for_device),)),
        )
    )


def invite_proof_transcript(
    space_id: bytes, invite_id: bytes, device_id: bytes, box_key: bytes
) -> bytes:
    """What the invite key signs to admit a device (docs/PROTOCOL.md §5.3).

    The same proof is carried in the device's ``member_joined`` event so the partner's
    clients can check it against the ``invite_issued`` event without trusting the relay.
    """
    return message_encoder.encode((INVITE_PROOF_CONTEXT, space_id, invite_id, device_id, box_key))


def revoke_device_transcript(
    space_id: bytes, device_id: bytes, target: bytes, signed_at: int
) -> bytes:
    return message_encoder.encode((DEVICE_REVOKE_CONTEXT, space_id, device_id, target, signed_at))


def leave_transcript(space_id: bytes, device_id: bytes, signed_at: int) -> bytes:
    return message_encoder.encode((MEMBER_LEAVE_CONTEXT, space_id, device_id, signed_at))
