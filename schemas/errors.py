"""Stable error codes shared by the relay and its clients (docs/PROTOCOL.md §8).

A code never changes meaning once published; new codes may be added. Each code carries
a sentence a person can act on, the websocket close code used when the error ends the
connection, and the HTTP status used when it answers a request. Messages never contain
keys, invite codes, passphrases or plaintext.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    MALFORMED_FRAME = "malformed_frame"
    UNKNOWN_MESSAGE = "unknown_message"
    FRAME_TOO_LARGE = "frame_too_large"
    BATCH_TOO_LARGE = "batch_too_large"
    ENVELOPE_TOO_LARGE = "envelope_too_large"
    BAD_ENVELOPE = "bad_envelope"
    BAD_SIGNATURE = "bad_signature"
    WRONG_SPACE = "wrong_space"
    UNKNOWN_AUTHOR = "unknown_author"
    CHAIN_GAP = "chain_gap"
    CHAIN_BAD_PREV = "chain_bad_prev"
    CHAIN_CONFLICT = "chain_conflict"
    NOT_AUTHENTICATED = "not_authenticated"
    ALREADY_AUTHENTICATED = "already_authenticated"
    AUTH_FAILED = "auth_failed"
    AUTH_TIMEOUT = "auth_timeout"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_SPACE = "unknown_space"
    UNKNOWN_DEVICE = "unknown_device"
    DEVICE_REVOKED = "device_revoked"
    NOT_YOUR_DEVICE = "not_your_device"
    SPACE_EXISTS = "space_exists"
    INVITE_NOT_FOUND = "invite_not_found"
    INVITE_EXPIRED = "invite_expired"
    INVITE_USED = "invite_used"
    INVITE_EXISTS = "invite_exists"
    BAD_INVITE_PROOF = "bad_invite_proof"
    BAD_REQUEST = "bad_request"
    BAD_CURSOR = "bad_cursor"
    RATE_LIMITED = "rate_limited"
    SHUTTING_DOWN = "shutting_down"
    INTERNAL_ERROR = "internal_error"
    QUOTA_EXCEEDED = "quota_exceeded"
    IDLE_TIMEOUT = "idle_timeout"
    WRONG_HOST = "wrong_host"
    NOT_READY = "not_ready"
    SPACE_FULL = "space_full"
    PARTNER_ACTIVE = "partner_active"
    CREATION_TOKEN_REQUIRED = "creation_token_required"  # noqa: S105 - an error code
    TOO_MANY_SPACES = "too_many_spaces"
    RELAY_FULL = "relay_full"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    message: str
    """Default sentence for people; a detail may refine it but never adds secrets."""
    close_code: int | None
    """Websocket close code when this error ends the connection; None keeps it open."""
    http_status: int


# Close codes 4000-4999 are ours (RFC 6455 §7.4.2); 1009 is the standard "too big".
CLOSE_PROTOCOL = 4000
CLOSE_AUTH = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_NOT_FOUND = 4004
CLOSE_TIMEOUT = 4008
CLOSE_RATE = 4029
CLOSE_TOO_BIG = 1009
CLOSE_GOING_AWAY = 1001
CLOSE_INTERNAL = 1011

ERRORS: dict[ErrorCode, ErrorInfo] = {
    ErrorCode.MALFORMED_FRAME: ErrorInfo(
        "The message could not be read: it is not a valid protocol frame.", CLOSE_PROTOCOL, 400
    ),
    ErrorCode.UNKNOWN_MESSAGE: ErrorInfo(
        "The message type is not one this relay knows.", CLOSE_PROTOCOL, 400
    ),
    ErrorCode.FRAME_TOO_LARGE: ErrorInfo(
        "The message is larger than this relay accepts.", CLOSE_TOO_BIG, 413
    ),
    ErrorCode.BATCH_TOO_LARGE: ErrorInfo(
        "Too many events in one push; send them in smaller batches.", None, 413
    ),
    ErrorCode.ENVELOPE_TOO_LARGE: ErrorInfo(
        "An event is larger than this relay accepts.", None, 413
    ),
    ErrorCode.BAD_ENVELOPE: ErrorInfo("An event is not in the expected format.", None, 400),
    ErrorCode.BAD_SIGNATURE: ErrorInfo(
        "An event's signature does not match its author.", None, 400
    ),
    ErrorCode.WRONG_SPACE: ErrorInfo(
        "An event belongs to a different space than this connection.", None, 400
    ),
    ErrorCode.UNKNOWN_AUTHOR: ErrorInfo(
        "An event's author is not a device of this space.", None, 403
    ),
    ErrorCode.CHAIN_GAP: ErrorInfo(
        "An event skips ahead in its author's history; earlier events must come first.", None, 409
    ),
    ErrorCode.CHAIN_BAD_PREV: ErrorInfo(
        "An event does not follow on from its author's previous event.", None, 409
    ),
    ErrorCode.CHAIN_CONFLICT: ErrorInfo(
        "An event reuses a position in its author's history with different content.", None, 409
    ),
    ErrorCode.NOT_AUTHENTICATED: ErrorInfo(
        "The device must sign in before sending this.", CLOSE_AUTH, 401
    ),
    ErrorCode.ALREADY_AUTHENTICATED: ErrorInfo(
        "This connection has already signed in.", CLOSE_PROTOCOL, 400
    ),
    ErrorCode.AUTH_FAILED: ErrorInfo(
        "The device could not prove who it is to the relay.", CLOSE_AUTH, 401
    ),
    ErrorCode.AUTH_TIMEOUT: ErrorInfo("The device took too long to sign in.", CLOSE_AUTH, 408),
    ErrorCode.UNSUPPORTED_VERSION: ErrorInfo(
        "This app and the relay speak different protocol versions; one needs updating.",
        CLOSE_PROTOCOL,
        400,
    ),
    ErrorCode.UNKNOWN_SPACE: ErrorInfo(
        "The relay does not know this space. It may have been deleted, or this is a "
        "different relay.",
        CLOSE_NOT_FOUND,
        404,
    ),
    ErrorCode.UNKNOWN_DEVICE: ErrorInfo(
        "This device is not registered in the space at this relay.", CLOSE_FORBIDDEN, 403
    ),
    ErrorCode.DEVICE_REVOKED: ErrorInfo(
        "This device was removed from the space and can no longer sync.", CLOSE_FORBIDDEN, 403
    ),
    ErrorCode.NOT_YOUR_DEVICE: ErrorInfo(
        "A device can only be removed by a device of the same partner.", None, 403
    ),
    ErrorCode.SPACE_EXISTS: ErrorInfo(
        "A space with this id already exists at the relay.", None, 409
    ),
    ErrorCode.INVITE_NOT_FOUND: ErrorInfo(
        "No invite matches this code. Check the code, or ask your partner for a new one.", None, 404
    ),
    ErrorCode.INVITE_EXPIRED: ErrorInfo(
        "This invite has expired. Ask your partner for a new one.", None, 410
    ),
    ErrorCode.INVITE_USED: ErrorInfo(
        "This invite was already used. Ask your partner for a new one.", None, 409
    ),
    ErrorCode.INVITE_EXISTS: ErrorInfo("An invite with this id already exists.", None, 409),
    ErrorCode.BAD_INVITE_PROOF: ErrorInfo(
        "The invite code did not prove itself; check that it was typed exactly.", None, 403
    ),
    ErrorCode.BAD_REQUEST: ErrorInfo("The request is not in the expected format.", None, 400),
    ErrorCode.BAD_CURSOR: ErrorInfo("The sync position asked for is not valid.", None, 400),
    ErrorCode.RATE_LIMITED: ErrorInfo(
        "Too many requests; slow down and try again shortly.", None, 429
    ),
    ErrorCode.SHUTTING_DOWN: ErrorInfo(
        "The relay is restarting; the app will reconnect.", CLOSE_GOING_AWAY, 503
    ),
    ErrorCode.INTERNAL_ERROR: ErrorInfo(
        "The relay hit an unexpected problem; nothing acknowledged was lost.", CLOSE_INTERNAL, 500
    ),
    ErrorCode.QUOTA_EXCEEDED: ErrorInfo(
        "This space has reached the storage limit of this relay; ask the relay's operator.",
        None,
        507,
    ),
    ErrorCode.IDLE_TIMEOUT: ErrorInfo(
        "The connection was silent for too long; the app will reconnect.", CLOSE_TIMEOUT, 408
    ),
    ErrorCode.WRONG_HOST: ErrorInfo(
        "This relay does not answer to the address the app used; check the relay address.",
        CLOSE_AUTH,
        421,
    ),
    ErrorCode.NOT_READY: ErrorInfo(
        "The relay cannot store anything right now; try again shortly.", None, 503
    ),
    ErrorCode.SPACE_FULL: ErrorInfo(
        "This space already has its two partners, and a space is for two people only. "
        "To add one of your own devices, use a device invite.",
        None,
        409,
    ),
    ErrorCode.PARTNER_ACTIVE: ErrorInfo(
        "Your partner still uses a device in this space, so a rejoin invite for them cannot "
        "be used. If they have a device, they can add a new one with a device invite.",
        None,
        409,
    ),
    ErrorCode.CREATION_TOKEN_REQUIRED: ErrorInfo(
        "This relay creates new spaces only with a creation token from its operator; "
        "ask them for one.",
        None,
        401,
    ),
    ErrorCode.TOO_MANY_SPACES: ErrorInfo(
        "Too many spaces were created from this network recently; try again tomorrow or "
        "ask the relay's operator.",
        None,
        429,
    ),
    ErrorCode.RELAY_FULL: ErrorInfo(
        "This relay has no room for more right now; ask the relay's operator. What you "
        "wrote stays on your device.",
        None,
        507,
    ),
}


def message_for(code: ErrorCode) -> str:
    return ERRORS[code].message
