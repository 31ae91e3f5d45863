"""What ``trellis export --recovery`` reveals: the records a therapist's first page is
made of (docs/PROTOCOL.md "Exports", "The first page").

Slips, relapses, risk reports and other disclosures with the partner's marks, check-ins,
signals with their clears, and the transparency windows with their postponements, from
``--since`` on; and the partners' joining events for their names. Formal disclosures
(a milestone without content) and every writer-only kind (intimacy check-ins,
disclosure preparation, private notes) are never chosen here. The consent rules then
apply as to any export: the other partner's own words leave only with their consent
(client/cli/consent.py).
"""

from __future__ import annotations

from client.errors import ClientErrorCode, TrellisError
from client.space import Space
from schemas.ids import EventId
from schemas.payloads import MemberJoined, SpaceCreated
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
    CheckIn,
    DisclosureAcknowledged,
    DisclosureMade,
    SignalCleared,
    SignalSent,
    WindowPostponed,
)

_WINDOW_ANSWERS = (AgreementAccepted, AgreementDeclined, AgreementWithdrawn, AgreementReviewed)


def recovery_choice(space: Space, since_ms: int | None) -> tuple[set[EventId], str]:
    """The recovery records recorded at or after ``since_ms`` (all, when None), with
    what answers them (a mark, a clear), and every window with its history."""
    since = 0 if since_ms is None else since_ms
    events = space.events()
    chosen: set[EventId] = set()
    for e in events:
        if e.body.recorded_at >= since and _record(e.payload, chosen):
            chosen.add(e.event_id)
    windows = {
        e.event_id
        for e in events
        if isinstance(e.payload, AgreementProposed) and e.payload.kind == "window"
    }
    # A window's versions, answers and postponements, whenever written.
    chosen |= windows | {e.event_id for e in events if _about_window(e.payload, windows)}
    if not chosen:
        raise TrellisError(
            "There are no recovery records to export for that time yet.",
            code=ClientErrorCode.NOT_FOUND,
        )
    chosen |= {e.event_id for e in events if isinstance(e.payload, SpaceCreated | MemberJoined)}
    return chosen, "Recovery records"


def _record(p: object, chosen: set[EventId]) -> bool:
    """A recovery record, or an answer to one already chosen (a mark, a clear)."""
    if isinstance(p, DisclosureMade):
        return p.kind != "formal_disclosure"
    if isinstance(p, DisclosureAcknowledged):
        return EventId(p.disclosure) in chosen
    if isinstance(p, SignalCleared):
        return EventId(p.signal) in chosen
    return isinstance(p, CheckIn | SignalSent)


def _about_window(p: object, windows: set[EventId]) -> bool:
    if isinstance(p, _WINDOW_ANSWERS):
        return EventId(p.version) in windows
    return isinstance(p, WindowPostponed) and EventId(p.window) in windows
