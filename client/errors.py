"""The client's errors, rooted in one class so an app can catch them all.

    TrellisError                  code + a sentence a person can act on
    ├── PassphraseError           wrong passphrase (code wrong_passphrase)
    ├── HomeError                 no space here yet / already one here
    ├── InviteCodeError           a code that cannot be an invite
    ├── RelayUnreachable          no connection to the relay
    │   └── RelayCertificateError the relay's TLS certificate did not verify
    ├── RelayRefused              the relay answered with a typed error (its code)
    └── LocalDataError            the local database is unreadable or from a newer app

Messages never contain passphrases, keys, invite codes or entry text.
"""

from __future__ import annotations


class TrellisError(Exception):
    code: str = "trellis_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class PassphraseError(TrellisError):
    code = "wrong_passphrase"


class HomeError(TrellisError):
    code = "home_error"


class InviteCodeError(TrellisError):
    code = "invalid_invite_code"


class RelayUnreachable(TrellisError):
    code = "relay_unreachable"


class RelayCertificateError(RelayUnreachable):
    """The relay answered, but its certificate did not verify: a private CA the app
    was not given (--ca-file), a wrong name, an expired certificate, or someone in
    between. Nothing was sent."""

    code = "relay_certificate"


class RelayRefused(TrellisError):
    """The relay said no, with one of the stable codes in schemas.errors."""

    code = "relay_refused"


class LocalDataError(TrellisError):
    code = "local_data_error"


class NotFound(TrellisError):
    code = "not_found"
