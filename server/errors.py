"""The relay's one exception root.

    RelayError(code, detail)      a refusal with a stable code (schemas/errors.py)

Everything the relay refuses on purpose is a RelayError: HTTP handlers let it
propagate to the exception handler in app.py, which answers ``ErrorBody`` with the
status from ``ERRORS[code].http_status``; the sync session turns the same codes into
``Error`` frames and close codes. Any other exception is a bug or a failing disk and
becomes ``internal_error`` at the outermost I/O layer.
"""

from __future__ import annotations

from schemas.errors import ERRORS, ErrorCode


class RelayError(Exception):
    """A typed refusal. ``detail`` is for people and never holds secrets or payload."""

    def __init__(
        self, code: ErrorCode, detail: str | None = None, *, retry_after_s: float | None = None
    ) -> None:
        self.code = code
        self.detail = detail if detail is not None else ERRORS[code].message
        self.retry_after_s = retry_after_s
        """For rate_limited over HTTP: when trying again may succeed (Retry-After)."""
        super().__init__(f"{code.value}: {self.detail}")

    @property
    def http_status(self) -> int:
        return ERRORS[self.code].http_status
