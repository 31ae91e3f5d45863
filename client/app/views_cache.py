"""The folded views of the open space, built once per change instead of once per page.

Folding every view from the whole history takes about 0.2 s for 3,000 events and grows
with the history; a page must answer in well under 0.1 s for a home of 10,000 events
(bench/app.py). The views change only when an event is accepted, or as time passes
(a signal's return time, a review date, a sober day), so they are kept until the
number of events changes, or the minute turns: what depends on the
clock is at most a minute behind, and a new event (a signal) shows at once.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from client.core.verify import VerifiedEvent
from client.space import Space
from client.views import Moment, Views

_MINUTE_MS = 60_000


@dataclass(frozen=True)
class _Entry:
    key: tuple[int, int, int]
    views: Views


_cache: weakref.WeakKeyDictionary[Space, _Entry] = weakref.WeakKeyDictionary()
_ordered: weakref.WeakKeyDictionary[Space, tuple[tuple[int, int], list[VerifiedEvent]]] = (
    weakref.WeakKeyDictionary()
)


def forget(space: Space) -> None:
    """Drop the views of ``space`` (they hold decrypted text): called when the app
    locks, so nothing read stays in the app's memory by way of this cache."""
    _cache.pop(space, None)
    _ordered.pop(space, None)


def cached(space: Space) -> bool:
    """Whether views of ``space`` are held (for the tests of locking)."""
    return space in _cache or space in _ordered


def current_views(space: Space) -> Views:
    """The views as of now, from the cache while nothing has changed this minute."""
    moment = Moment.now()
    # Accepted events are never removed, so their number tells whether any arrived
    # (ordering them all to look at the last one took longer than the page itself).
    # After a failed write memory goes back to the disk (docs/PROTOCOL.md §9.13): a new
    # generation, so nothing folded from before is kept.
    key = (space.event_count, space.disk_generation, moment.now_ms // _MINUTE_MS)
    entry = _cache.get(space)
    if entry is None or entry.key != key:
        entry = _Entry(key, space.views(moment))
        _cache[space] = entry
    return entry.views


def current_events(space: Space) -> list[VerifiedEvent]:
    """Every accepted event in causal order (``Space.events``), ordered once per change:
    the timeline filters it on every page."""
    held = _ordered.get(space)
    key = (space.event_count, space.disk_generation)
    if held is None or held[0] != key:
        held = (key, space.events())
        _ordered[space] = held
    return held[1]
