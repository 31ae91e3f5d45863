"""The date an export carries (docs/PROTOCOL.md "Exports", THREAT_MODEL §17.8): never
before an event of the partner's it shows, beyond a clock's margin, which the verifier
refuses as ``created_before_events`` (split from build.py)."""

from __future__ import annotations

from collections.abc import Sequence

from client.core.verify import VerifiedEvent
from client.errors import ClientErrorCode, TrellisError
from client.export import attribution as export_attribution
from client.export.format import CLOCK_MARGIN_MS
from client.export.verify import newest_partner_time
from schemas.ids import DeviceId, EventId, SpaceId


class ExportError(TrellisError):
    """An export could not be made, or a document given to render is not valid."""

    code = ClientErrorCode.BAD_EXPORT


def _device_members(space_id: SpaceId, events: Sequence[VerifiedEvent]) -> dict[bytes, bytes]:
    attribution = export_attribution.attribute(space_id, [(e.envelope, e.payload) for e in events])
    return {bytes(d): bytes(m) for d, m in attribution.devices.items()}


def not_before_partner(
    space_id: SpaceId, events: Sequence[VerifiedEvent], exporter: DeviceId, now_ms: int
) -> int:
    """The time to date an export made now: ``now_ms``, unless the other partner's
    device recorded an event later than that by more than a clock's margin
    (client/export/format.py ``CLOCK_MARGIN_MS``; its clock runs ahead of this one).
    Then the export is dated that much later, so it is never dated before an event it
    shows (``created_before_events``): later is the safe side, since a consent counts
    only until its end."""
    members = _device_members(space_id, events)
    newest = newest_partner_time(
        [(bytes(e.author), e.body.recorded_at) for e in events], bytes(exporter), members
    )
    return now_ms if newest is None else max(now_ms, newest - CLOCK_MARGIN_MS)


def refuse_a_date_before_the_partners(
    space_id: SpaceId,
    events: Sequence[VerifiedEvent],
    chosen: set[EventId],
    exporter: DeviceId,
    created_at_ms: int,
) -> None:
    """An export is not dated before an event of the partner's it shows (by more than a
    clock's margin): the verifier refuses it (``created_before_events``)."""
    picked = [e for e in events if e.event_id in chosen]
    newest = newest_partner_time(
        [(bytes(e.author), e.body.recorded_at) for e in picked],
        bytes(exporter),
        _device_members(space_id, events),
    )
    if newest is not None and created_at_ms + CLOCK_MARGIN_MS < newest:
        raise ExportError(
            "This export would be dated before an event of your partner's that it shows "
            "(their device's clock may be ahead of this one's). Date it later, or try "
            "again in a few minutes."
        )
