"""Rules for creating spaces and admitting devices, sans-I/O (docs/PROTOCOL.md §5, §7).

Each function takes a request and what the relay knows, and returns what to store or
raises a RelayError. The HTTP handlers (http_api.py) only fetch, call and store.

The relay cannot check the *meaning* of membership (who invited whom is inside the
encrypted log, and clients verify it there); it checks what it can see, so that only
holders of a space's device keys or of an invite's secret can change who may sync.
"""

from __future__ import annotations

from dataclasses import replace

from schemas.errors import ErrorCode
from schemas.http import (
    CreateInviteRequest,
    CreateSpaceRequest,
    LeaveRequest,
    RedeemInviteRequest,
    RevokeDeviceRequest,
    invite_create_transcript,
    invite_proof_transcript,
    leave_transcript,
    revoke_device_transcript,
)
from schemas.ids import (
    DEVICE_ID_BYTES,
    INVITE_ID_BYTES,
    SPACE_ID_BYTES,
    DeviceId,
    InviteId,
    SpaceId,
    parse_hex_id,
)
from server.errors import RelayError
from server.ingest import CheckedEnvelope, check_envelope, signature_valid
from server.store import DeviceStatus, InviteRecord, Membership

MS_PER_S = 1000

MEMBERSHIP_ERRORS: dict[Membership, ErrorCode] = {
    Membership.NO_SPACE: ErrorCode.UNKNOWN_SPACE,
    Membership.UNKNOWN_DEVICE: ErrorCode.UNKNOWN_DEVICE,
    Membership.REVOKED: ErrorCode.DEVICE_REVOKED,
}
"""Why a device that is not an active member is refused, at sign-in and on HTTP."""


def parse_space_id(text: str) -> SpaceId:
    raw = parse_hex_id(text, SPACE_ID_BYTES)
    if raw is None:
        raise RelayError(ErrorCode.BAD_REQUEST, "space id must be 32 hex digits")
    return SpaceId(raw)


def parse_invite_id(text: str) -> InviteId:
    raw = parse_hex_id(text, INVITE_ID_BYTES)
    if raw is None:
        raise RelayError(ErrorCode.BAD_REQUEST, "invite id must be 32 hex digits")
    return InviteId(raw)


def parse_device_id(text: str) -> DeviceId:
    raw = parse_hex_id(text, DEVICE_ID_BYTES)
    if raw is None:
        raise RelayError(ErrorCode.BAD_REQUEST, "device id must be 64 hex digits")
    return DeviceId(raw)


def check_genesis(req: CreateSpaceRequest, max_envelope_bytes: int) -> CheckedEnvelope:
    """The genesis must be a valid envelope of this space, signed, at its author's seq 1."""
    space_id = parse_space_id(req.space_id)
    checked = check_envelope(req.genesis, space_id, max_envelope_bytes)
    if isinstance(checked, tuple):
        code, detail = checked
        raise RelayError(code, f"genesis: {detail}")
    if checked.envelope.seq != 1 or checked.envelope.prev is not None:
        raise RelayError(ErrorCode.BAD_ENVELOPE, "genesis must be its author's seq 1")
    return checked


def check_invite_request(
    space_id: SpaceId,
    req: CreateInviteRequest,
    now_ms: int,
    *,
    clock_skew_s: int,
    invite_ttl_max_s: int,
) -> InviteRecord:
    """Signed by an active device of the space (the caller checked which), recently, for
    an expiry in the near future."""
    device_id = parse_device_id(req.device_id)
    invite_id = parse_invite_id(req.invite_id)
    transcript = invite_create_transcript(space_id, req)
    if not signature_valid(device_id, transcript, req.signature):
        raise RelayError(
            ErrorCode.AUTH_FAILED, "the invite request is not signed by the named device"
        )
    # A bounded signing time keeps a captured request from being replayed much later.
    if abs(req.signed_at - now_ms) > clock_skew_s * MS_PER_S:
        raise RelayError(
            ErrorCode.AUTH_FAILED,
            f"the request was signed more than {clock_skew_s} s away from the relay's "
            "clock; check the device's time",
        )
    if req.expires_at <= now_ms:
        raise RelayError(ErrorCode.BAD_REQUEST, "expires_at must be in the future")
    if req.expires_at > now_ms + invite_ttl_max_s * MS_PER_S:
        raise RelayError(
            ErrorCode.BAD_REQUEST,
            f"an invite may last at most {invite_ttl_max_s} s on this relay",
        )
    if (req.kind == "rejoin") != (req.for_device is not None):
        raise RelayError(
            ErrorCode.BAD_REQUEST, "a rejoin invite, and only a rejoin invite, names for_device"
        )
    return InviteRecord(
        invite_id=invite_id,
        space_id=space_id,
        verify_key=req.verify_key,
        wrapped_keys=req.wrapped_keys,
        kind=req.kind,
        expires_at_ms=req.expires_at,
        created_by=device_id,
        created_at_ms=now_ms,
        for_device=None if req.for_device is None else parse_device_id(req.for_device),
    )


def check_rejoin_target(
    issuer: tuple[DeviceStatus, bytes | None] | None,
    target: tuple[DeviceStatus, bytes | None] | None,
) -> None:
    """A rejoin invite's ``for_device`` (§7.10) is an active device of the space in a
    member group other than the issuer's: the relay cannot read member ids, but it can
    keep a partner from taking over its own group, a departed one, or a stranger."""
    if target is None:
        raise RelayError(ErrorCode.BAD_REQUEST, "for_device is not a device of this space")
    if target[0] is not DeviceStatus.ACTIVE:
        raise RelayError(
            ErrorCode.BAD_REQUEST, "for_device was removed or its partner left the space"
        )
    if issuer is None or target[1] is None or target[1] == issuer[1]:
        raise RelayError(
            ErrorCode.BAD_REQUEST, "a rejoin invite is for the other partner, not the issuer"
        )


def check_signed_at(signed_at: int, now_ms: int, clock_skew_s: int) -> None:
    # A bounded signing time keeps a captured request from being replayed much later.
    if abs(signed_at - now_ms) > clock_skew_s * MS_PER_S:
        raise RelayError(
            ErrorCode.AUTH_FAILED,
            f"the request was signed more than {clock_skew_s} s away from the relay's "
            "clock; check the device's time",
        )


def check_revoke_request(
    space_id: SpaceId, target: DeviceId, req: RevokeDeviceRequest, now_ms: int, clock_skew_s: int
) -> DeviceId:
    """Signed by the named device, recently. Whether it may revoke ``target`` (same
    member group, both in the space, itself active) the store decides atomically."""
    device_id = parse_device_id(req.device_id)
    transcript = revoke_device_transcript(space_id, device_id, target, req.signed_at)
    if not signature_valid(device_id, transcript, req.signature):
        raise RelayError(ErrorCode.AUTH_FAILED, "the request is not signed by the named device")
    check_signed_at(req.signed_at, now_ms, clock_skew_s)
    return device_id


def check_leave_request(
    space_id: SpaceId, req: LeaveRequest, now_ms: int, clock_skew_s: int
) -> DeviceId:
    device_id = parse_device_id(req.device_id)
    if not signature_valid(
        device_id, leave_transcript(space_id, device_id, req.signed_at), req.signature
    ):
        raise RelayError(ErrorCode.AUTH_FAILED, "the request is not signed by the named device")
    check_signed_at(req.signed_at, now_ms, clock_skew_s)
    return device_id


def is_retry_of(new: InviteRecord, stored: InviteRecord) -> bool:
    """Whether ``new`` asks for exactly the invite already stored: a retried request
    whose response was lost, which succeeds again instead of failing invite_exists."""
    comparable = replace(
        stored, created_at_ms=new.created_at_ms, redeemed_at_ms=None, redeemed_by=None
    )
    return comparable == new


def check_invite_usable(invite: InviteRecord, now_ms: int) -> None:
    """For showing an invite: refuse one that was used or has expired."""
    if invite.redeemed_by is not None:
        raise RelayError(ErrorCode.INVITE_USED)
    if invite.expires_at_ms <= now_ms:
        raise RelayError(ErrorCode.INVITE_EXPIRED)


def check_redeem_proof(invite: InviteRecord, req: RedeemInviteRequest) -> DeviceId:
    """Only the holder of the invite secret can sign for the new device (§5.3)."""
    device_id = parse_device_id(req.device_id)
    transcript = invite_proof_transcript(invite.space_id, invite.invite_id, device_id, req.box_key)
    if not signature_valid(invite.verify_key, transcript, req.proof):
        raise RelayError(ErrorCode.BAD_INVITE_PROOF)
    return device_id
