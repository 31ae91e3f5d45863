"""Had the author seen it? The one question that separates honest concurrency from a
rule broken on purpose (docs/PROTOCOL.md §10.5).

Two devices working offline can each write something that, folded after the other,
changes nothing: Alex accepts an agreement that Sam has just withdrawn. Neither client
could have known, so that is never a violation, only an event *without effect*. The same
event written by a device that had already received the withdrawal is one an honest
client refuses to write (client/views/write_rules.py), so receiving it is a violation.

An event's causal past is read from its seen vector (client/core/membership_rules.py): for
every device, the highest seq of that device's chain the author held when writing.
"""

from __future__ import annotations

from client.core.verify import Membership, VerifiedEvent
from schemas.ids import EventId


def had_seen(membership: Membership, event: VerifiedEvent, cause: EventId) -> bool:
    """Whether ``cause`` is in the causal past of ``event`` (its author held it)."""
    position = membership.lifecycle.positions.get(cause)
    if position is None:
        return False
    device, seq = position
    return membership.lifecycle.seen(event).get(device, 0) >= seq
