"""The relay's numbering as one device read it, sans-I/O (docs/PROTOCOL.md §9.6).

The relay numbers a space's events 1, 2, 3, ... without gaps (§6.5) and a page proves
it holds nothing else up to the last seq it returned. Clients do not trust it, but they
can hold it to its word: this record keeps, for every relay seq this device read, a
digest of the bytes served there and when this device learned it. From it follow:

* **holes**: relay seqs the cursor passed (the relay said it had served them) that
  never came, and seqs where it served bytes admission refused; each is read once more
  at the next sync before it counts as settled;
* **the anchor**: the last event read at or below the cursor, which the relay must
  still serve at the same seq when a device signs in again (a relay restored from a
  backup, or renumbering its history, does not);
* **sightings**: the same event served at two seqs, or two events at one seq.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import msgspec

MAX_ANCHOR_DISTANCE = 64
"""The anchor is the highest validly read seq at or below the cursor, at most this far."""

HOLE = b""
"""The digest recorded for a relay seq the relay skipped."""


class SightingKind(StrEnum):
    MOVED = "moved"
    """An event we hold, served at another relay seq than before."""
    REWRITTEN = "rewritten"
    """Different content at a relay seq already read."""
    FOREIGN_ACK = "foreign_ack"
    """An acknowledgement for an event this device did not push in that session."""
    REUSED_CHALLENGE = "reused_challenge"
    """A sign-in challenge this device had answered before."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """Relay misbehaviour seen in passing; kept as proof."""

    kind: SightingKind
    events: tuple[bytes, ...] = ()
    relay_seq: int | None = None
    earlier_seq: int | None = None


class RelaySlot(msgspec.Struct, gc=False):
    """What the relay served at one seq.

    A msgspec struct with ``gc=False`` rather than a dataclass: a device keeps one per
    event of its space (its fields are bytes, bools and ints, so never in a cycle), and
    100,000 of them tracked made every full pass of Python's cycle collector walk them
    (about a quarter of the objects it tracked after a 100,000-event catch-up)."""

    digest: bytes
    """The BLAKE2b-256 of the bytes served (an envelope's event id), or HOLE."""
    valid: bool
    """False for bytes admission refused, an event also served elsewhere, or a hole."""
    seen_at: int
    """When this device first learned it (ms, this device's clock)."""
    settled: bool = False
    """Already read once more after it looked wrong: not asked for again."""


@dataclass
class RelayView:
    """The relay's numbering as this device read it, since it last lost data.

    Relay seqs at or below ``base`` were read before this record began and are not
    tracked. ``dirty`` collects the slots to persist."""

    base: int = 0
    slots: dict[int, RelaySlot] = field(default_factory=dict)
    dirty: dict[int, RelaySlot] = field(default_factory=dict)
    _where: dict[bytes, int] = field(default_factory=dict)
    _fresh: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._where = {s.digest: seq for seq, s in self.slots.items() if s.valid}

    def seq_of(self, digest: bytes) -> int | None:
        return self._where.get(digest)

    def seen_at(self, digest: bytes) -> int | None:
        seq = self._where.get(digest)
        return None if seq is None else self.slots[seq].seen_at

    def holds(self) -> set[bytes]:
        return set(self._where)

    def observe(self, seq: int, digest: bytes, *, valid: bool, at: int) -> Sighting | None:
        """Record that the relay served (or acknowledged) ``digest`` at ``seq``."""
        if seq <= self.base:
            return None
        slot = self.slots.get(seq)
        elsewhere = self._where.get(digest)
        if valid and elsewhere is not None and elsewhere != seq:
            if slot is None or not slot.valid:
                self._put(seq, RelaySlot(digest, False, at))
            return Sighting(SightingKind.MOVED, (digest,), seq, elsewhere)
        if slot is None or slot.digest == HOLE:
            self._put(seq, RelaySlot(digest, valid, at))
            return None
        if slot.digest == digest:
            if not slot.valid and seq in self._fresh:
                return None
            if not slot.valid and not slot.settled:
                # Read again and still the same wrong bytes: stop asking.
                slot.settled = True
                self.dirty[seq] = slot
            return None
        if not slot.valid:
            # Wrong bytes before, something else now: a second reading fixed it.
            self._put(seq, RelaySlot(digest, valid, at))
            return None
        if not valid:
            # We hold a good event here; garbage over it is refused by admission.
            return None
        return Sighting(SightingKind.REWRITTEN, (slot.digest, digest), seq)

    def _put(self, seq: int, slot: RelaySlot) -> None:
        old = self.slots.get(seq)
        if old is not None and old.valid and self._where.get(old.digest) == seq:
            del self._where[old.digest]
        self.slots[seq] = slot
        self.dirty[seq] = slot
        self._fresh.add(seq)
        if slot.valid:
            self._where[slot.digest] = seq

    def begin_read(self) -> None:
        self._fresh = set()

    def skipped(self, cursor: int) -> list[int]:
        """Relay seqs at or below the cursor it never served (holes)."""
        return [
            seq
            for seq in range(self.base + 1, cursor + 1)
            if seq not in self.slots or self.slots[seq].digest == HOLE
        ]

    def finish_read(self, started_after: int, cursor: int, at: int) -> None:
        """A read that reached the relay's head: record holes; suspects read a second
        time without a fix are settled (asked for again only by a re-seed)."""
        for seq in range(max(self.base, started_after) + 1, cursor + 1):
            slot = self.slots.get(seq)
            if slot is None:
                self._put(seq, RelaySlot(HOLE, False, at))
            elif not slot.valid and not slot.settled and seq not in self._fresh:
                slot.settled = True
                self.dirty[seq] = slot
        for seq in range(self.base + 1, started_after + 1):
            if seq not in self.slots:
                self._put(seq, RelaySlot(HOLE, False, at))

    def refetch_from(self, cursor: int) -> int | None:
        """Where to read from again: just below the lowest suspect seq not yet settled."""
        suspects = [
            seq
            for seq, slot in self.slots.items()
            if seq <= cursor and not slot.valid and not slot.settled
        ]
        return min(suspects) - 1 if suspects else None

    def anchor(self, cursor: int) -> tuple[int, bytes] | None:
        """The highest validly read relay seq at or below the cursor, to check at sign-in
        that the relay still holds what it held (a relay that lost data or renumbered
        its history serves something else there)."""
        for seq in range(cursor, max(self.base, cursor - MAX_ANCHOR_DISTANCE), -1):
            slot = self.slots.get(seq)
            if slot is not None and slot.valid:
                return seq, slot.digest
        return None

    def restart(self) -> None:
        """The relay lost data or is a new relay: its numbering starts over (the
        caller deletes the stored record)."""
        self.dirty = {}
        self.slots = {}
        self._where = {}
        self._fresh = set()
        self.base = 0
