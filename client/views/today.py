"""What asks for one partner's attention today, from the folded views: the questions
the app's Today screen (client/app/screens/today.py) answers, kept here so any client
answers them the same way.

Nothing here counts, ranks or reminds: an unmarked disclosure is not a failing
(DisclosureView.mark), and an agreement waiting for an answer may simply wait.
"""

from __future__ import annotations

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
