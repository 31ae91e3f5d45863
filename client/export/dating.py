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


def _newest_shown(
    space_id: SpaceId,
    events: Sequence[VerifiedEvent],
    chosen: set[EventId] | None,
    exporter: DeviceId,
) -> int | None:
    """The newest ``recorded_at`` of the other partner's events among ``chosen`` (all
    when None), as the verifier attributes devices to members."""
    picked = events if chosen is None else [e for e in events if e.event_id in chosen]
    attribution = export_attribution.attribute(space_id, [(e.envelope, e.payload) for e in events])
    return newest_partner_time(
        [(bytes(e.author), e.body.recorded_at) for e in picked],
        bytes(exporter),
        {bytes(d): bytes(m) for d, m in attribution.devices.items()},
    )


MAX_POSTDATE_MS = 24 * 3600 * 1000
"""How far past this device's clock an export may be dated to stay after a partner's
event it shows; beyond it, a clock is wrong and the export is refused, not post-dated."""


def not_before_partner(
    space_id: SpaceId,
    events: Sequence[VerifiedEvent],
    exporter: DeviceId,
    now_ms: int,
    chosen: set[EventId] | None = None,
) -> int:
    """The time to date an export made now: ``now_ms``, unless an event of the other
    partner's it would show (of ``chosen``; all when None) was recorded later than that
    by more than a clock's margin (client/export/format.py ``CLOCK_MARGIN_MS``; their
    clock runs ahead of this one). Then the export is dated that much later, so it is
    never dated before an event it shows (``created_before_events``). Only the events
    shown count: a partner's clock set far ahead elsewhere must not move the date, and
    with it which consents still hold. More than :data:`MAX_POSTDATE_MS` ahead is a
    wrong clock, refused in plain words."""
    newest = _newest_shown(space_id, events, chosen, exporter)
    dated = now_ms if newest is None else max(now_ms, newest - CLOCK_MARGIN_MS)
    if dated - now_ms > MAX_POSTDATE_MS:
        raise ExportError(
            "An entry of your partner's that this export would show is dated more than a "
            "day after this device's clock. Check the date and time on this device (and "
            "ask your partner to check theirs), or leave that entry out."
        )
    return dated


def refuse_a_date_before_the_partners(
    space_id: SpaceId,
    events: Sequence[VerifiedEvent],
    chosen: set[EventId],
    exporter: DeviceId,
    created_at_ms: int,
) -> None:
    """An export is not dated before an event of the partner's it shows (by more than a
    clock's margin): the verifier refuses it (``created_before_events``)."""
    newest = _newest_shown(space_id, events, chosen, exporter)
    if newest is not None and created_at_ms + CLOCK_MARGIN_MS < newest:
        raise ExportError(
            "This export would be dated before an event of your partner's that it shows "
            "(their device's clock may be ahead of this one's). Date it later, or try "
            "again in a few minutes."
        )
