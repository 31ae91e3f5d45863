"""The client's errors, rooted in one class so an app can catch them all.

    TrellisError                  code + a sentence a person can act on
    ├── UsageError                a command or value typed in a way the app cannot use
    ├── PassphraseError           wrong passphrase (code wrong_passphrase)
    ├── HomeError                 no space here yet / already one here
    ├── InviteCodeError           a code that cannot be an invite
    ├── RelayUnreachable          no connection to the relay
    │   └── RelayCertificateError the relay's TLS certificate did not verify
    ├── RelayRefused              the relay answered with a typed error (its code)
    ├── RelayProtocolError        the relay sent something this app cannot follow
    ├── LocalDataError            the local database is unreadable or from a newer app
    └── LocalWriteError           the local database refused a write (disk full, I/O)

Every code a TrellisError carries is a :class:`ClientErrorCode` (docs/PROTOCOL.md §8.1),
except that a :class:`RelayRefused` carries the relay's own code
(:class:`schemas.errors.ErrorCode`, PROTOCOL.md §8) so an app can tell the two apart.
Codes never change meaning once published; tests/client/test_error_codes.py checks that
each is documented and that no raise spells a code as a free string.

Messages never contain passphrases, keys, invite codes or entry text.
"""

from __future__ import annotations

from enum import StrEnum


class ClientErrorCode(StrEnum):
    """Stable codes of the client's own errors; meanings in docs/PROTOCOL.md §8.1."""

    ALREADY_LINKED = "already_linked"
    ALREADY_POSTPONED = "already_postponed"
    ALREADY_SHARED = "already_shared"
    AMBIGUOUS_ID = "ambiguous_id"
    BAD_CA_FILE = "bad_ca_file"
    BAD_EXPORT = "bad_export"
    BAD_INVITE_TTL = "bad_invite_ttl"
    BAD_NAME = "bad_name"
    BAD_RELAY_FRAME = "bad_relay_frame"
    BAD_RELAY_RESPONSE = "bad_relay_response"
    CANNOT_REVOKE_SELF = "cannot_revoke_self"
    DEVICE_REMOVED = "device_removed"
    FILE_EXISTS = "file_exists"
    HOME_ERROR = "home_error"
    HOME_IN_USE = "home_in_use"
    INVALID_INPUT = "invalid_input"
    INVALID_INVITE_CODE = "invalid_invite_code"
    INVALID_RELAY_URL = "invalid_relay_url"
    IO = "io"
    JOIN_INCOMPLETE = "join_incomplete"
    LOCAL_DATA_ERROR = "local_data_error"
    LOCAL_WRITE_FAILED = "local_write_failed"
    NOTHING_OPEN = "nothing_open"
    NOT_FOUND = "not_found"
    NOT_MEMBER = "not_member"
    NOT_SYNCED = "not_synced"
    NOT_YOURS = "not_yours"
    NOT_YOUR_DEVICE = "not_your_device"
    NO_ANSWER_NEEDED = "no_answer_needed"
    NO_NEXT_STAGE = "no_next_stage"
    NO_PACING_PLAN = "no_pacing_plan"
    NO_PARTNER = "no_partner"
    NO_PARTNER_DEVICE = "no_partner_device"
    NO_PRIVATE_NOTES = "no_private_notes"
    OFFER_COOLING_DOWN = "offer_cooling_down"
    OFFER_OPEN = "offer_open"
    OWN_PROPOSAL = "own_proposal"
    PARTNER_ALREADY_JOINED = "partner_already_joined"
    PARTNER_NOT_JOINED = "partner_not_joined"
    PASSPHRASE_RATE_LIMITED = "passphrase_rate_limited"  # noqa: S105 - a code, not a secret
    PUSH_REFUSED = "push_refused"
    RELAY_CERTIFICATE = "relay_certificate"
    RELAY_ERROR = "relay_error"
    RELAY_REFUSED = "relay_refused"
    RELAY_UNREACHABLE = "relay_unreachable"
    TRELLIS_ERROR = "trellis_error"
    UNEXPECTED_RELAY_MESSAGE = "unexpected_relay_message"
    USAGE = "usage"
    WRONG_KIND = "wrong_kind"
    WEAK_PASSPHRASE = "weak_passphrase"  # noqa: S105 - a code, not a secret
    WRONG_PASSPHRASE = "wrong_passphrase"  # noqa: S105 - a code, not a secret


class TrellisError(Exception):
    # ``str``: a ClientErrorCode, or for RelayRefused the relay's ErrorCode value.
    code: str = ClientErrorCode.TRELLIS_ERROR

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class UsageError(TrellisError):
    """A command or value typed in a way the app cannot act on (the CLI exits 2)."""

    code = ClientErrorCode.USAGE


class PassphraseError(TrellisError):
    code = ClientErrorCode.WRONG_PASSPHRASE


class HomeError(TrellisError):
    code = ClientErrorCode.HOME_ERROR


class InviteCodeError(TrellisError):
    code = ClientErrorCode.INVALID_INVITE_CODE


class RelayUnreachable(TrellisError):
    code = ClientErrorCode.RELAY_UNREACHABLE


class RelayCertificateError(RelayUnreachable):
    """The relay answered, but its certificate did not verify: a private CA the app
    was not given (--ca-file), a wrong name, an expired certificate, or someone in
    between. Nothing was sent."""

    code = ClientErrorCode.RELAY_CERTIFICATE


class RelayRefused(TrellisError):
    """The relay said no, with one of the stable codes in schemas.errors."""

    code = ClientErrorCode.RELAY_REFUSED


class RelayProtocolError(TrellisError):
    """The relay broke the protocol as this client reads it (an unreadable frame or
    answer, a message out of turn). Not a refusal: the relay gave no reason, and the
    person is told so rather than shown a refusal the relay never sent."""

    code = ClientErrorCode.BAD_RELAY_FRAME


class LocalDataError(TrellisError):
    code = ClientErrorCode.LOCAL_DATA_ERROR


class LocalWriteError(TrellisError):
    """This device's database refused a write (a full disk, an I/O error, a file made
    read-only, another program holding it). What was in memory went back to what is on
    disk (docs/PROTOCOL.md §9.13), so nothing is lost: what a sync could not store is
    fetched again by the next one."""

    code = ClientErrorCode.LOCAL_WRITE_FAILED
