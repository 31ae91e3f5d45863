"""Who may create a space, and how much the relay stores (docs/OPERATIONS.md §3, §12).

A relay run for a practice must not be a free disk for anyone who finds it. Three
things decide whether ``POST /v1/spaces`` creates a space, checked in this order:

* **the creation token** (``space_creation_token``), when the operator set one: the
  request must carry ``Authorization: Bearer TOKEN``. It is compared in constant time
  and never logged; a missing or wrong one is 401 ``creation_token_required``.
* **spaces per address** (``max_spaces_per_address`` per ``space_creation_window_s``):
  429 ``too_many_spaces`` with Retry-After. Counted in memory only: the relay stores
  no addresses.
* **room** (``max_spaces``, ``max_total_bytes``): 507 ``relay_full``.

``QuotaBook`` is the writer's view of storage: the default per-space quota, the quotas
an operator set for single spaces (``trellis-relay quota``, table ``space_quotas``),
and the bytes all spaces hold together. The total is checked per group commit, so it
may be passed by at most one group (``writer.MAX_GROUP_BYTES``); a push that would
pass it is refused with ``relay_full``, and the app keeps its entries.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from schemas.errors import ErrorCode
from schemas.ids import SpaceId
from server._limits import KeyedLimiter
from server.errors import RelayError
from server.ingest import Quota
from server.settings import Settings

BEARER = "bearer "


@dataclass(frozen=True, slots=True)
class SpaceQuota(Quota):
    """One space's quota together with the relay's total room, as the writer checks it."""

    total_cap: int = 0
    other_bytes: int = 0
    """Bytes every other space holds (the total less this space's committed bytes)."""

    def refusal(self, events: int, stored_bytes: int) -> tuple[ErrorCode, str] | None:
        if self.total_cap and self.other_bytes + stored_bytes > self.total_cap:
            return ErrorCode.RELAY_FULL, "this relay has reached the storage its operator set"
        return Quota.refusal(self, events, stored_bytes)


@dataclass(slots=True)
class QuotaBook:
    """Per-space quotas and the relay's total; owned by the writer task."""

    default: Quota
    total_cap: int = 0
    max_spaces: int = 0
    total_bytes: int = 0
    spaces: int = 0
    overrides: dict[SpaceId, Quota] = field(default_factory=dict)

    def for_space(self, space_id: SpaceId, space_bytes: int, default: Quota) -> Quota:
        base = self.overrides.get(space_id, default)
        return SpaceQuota(
            base.max_events,
            base.max_bytes,
            total_cap=self.total_cap,
            other_bytes=max(0, self.total_bytes - space_bytes),
        )

    def added(self, stored_bytes: int) -> None:
        self.total_bytes += stored_bytes

    def load(self, total_bytes: int, spaces: int, overrides: Mapping[SpaceId, Quota]) -> None:
        """Take the stored figures (at start, and after a space is deleted)."""
        self.total_bytes = total_bytes
        self.spaces = spaces
        self.overrides = dict(overrides)

    def check_room(self, genesis_bytes: int) -> None:
        """Refuse a new space when the relay holds as many or as much as allowed."""
        if self.max_spaces and self.spaces >= self.max_spaces:
            raise RelayError(ErrorCode.RELAY_FULL, "this relay holds as many spaces as it may")
        if self.total_cap and self.total_bytes + genesis_bytes > self.total_cap:
            raise RelayError(
                ErrorCode.RELAY_FULL, "this relay has reached the storage its operator set"
            )

    def created(self, genesis_bytes: int) -> None:
        self.spaces += 1
        self.total_bytes += genesis_bytes


@dataclass(slots=True)
class CreationGate:
    """The creation token and the per-address count of new spaces."""

    token: str
    per_address: KeyedLimiter[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> CreationGate:
        return cls(
            settings.space_creation_token,
            KeyedLimiter(settings.max_spaces_per_address, settings.space_creation_window_s),
        )

    def check(self, authorization: str | None, address: str) -> None:
        if self.token:
            given = _bearer(authorization)
            if given is None:
                raise RelayError(
                    ErrorCode.CREATION_TOKEN_REQUIRED, "creating a space needs a creation token"
                )
            # Constant time: an attacker learns nothing from how fast a wrong one fails.
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                raise RelayError(
                    ErrorCode.CREATION_TOKEN_REQUIRED, "the creation token did not match"
                )
        if not self.per_address.allow(address):
            raise RelayError(
                ErrorCode.TOO_MANY_SPACES,
                retry_after_s=self.per_address.retry_after_s(address),
            )


def _bearer(header: str | None) -> str | None:
    if header is None or not header.lower().startswith(BEARER):
        return None
    token = header[len(BEARER) :].strip()
    return token or None
