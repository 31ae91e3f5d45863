"""What each part of an export brings (docs/PROTOCOL.md "Exports"): the chosen
agreements' histories, the pacing plan's, and the recovery records a therapist's first
page is made of. One implementation for ``trellis export --agreements / --pacing /
--recovery`` and the app's Export screen, so both reveal exactly the same events.

Every part adds the partners' joining events (for their names). Formal disclosures (a
milestone without content) and every writer-only kind (intimacy check-ins, disclosure
preparation, private notes) are never chosen here. What the other partner wrote in
their own words then leaves only with their consent (client/export/consent.py), as in
any export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from client.core.verify import VerifiedEvent
from client.errors import ClientErrorCode, TrellisError
from client.views.agreements import Agreement
from schemas.ids import EventId
from schemas.intimacy import (
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingSteppedBack,
)
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

PACING_TYPES = (
    PacingPlanProposed,
    PacingPlanAccepted,
    PacingForwardProposed,
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingSteppedBack,
)
"""The pacing plan's versions and every move in it: what the pacing export reveals."""

_WINDOW_ANSWERS = (AgreementAccepted, AgreementDeclined, AgreementWithdrawn, AgreementReviewed)

NO_AGREEMENTS = "There are no agreements to export yet."
NO_PACING = "There is no pacing plan to export yet."
NO_RECOVERY = "There are no recovery records to export for that time yet."


@dataclass(frozen=True)
class ExportChoice:
    """The events an export reveals (before the consent rule) and its title."""

    chosen: frozenset[EventId]
    title: str


def _membership(events: Sequence[VerifiedEvent]) -> set[EventId]:
    return {e.event_id for e in events if isinstance(e.payload, SpaceCreated | MemberJoined)}


def agreements_part(
    agreements: Sequence[Agreement], events: Sequence[VerifiedEvent], *, every: bool = False
) -> tuple[set[EventId], str]:
    """Every version and answer of ``agreements``; titled by the agreement's title when
    one was chosen, "Agreements" when several were, or ``every`` one."""
    if not agreements:
        raise TrellisError(NO_AGREEMENTS, code=ClientErrorCode.NOT_FOUND)
    chosen = {eid for a in agreements for eid in a.event_ids}
    one = len(agreements) == 1 and not every
    title = f"Agreement: {agreements[0].title}" if one else "Agreements"
    return chosen | _membership(events), title


def pacing_part(events: Sequence[VerifiedEvent]) -> tuple[set[EventId], str]:
    """The pacing plan's versions and every move (with who made it and when). Nothing
    else: no check-in, boundary, preparation or private note."""
    chosen = {e.event_id for e in events if isinstance(e.payload, PACING_TYPES)}
    if not chosen:
        raise TrellisError(NO_PACING, code=ClientErrorCode.NOT_FOUND)
    return chosen | _membership(events), "Pacing plan"


def recovery_part(
    events: Sequence[VerifiedEvent], since_ms: int | None
) -> tuple[set[EventId], str]:
    """The recovery records recorded at or after ``since_ms`` (all, when None): slips,
    relapses, risk reports and other disclosures with the partner's marks, check-ins,
    signals with their clears; and every window with its versions, answers and
    postponements, whenever written."""
    since = 0 if since_ms is None else since_ms
    chosen: set[EventId] = set()
    for e in events:
        if e.body.recorded_at >= since and _record(e.payload, chosen):
            chosen.add(e.event_id)
    windows = {
        e.event_id
        for e in events
        if isinstance(e.payload, AgreementProposed) and e.payload.kind == "window"
    }
    chosen |= windows | {e.event_id for e in events if _about_window(e.payload, windows)}
    if not chosen:
        raise TrellisError(NO_RECOVERY, code=ClientErrorCode.NOT_FOUND)
    return chosen | _membership(events), "Recovery records"


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


def export_choice(
    events: Sequence[VerifiedEvent],
    *,
    agreements: Sequence[Agreement] | None = None,
    every_agreement: bool = False,
    pacing: bool = False,
    recovery: bool = False,
    since_ms: int | None = None,
) -> ExportChoice:
    """The parts asked for, together: ``agreements`` (None: not asked;
    ``every_agreement`` when they are all of them, unpicked), the pacing plan, the
    recovery records from ``since_ms``. The title names each part. Raises
    ``not_found`` in plain words when a part asked for has nothing yet."""
    chosen: set[EventId] = set()
    titles: list[str] = []
    if agreements is not None:
        part, title = agreements_part(agreements, events, every=every_agreement)
        chosen |= part
        titles.append(title)
    if pacing:
        part, title = pacing_part(events)
        chosen |= part
        titles.append(title)
    if recovery:
        part, title = recovery_part(events, since_ms)
        chosen |= part
        titles.append(title)
    return ExportChoice(frozenset(chosen), "; ".join(titles))
