"""One partner against the other, at the relay: the rules the relay can see (§7.11).

A space has two partners for its whole life, and nothing one partner's device does at
the relay may remove, replace or lock out the other partner's devices, except the
documented operations every client sees as signed events (docs/THREAT_MODEL.md §19).
The relay cannot read who is who in the log; it knows *member groups* (one per partner,
docs/PROTOCOL.md §7.8) and who signs in when. This module holds the part of those rules
that depends on sign-ins, sans-I/O:

* ``SignIns`` remembers, for this relay process, when each device last signed in.
* ``rejoin_contest`` decides whether a *rejoin* invite (§7.10) may still be used: a
  rejoin exists for a partner who lost every device, so if any device of that partner
  is connected, or has signed in since the invite was issued, the partner is evidently
  not lost, and the invite must not let the issuer put a device in their place
  (``partner_active``). Sign-ins are kept in memory only; an invite issued before this
  relay process started cannot be shown uncontested and is refused the same way, so a
  restart never opens the door (the issuer makes a new one).

The other rules live where their data is: the third-member refusal in the store's
redeem transaction (one atomic count of member groups), revocation and leaving in the
store (same member group only), and limits per device in ``server/_limits.py``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from schemas.errors import ErrorCode
from schemas.ids import DeviceId, SpaceId

MAX_REMEMBERED_DEVICES = 200_000
"""Sign-in times kept; the least recently signed-in beyond this are forgotten (bounded
memory), which can only make a rejoin invite *more* likely to be refused."""


class SignIns:
    """When each device last signed in to this relay process (Unix ms)."""

    def __init__(self, started_at_ms: int, max_devices: int = MAX_REMEMBERED_DEVICES) -> None:
        self.started_at_ms = started_at_ms
        self._max_devices = max_devices
        self._last: OrderedDict[tuple[SpaceId, DeviceId], int] = OrderedDict()

    def record(self, space_id: SpaceId, device_id: DeviceId, now_ms: int) -> None:
        key = (space_id, device_id)
        self._last[key] = now_ms
        self._last.move_to_end(key)
        while len(self._last) > self._max_devices:
            self._last.popitem(last=False)

    def last(self, space_id: SpaceId, device_id: DeviceId) -> int | None:
        return self._last.get((space_id, device_id))


def rejoin_contest(
    space_id: SpaceId,
    partner_devices: Iterable[DeviceId],
    issued_at_ms: int | None,
    sign_ins: SignIns,
    connected: Callable[[SpaceId, DeviceId], bool],
) -> tuple[ErrorCode, str] | None:
    """Why a rejoin for the partner with ``partner_devices`` (their active devices) must
    be refused now, or None. ``issued_at_ms`` is None when the invite is being issued."""
    if issued_at_ms is not None and issued_at_ms < sign_ins.started_at_ms:
        return (
            ErrorCode.PARTNER_ACTIVE,
            "this rejoin invite was issued before the relay restarted, so the relay cannot "
            "tell whether your partner still uses a device; ask for a new invite",
        )
    for device in partner_devices:
        if connected(space_id, device):
            return ErrorCode.PARTNER_ACTIVE, "a device of your partner is connected right now"
        last = sign_ins.last(space_id, device)
        if issued_at_ms is not None and last is not None and last >= issued_at_ms:
            return (
                ErrorCode.PARTNER_ACTIVE,
                "a device of your partner signed in after this rejoin invite was issued",
            )
    return None
