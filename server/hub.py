"""In-process fan-out of committed events to the connected devices of a space.

The writer publishes after each COMMIT; the hub hands every subscriber of the space the
events it did not push itself, in seq order (docs/PROTOCOL.md §6, live). Delivery never
waits: each subscriber owns a bounded send queue (sync.py), and one that cannot keep up
is closed rather than allowed to hold up the writer or anyone else. It loses nothing by
that: it pulls from its cursor when it reconnects.

One hub per process. With several relay processes on one PostgreSQL database, each
process also publishes here what the others commit, and ends the connections of devices
the others revoke (stores.link_processes, through LISTEN/NOTIFY).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol, runtime_checkable

from schemas.ids import SpaceId
from schemas.protocol import Stored
from server._log import logger, short


class Subscriber(Protocol):
    def deliver(self, events: list[Stored]) -> None:
        """Queue events for sending; must not block or raise."""


@runtime_checkable
class DeviceConnection(Protocol):
    """A subscriber that is one device's connection and can be ended for revocation."""

    @property
    def device_id(self) -> bytes | None: ...

    def device_revoked(self) -> None:
        """Send device_revoked and close; must not block or raise."""


class Hub:
    def __init__(self) -> None:
        self._spaces: dict[SpaceId, set[Subscriber]] = {}

    def subscribe(self, space_id: SpaceId, subscriber: Subscriber) -> None:
        self._spaces.setdefault(space_id, set()).add(subscriber)

    def unsubscribe(self, space_id: SpaceId, subscriber: Subscriber) -> None:
        members = self._spaces.get(space_id)
        if members is None:
            return
        members.discard(subscriber)
        if not members:
            del self._spaces[space_id]

    def subscriber_count(self, space_id: SpaceId) -> int:
        return len(self._spaces.get(space_id, ()))

    def revoke(self, space_id: SpaceId, device_ids: Collection[bytes]) -> int:
        """End the open connections of revoked devices (docs/PROTOCOL.md §7.8); returns
        how many were ended. Their next sign-in is refused by the store."""
        ended = 0
        for subscriber in list(self._spaces.get(space_id, ())):
            if isinstance(subscriber, DeviceConnection) and subscriber.device_id in device_ids:
                subscriber.device_revoked()
                ended += 1
        return ended

    def publish(
        self, space_id: SpaceId, events: Sequence[tuple[Subscriber | None, Stored]]
    ) -> None:
        """Deliver committed ``(origin, event)`` pairs, given in seq order, to everyone
        subscribed to the space except each event's origin."""
        members = self._spaces.get(space_id)
        if not members:
            return
        # A copy: delivering may make a slow subscriber unsubscribe itself.
        for subscriber in list(members):
            mine = [stored for origin, stored in events if origin is not subscriber]
            if not mine:
                continue
            try:
                subscriber.deliver(mine)
            except Exception:
                # A broken subscriber must not stop fan-out to the others, nor the
                # writer that called us; log without payload and carry on.
                logger.exception("live delivery failed in space %s", short(space_id))
