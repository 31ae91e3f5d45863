"""Journal amendments and retractions that must not take effect (docs/PROTOCOL.md §10.6).

:func:`client.views.fold.fold_journal` applies only what the entry's own author writes; this
module names what it set aside, so ``trellis verify`` and ``trellis status`` report it
and listings never show it as having happened:

* ``unknown_entry``: it names an event that is not a journal entry folded earlier;
* ``amend_by_other_member`` / ``retract_by_other_member``: only the member who wrote an
  entry amends or withdraws it (client/views/write_rules.py refuses to write it);
* ``amend_of_retracted_entry`` / ``retract_of_retracted_entry``: its author had already
  seen the entry withdrawn. Written concurrently with the retraction (the author had
  not seen it, client/views/causality.py) it is honest: it has no effect and is no violation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from client.core.verify import Membership, VerifiedEvent
from client.views.causality import had_seen
from schemas.ids import EventId, MemberId
from schemas.payloads import JournalAmended, JournalEntry, JournalRetracted


@dataclass(frozen=True, slots=True)
class JournalViolation:
    event_id: EventId
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class JournalEffects:
    violations: list[JournalViolation]
    without_effect: set[EventId]
    """Honest amendments or retractions written concurrently with a retraction."""


def journal_effects(ordered: Iterable[VerifiedEvent], membership: Membership) -> JournalEffects:
    authors: dict[EventId, MemberId] = {}
    retracted_by: dict[EventId, EventId] = {}
    violations: list[JournalViolation] = []
    void: set[EventId] = set()
    for event in ordered:
        payload = event.payload
        member = membership.member_of(event.author)
        if member is None:
            continue
        if isinstance(payload, JournalEntry):
            authors[event.event_id] = member.member_id
            continue
        if not isinstance(payload, JournalAmended | JournalRetracted):
            continue
        amend = isinstance(payload, JournalAmended)
        entry = EventId(payload.entry)
        author = authors.get(entry)
        if author is None:
            violations.append(
                JournalViolation(
                    event.event_id,
                    "unknown_entry",
                    "names a journal entry this log does not hold; nothing was changed",
                )
            )
        elif author != member.member_id:
            violations.append(
                JournalViolation(
                    event.event_id,
                    "amend_by_other_member" if amend else "retract_by_other_member",
                    f"{'updates' if amend else 'withdraws'} the partner's journal entry; only "
                    "the person who wrote an entry can do that, so nothing was changed",
                )
            )
        elif entry in retracted_by:
            if had_seen(membership, event, retracted_by[entry]):
                violations.append(
                    JournalViolation(
                        event.event_id,
                        "amend_of_retracted_entry" if amend else "retract_of_retracted_entry",
                        f"{'updates' if amend else 'withdraws'} a journal entry already "
                        "withdrawn; nothing was changed",
                    )
                )
            else:
                void.add(event.event_id)
        elif not amend:
            retracted_by[entry] = event.event_id
    return JournalEffects(violations, void)
