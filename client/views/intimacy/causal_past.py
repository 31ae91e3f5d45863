"""Who had seen what, from the events' own links (split from pacing.py): the pacing
fold asks it whether an acceptance's author had seen a step back, a move or a lapse
(docs/PROTOCOL.md §5.11, §10.5)."""

from __future__ import annotations

from client.core.verify import VerifiedEvent
from schemas.ids import EventId


class CausalPast:
    """Answers "had the author of X seen event S?" from the events' own links.

    Each event's vector clock (the highest seq seen of every device) is built in one
    pass over the causal order, which puts every event after its ``prev`` and ``deps``.
    Built only when a question is asked: most folds never need it."""

    def __init__(self, ordered: list[VerifiedEvent]) -> None:
        self._ordered = ordered
        self._clocks: dict[EventId, dict[bytes, int]] | None = None

    def _build(self) -> dict[EventId, dict[bytes, int]]:
        clocks: dict[EventId, dict[bytes, int]] = {}
        for event in self._ordered:
            clock: dict[bytes, int] = {}
            env = event.envelope
            parents = [*event.body.deps, *([env.prev] if env.prev is not None else [])]
            for parent in parents:
                for device, seq in clocks.get(EventId(parent), {}).items():
                    if seq > clock.get(device, 0):
                        clock[device] = seq
            clock[env.author] = env.seq
            clocks[event.event_id] = clock
        return clocks

    def saw(self, later: VerifiedEvent, earlier: VerifiedEvent) -> bool:
        if self._clocks is None:
            self._clocks = self._build()
        clock = self._clocks.get(later.event_id, {})
        return clock.get(earlier.envelope.author, 0) >= earlier.envelope.seq

    def latest_seen_after(self, later: VerifiedEvent, earlier: VerifiedEvent) -> int | None:
        """The newest ``recorded_at`` among the events that ``earlier``'s device wrote
        after it in its chain and that the author of ``later`` had seen (by that
        device's own clock), or None."""
        if self._clocks is None:
            self._clocks = self._build()
        device, after = earlier.envelope.author, earlier.envelope.seq
        seen_up_to = self._clocks.get(later.event_id, {}).get(device, 0)
        seen = [
            e.body.recorded_at
            for e in self._ordered
            if e.envelope.author == device and after < e.envelope.seq <= seen_up_to
        ]
        return max(seen, default=None)
