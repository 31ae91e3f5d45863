"""The storage interface of the relay, small enough for a PostgreSQL twin.

Two kinds of callers, two halves of the interface:

* **Reads** (``membership``, ``head``, ``events_after``, ``get_invite``,
  ``device_group``) may come from
  any task at any time and see only committed data.
* **Writes** and the look-ups the writer decides with (``load_space``,
  ``find_positions``, ``append_events``, ``create_space``, ``create_invite``,
  ``redeem_invite``, ``check_writable``) are called from the single writer task only
  (writer.py), so each runs alone and the writer's in-memory caches stay true. An
  implementation must make every write method atomic: all of it is committed, or
  nothing.

Everything here is plain data; the relay never stores anything it can read from a
payload, because there is nothing it can read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Protocol

from schemas.ids import DeviceId, EventId, InviteId, SpaceId


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class Membership(Enum):
    """What the relay knows about a (space, device) pair at sign-in."""

    NO_SPACE = "no_space"
    UNKNOWN_DEVICE = "unknown_device"
    ACTIVE = "active"
    REVOKED = "revoked"


Position = tuple[DeviceId, int]
"""(author, author_seq): one place in one author's chain."""


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last stored event of one author."""

    author_seq: int
    event_id: EventId


@dataclass(frozen=True, slots=True)
class StoredPosition:
    """What is stored at a Position: which event, at which relay seq."""

    event_id: EventId
    seq: int


@dataclass(frozen=True, slots=True)
class SpaceSnapshot:
    """Everything the writer needs to decide pushes into one space."""

    head: int
    devices: dict[DeviceId, DeviceStatus]
    chains: dict[DeviceId, ChainHead]
    bytes: int = 0
    """Envelope bytes the space stores (its quota counts them)."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One row to append: an accepted envelope at its relay seq."""

    space_id: SpaceId
    seq: int
    event_id: EventId
    author: DeviceId
    author_seq: int
    envelope: bytes
    received_at_ms: int


# --- the stored form of an envelope ----------------------------------------------------
#
# Every canonical envelope (schemas/envelope.py, version 2) begins with the same 54
# bytes apart from two ids the row itself names: 9b (an array of 11), 02 (the version),
# c4 10 and the 16-byte space id, c4 20 and the 32-byte author. The stores keep the
# envelope without them and put them back from the row's space and author when they
# read it: 54 of ~1,460 bytes per 1 KiB entry (docs/OPERATIONS.md §15.4). What is kept
# then begins with the author seq, a msgpack positive integer (first byte below 0x80 or
# cc..cf), never with an array header (0x9_), so a whole envelope kept as it came (rows
# written before, or any envelope whose first bytes are not exactly these) still reads
# back as itself. Both forms are byte-exact: the event id is the hash of the envelope
# read back, so any change would show in every client's verification and in
# ``trellis-relay check``.

_ENVELOPE_START = b"\x9b\x02\xc4\x10"
_AUTHOR_START = b"\xc4\x20"
COMMON_PREFIX_BYTES = 54
"""Bytes of a version 2 envelope that the stores leave out and rebuild."""
COMPACT_SQLITE = (
    "(substr(e.envelope, 1, 1) < x'80' OR substr(e.envelope, 1, 1) BETWEEN x'cc' AND x'cf')"
)
"""SQLite: whether the row ``e`` keeps its envelope without the common prefix."""
COMPACT_POSTGRES = "(get_byte(e.envelope, 0) < 128 OR get_byte(e.envelope, 0) BETWEEN 204 AND 207)"
"""PostgreSQL: the same test as ``COMPACT_SQLITE``."""


def is_compact(stored: bytes) -> bool:
    """Whether ``stored`` is an envelope kept without its common prefix."""
    return bool(stored) and (stored[0] < 0x80 or 0xCC <= stored[0] <= 0xCF)


def stored_form(envelope: bytes, space_id: bytes, author: bytes) -> bytes:
    """What a store keeps of a canonical envelope of ``space_id`` written by ``author``:
    without the common prefix when ``full_envelope`` rebuilds exactly these bytes, else
    the envelope itself."""
    if (
        envelope[:4] == _ENVELOPE_START
        and envelope[4:20] == space_id
        and envelope[20:22] == _AUTHOR_START
        and envelope[22:54] == author
        and is_compact(envelope[COMMON_PREFIX_BYTES:])
    ):
        return envelope[COMMON_PREFIX_BYTES:]
    if is_compact(envelope):
        # Not an envelope at all (every one begins with an array header): kept as it
        # is, it would read back as something else. The relay never stores such bytes.
        raise ValueError("only msgpack envelopes can be stored")
    return envelope


def full_envelope(stored: bytes, space_id: bytes, author: bytes) -> bytes:
    """The envelope as it was pushed, from what the store kept (``stored_form``)."""
    if not is_compact(stored):
        return stored
    return b"".join((_ENVELOPE_START, space_id, _AUTHOR_START, author, stored))


def full_size(stored: bytes) -> int:
    """Length of ``full_envelope(stored, ...)`` without building it."""
    return len(stored) + COMMON_PREFIX_BYTES if is_compact(stored) else len(stored)


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    envelope: bytes


@dataclass(frozen=True, slots=True)
class EventPage:
    """Up to ``limit`` events after a cursor, whether more remain, and the head."""

    events: list[EventRow]
    more: bool
    head: int


@dataclass(frozen=True, slots=True)
class InviteRecord:
    invite_id: InviteId
    space_id: SpaceId
    verify_key: bytes
    wrapped_keys: bytes
    kind: str
    expires_at_ms: int
    created_by: DeviceId
    created_at_ms: int
    redeemed_at_ms: int | None = None
    redeemed_by: DeviceId | None = None
    for_device: DeviceId | None = None
    """A rejoin invite's target: the redeemer joins this device's member group."""

    @classmethod
    def from_row(cls, row: Any) -> InviteRecord:
        """From a database row in field order: both stores select the same columns."""
        return cls(
            invite_id=InviteId(bytes(row[0])),
            space_id=SpaceId(bytes(row[1])),
            verify_key=bytes(row[2]),
            wrapped_keys=bytes(row[3]),
            kind=str(row[4]),
            expires_at_ms=int(row[5]),
            created_by=DeviceId(bytes(row[6])),
            created_at_ms=int(row[7]),
            redeemed_at_ms=None if row[8] is None else int(row[8]),
            redeemed_by=None if row[9] is None else DeviceId(bytes(row[9])),
            for_device=None if row[10] is None else DeviceId(bytes(row[10])),
        )


class RedeemOutcome(Enum):
    REDEEMED = "redeemed"
    ALREADY_REDEEMED_BY_DEVICE = "already_redeemed_by_device"
    """The same device redeemed it before: a retry after a lost response."""
    USED = "used"
    EXPIRED = "expired"
    NOT_FOUND = "not_found"
    DEVICE_REVOKED = "device_revoked"
    SPACE_FULL = "space_full"
    """A member invite, but the space already has its two partners (§7.5)."""


class RevokeOutcome(Enum):
    REVOKED = "revoked"
    ALREADY_REVOKED = "already_revoked"
    """Revoked before: a retry succeeds again."""
    NOT_SAME_MEMBER = "not_same_member"
    UNKNOWN_TARGET = "unknown_target"
    NOT_ACTIVE = "not_active"
    """The asking device is not (or no longer) an active device of the space."""


@dataclass(frozen=True, slots=True)
class LeaveOutcome:
    revoked: list[DeviceId]
    space_deleted: bool
    active: bool = True
    """False when the asking device was not active: nothing was changed."""


class StaleSpace(Exception):
    """append_events found a space changed since load_space by another relay process
    (a store shared by several processes, pg_store.py): nothing was written; the writer
    reloads the space and decides the pushes again."""

    def __init__(self, space_id: SpaceId) -> None:
        super().__init__("a space changed under this relay process")
        self.space_id = space_id


class Store(Protocol):
    async def open(self) -> None:
        """Connect, apply pending migrations, get ready to serve."""

    async def close(self) -> None: ...

    # --- reads: any task, committed data only --------------------------------------

    async def membership(self, space_id: SpaceId, device_id: DeviceId) -> Membership: ...

    async def head(self, space_id: SpaceId) -> int | None:
        """The space's highest relay seq, or None for an unknown space."""

    async def events_after(
        self, space_id: SpaceId, after: int, limit: int, max_bytes: int
    ) -> EventPage:
        """Events with seq > after in seq order: at most ``limit`` of them and, beyond
        the first, no more than ``max_bytes`` of envelopes in total."""

    async def get_invite(self, invite_id: InviteId) -> InviteRecord | None: ...

    # --- writer task only ----------------------------------------------------------

    async def load_space(self, space_id: SpaceId) -> SpaceSnapshot | None: ...

    async def find_positions(
        self, space_id: SpaceId, positions: Collection[Position]
    ) -> dict[Position, StoredPosition]:
        """Which event is stored at each position, for those that are stored."""

    async def append_events(self, rows: Sequence[NewEvent], heads: Mapping[SpaceId, int]) -> None:
        """Insert all rows, set each space's head and add the rows' envelope bytes to
        its stored bytes, in one transaction. May raise StaleSpace, writing nothing."""

    async def create_space(self, genesis: NewEvent, created_at_ms: int) -> bool:
        """Create the space, its first active device and its seq-1 event.

        Returns False, changing nothing, when the space already exists."""

    async def device_group(
        self, space_id: SpaceId, device_id: DeviceId
    ) -> tuple[DeviceStatus, bytes | None] | None:
        """A device's status and member group in the space (docs/PROTOCOL.md §7.8),
        or None if it is not a device of the space."""
        ...

    async def create_invite(self, invite: InviteRecord) -> bool:
        """Returns False, changing nothing, when the invite id is taken."""

    async def redeem_invite(
        self, invite_id: InviteId, device_id: DeviceId, now_ms: int
    ) -> tuple[RedeemOutcome, SpaceId | None]:
        """Mark the invite used by ``device_id`` and make that device an active member,
        atomically, unless it is used, expired or missing."""

    async def revoke_device(
        self, space_id: SpaceId, by: DeviceId, target: DeviceId
    ) -> RevokeOutcome:
        """Mark ``target`` revoked if ``by`` is active and of the same member group."""

    async def leave(self, space_id: SpaceId, by: DeviceId) -> LeaveOutcome:
        """Revoke every device of ``by``'s member group; when no active device remains
        in the space, delete all of its data (events, invites, devices, the space)."""

    async def check_writable(self, now_ms: int) -> None:
        """Durably commit a trivial write (readiness); raise if the database cannot."""
