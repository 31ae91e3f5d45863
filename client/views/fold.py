"""From events to views, sans-I/O (docs/PROTOCOL.md §10).

The fold's input is a deterministic linear order of the causal graph, never the relay's
arrival order: events sorted by (Lamport clock, event id). Admission guarantees every
event's clock is above those of its author's previous event and of all its
dependencies, so this order always puts causes before effects, and any two clients
holding the same events fold them the same way, whatever order they arrived in.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from client.core.verify import Member, Membership, VerifiedEvent
from schemas.ids import EventId, MemberId
from schemas.payloads import JournalAmended, JournalEntry, JournalRetracted


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a fold builds its result.

    Why: a fold over a space's whole history makes several new objects per event (the
    sort keys, each entry, its versions), and every few hundred allocations start a
    collection that walks what is tracked: folding 100,000 journal entries spent half
    its time there, for nothing, as a fold makes no cycles (what it builds is freed by
    reference counting). Anything else allocated meanwhile is collected at the next
    collection after. The collector is turned back on only if it was on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def causal_order(events: Iterable[VerifiedEvent]) -> list[VerifiedEvent]:
    with no_cycle_collection():
        return sorted(events, key=lambda e: (e.body.lamport, e.event_id))


@dataclass(frozen=True, slots=True)
class JournalVersion:
    event_id: EventId
    text: str
    mood: int | None
    tags: tuple[str, ...]
    recorded_at: int


@dataclass(slots=True)
class JournalItem:
    """One journal entry as people see it: its latest text, and every earlier one."""

    id: EventId
    author: MemberId
    text: str
    mood: int | None
    tags: tuple[str, ...]
    recorded_at: int
    occurred_at: int
    history: list[JournalVersion] = field(default_factory=list)
    retracted: bool = False
    retracted_at: int | None = None

    @property
    def amended(self) -> bool:
        return len(self.history) > 1


def fold_journal(ordered: Iterable[VerifiedEvent], membership: Membership) -> list[JournalItem]:
    """Entries in causal order, amendments applied, retracted ones marked.

    Only the member who wrote an entry may amend or retract it (from any of their
    devices); anything else is ignored here and reported by ``trellis verify``.
    """
    with no_cycle_collection():
        return _fold_journal(ordered, membership)


def _fold_journal(ordered: Iterable[VerifiedEvent], membership: Membership) -> list[JournalItem]:
    items: dict[EventId, JournalItem] = {}
    members: dict[bytes, Member | None] = {}  # by author device: a handful, looked up once
    for event in ordered:
        author = event.envelope.author
        if author not in members:
            members[author] = membership.member_of(author)
        member = members[author]
        if member is None:
            continue
        payload = event.payload
        if isinstance(payload, JournalEntry):
            tags = tuple(payload.tags)
            recorded_at = event.body.recorded_at
            version = JournalVersion(event.event_id, payload.text, payload.mood, tags, recorded_at)
            items[event.event_id] = JournalItem(
                id=event.event_id,
                author=member.member_id,
                text=payload.text,
                mood=payload.mood,
                tags=tags,
                recorded_at=recorded_at,
                occurred_at=event.body.occurred_at,
                history=[version],
            )
        elif isinstance(payload, JournalAmended):
            item = items.get(EventId(payload.entry))
            if item is None or item.author != member.member_id or item.retracted:
                continue
            item.text, item.mood, item.tags = payload.text, payload.mood, tuple(payload.tags)
            item.history.append(
                JournalVersion(
                    event.event_id,
                    payload.text,
                    payload.mood,
                    tuple(payload.tags),
                    event.body.recorded_at,
                )
            )
        elif isinstance(payload, JournalRetracted):
            item = items.get(EventId(payload.entry))
            if item is None or item.author != member.member_id:
                continue
            item.retracted = True
            item.retracted_at = event.body.recorded_at
    return list(items.values())
