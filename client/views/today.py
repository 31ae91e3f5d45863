"""What asks for one partner's attention today, from the folded views: the questions
the app's Today screen (client/app/screens/today.py) answers, kept here so any client
answers them the same way.

Nothing here counts, ranks or reminds: an unmarked disclosure is not a failing
(DisclosureView.mark), and an agreement waiting for an answer may simply wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from client.views import Views
from client.views.agreements import Agreement
from client.views.recovery import DisclosureView
from schemas.ids import MemberId


def agreements_waiting_for(views: Views, member: MemberId | None) -> list[Agreement]:
    """Agreements whose current version is proposed by the other partner and that
    ``member`` has neither accepted nor declined."""
    waiting = []
    for agreement in views.agreements.agreements:
        current = agreement.current
        if agreement.status != "proposed" or current is None or current.proposer == member:
            continue
        answered = {c.member for c in (*current.accepted_by, *current.declined_by)}
        if member not in answered:
            waiting.append(agreement)
    return waiting


def disclosures_unmarked_for(views: Views, member: MemberId | None) -> list[DisclosureView]:
    """The other partner's disclosures that ``member`` has not marked (seen, or need
    time) yet."""
    return [d for d in views.disclosures if d.author != member and not d.acknowledged]


@dataclass(frozen=True, slots=True)
class PacingWait:
    """A pacing proposal that waits for an answer (docs/PROTOCOL.md §5.11): a plan
    version not in use yet, or an open offer to move forward a stage."""

    what: Literal["plan", "forward"]
    proposer: MemberId
    mine: bool
    """The reader proposed it: it waits for the partner, not for the reader."""
    at: int


def pacing_waiting(views: Views, member: MemberId | None, now_ms: int) -> list[PacingWait]:
    """The pacing proposals waiting for an answer, ``member``'s to give first (the
    partner's plan versions ``member`` has not accepted, the partner's open offers),
    then those waiting for the partner (``member``'s own). An offer older than 48 hours
    has lapsed (silence is not a yes) and no longer waits for anyone."""
    pacing = views.intimacy.pacing
    waits = [
        PacingWait("plan", v.proposer, v.proposer == member, v.recorded_at)
        for v in pacing.pending_versions()
        if v.proposer == member or member not in v.accepted_by
    ]
    waits += [
        PacingWait("forward", o.member, o.member == member, o.at)
        for o in pacing.open_offers(now_ms)
    ]
    return sorted(waits, key=lambda w: (w.mine, w.at))
