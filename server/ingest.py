"""What the relay accepts into a space's log: sans-I/O rules (docs/PROTOCOL.md §6, push).

Two stages, split by what they need to know:

1. ``check_batch`` — stateless, run by the connection that received the push: size,
   canonical decoding, the space the connection signed in to, and the author's
   Ed25519 signature for envelopes written by another device than the one pushing.
   Needs nothing but the bytes and who signed in.
2. ``SpaceLog.decide`` — stateful, run only inside the single writer task (writer.py)
   against its in-memory view of the space: is the author an active device, and does
   each envelope continue its author's chain? Running it in one task, right before the
   commit, is what stops two connections of one device from both appending seq N.

Where signatures are verified, and why (docs/THREAT_MODEL.md §6): the relay verifies
the Ed25519 signature of *every* envelope before it stores it, whoever pushes it. Its
chain bookkeeping depends on what it stores: one envelope stored unverified (written
badly by a buggy client, or a bit flipped on its way) would take its author's position
for good, every later push of that device would get ``chain_conflict``, and the partner
would hold a ``forged_event`` proof against an honest relay. Verification (~41 µs an
envelope) is the largest cost of ingest, so for pushes it runs off the event loop, in
batches across connections, on every core (server/verification.py): stage 1 here
decodes and checks the format, ``signature_items`` lists what to verify, and the shell
verifies and turns the first failure into a ``bad_signature`` rejection
(``first_bad_signature``) before anything reaches the writer. The genesis (HTTP) is
verified inline. Clients verify everything again regardless: the relay is not trusted
for integrity.

Batch semantics: a push is all-or-nothing. The first envelope that breaks a rule
rejects the batch with its index, and nothing of that batch is stored. Stage-1 failures
are reported before signatures, and signatures before stage-2 ones, so the index is the
first envelope failing the format checks, or else the first whose signature fails, or
else the first failing the chain rules.

Quota: a space stores at most ``Quota.max_events`` events and ``Quota.max_bytes`` bytes
of envelopes (0: no limit). A push that would pass either is refused whole with
``quota_exceeded`` at the index of the first new envelope that does not fit; retries of
stored envelopes never count (docs/OPERATIONS.md §2, limits).

Duplicates: an envelope whose event is already stored at that chain position is
accepted again and acknowledged with its *original* relay seq, so a retry after a lost
ack is harmless (DESIGN.md, "The envelope"). That holds even when its author has been
revoked since: it is stored already, and a retry must not fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from schemas.envelope import (
    Envelope,
    EnvelopeFormatError,
    decode_envelope,
    event_id_of,
    signature_parts,
    signed_bytes,
)
from schemas.errors import ErrorCode
from schemas.ids import DeviceId, EventId, SpaceId
from schemas.protocol import Ack
from schemas.signatures import Item, verify_signature
from server.store import ChainHead, DeviceStatus, Position, SpaceSnapshot, StoredPosition


@dataclass(frozen=True, slots=True)
class CheckedEnvelope:
    """An envelope that passed the stateless checks, with what the writer needs."""

    envelope: Envelope
    canonical: bytes
    event_id: EventId

    @property
    def author(self) -> DeviceId:
        return DeviceId(self.envelope.author)

    @property
    def position(self) -> Position:
        return (self.author, self.envelope.seq)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a batch was refused, and the position of the first offending envelope."""

    code: ErrorCode
    detail: str
    index: int


def signature_valid(verify_key: bytes, message: bytes, signature: bytes) -> bool:
    return verify_signature(verify_key, message, signature)


BAD_SIGNATURE_DETAIL = "envelope signature does not verify with its author key"


def check_envelope(
    raw: bytes, space_id: SpaceId, max_envelope_bytes: int, *, verify: bool = True
) -> CheckedEnvelope | tuple[ErrorCode, str]:
    """Stage 1 for one envelope: the checks that need only its bytes.

    ``verify=False`` leaves the signature to the caller, who must verify it before the
    envelope goes anywhere near the store (pushes: ``signature_items``)."""
    if len(raw) > max_envelope_bytes:
        return (
            ErrorCode.ENVELOPE_TOO_LARGE,
            f"envelope is {len(raw)} bytes; this relay accepts at most {max_envelope_bytes}",
        )
    try:
        env = decode_envelope(raw)
    except EnvelopeFormatError as exc:
        return ErrorCode.BAD_ENVELOPE, str(exc)
    if env.space_id != space_id:
        return ErrorCode.WRONG_SPACE, "envelope belongs to another space than this connection"
    if verify and not signature_valid(env.author, signed_bytes(env), env.signature):
        return ErrorCode.BAD_SIGNATURE, BAD_SIGNATURE_DETAIL
    return CheckedEnvelope(env, raw, event_id_of(raw))


def check_batch(
    raws: Sequence[bytes],
    space_id: SpaceId,
    max_envelope_bytes: int,
    *,
    verify: bool = True,
) -> list[CheckedEnvelope] | Rejection:
    """Stage 1 for a whole push: every envelope checked, first failure wins."""
    checked = []
    for index, raw in enumerate(raws):
        result = check_envelope(raw, space_id, max_envelope_bytes, verify=verify)
        if isinstance(result, tuple):
            code, detail = result
            return Rejection(code, detail, index)
        checked.append(result)
    return checked


def signature_items(batch: Sequence[CheckedEnvelope]) -> list[Item]:
    """What to verify for a batch checked with ``verify=False``: one item per envelope.

    The signed bytes are cut out of the canonical bytes (``signature_parts``) rather
    than encoded again: ``check_envelope`` decoded them strictly and checked they are
    canonical, so the cut is exactly ``signed_bytes`` of the envelope."""
    items: list[Item] = []
    for item in batch:
        parts = signature_parts(item.canonical)
        if parts is None:
            env = item.envelope
            parts = (env.author, signed_bytes(env), env.signature)
        items.append(parts)
    return items


def first_bad_signature(results: Sequence[bool]) -> Rejection | None:
    """The rejection for the first envelope whose signature failed, or None."""
    for index, ok in enumerate(results):
        if not ok:
            return Rejection(ErrorCode.BAD_SIGNATURE, BAD_SIGNATURE_DETAIL, index)
    return None


@dataclass(frozen=True, slots=True)
class AcceptedEnvelope:
    """A new envelope and the relay seq it will be stored at."""

    seq: int
    item: CheckedEnvelope


@dataclass(frozen=True, slots=True)
class Accepted:
    """A batch that may be committed: one ack per envelope, in batch order."""

    acks: list[Ack]
    new: list[AcceptedEnvelope]


@dataclass(frozen=True, slots=True)
class Quota:
    """What one space may store; 0 means no limit."""

    max_events: int = 0
    max_bytes: int = 0

    def refuses(self, events: int, stored_bytes: int) -> str | None:
        """Why a space holding this much would be over its quota, or None."""
        if self.max_events and events > self.max_events:
            return f"this space may hold at most {self.max_events} events on this relay"
        if self.max_bytes and stored_bytes > self.max_bytes:
            return f"this space may hold at most {self.max_bytes} bytes on this relay"
        return None

    def refusal(self, events: int, stored_bytes: int) -> tuple[ErrorCode, str] | None:
        """The error code and reason for a space over its quota (server/quotas.py adds
        relay_full for the relay's total), or None."""
        reason = self.refuses(events, stored_bytes)
        return None if reason is None else (ErrorCode.QUOTA_EXCEEDED, reason)


NO_QUOTA = Quota()


class MissingLookup(RuntimeError):
    """``decide`` needed a stored position that the caller did not look up (a bug)."""


@dataclass(slots=True)
class SpaceLog:
    """The writer's view of one space: head, devices, each author's chain head.

    ``pending`` holds the positions accepted since the last ``committed()``: the writer
    decides several pushes before one COMMIT, and a later push in the same group may
    duplicate or continue an earlier one.
    """

    head: int
    devices: dict[DeviceId, DeviceStatus]
    chains: dict[DeviceId, ChainHead]
    bytes: int = 0
    pending: dict[Position, StoredPosition] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, snapshot: SpaceSnapshot) -> SpaceLog:
        return cls(snapshot.head, dict(snapshot.devices), dict(snapshot.chains), snapshot.bytes)

    def positions_to_look_up(self, batch: Sequence[CheckedEnvelope]) -> set[Position]:
        """Positions at or below their author's head that only the database knows.

        Retries are the only reason an envelope is at or below the head, so this is
        usually empty and costs no query at all."""
        needed = set()
        for item in batch:
            chain = self.chains.get(item.author)
            at_or_below_head = chain is not None and item.envelope.seq <= chain.author_seq
            if at_or_below_head and item.position not in self.pending:
                needed.add(item.position)
        return needed

    def decide(
        self,
        batch: Sequence[CheckedEnvelope],
        stored: Mapping[Position, StoredPosition],
        quota: Quota = NO_QUOTA,
    ) -> Accepted | Rejection:
        """Stage 2: accept the whole batch (and advance this view) or reject it.

        ``stored`` must hold every position ``positions_to_look_up`` returned that the
        database has. On rejection this view is left exactly as it was."""
        chains: dict[DeviceId, ChainHead] = {}
        placed: dict[Position, StoredPosition] = {}
        acks: list[Ack] = []
        new: list[AcceptedEnvelope] = []
        head = self.head
        size = self.bytes
        for index, item in enumerate(batch):
            env = item.envelope
            author = item.author
            status = self.devices.get(author)
            if status is None:
                return Rejection(
                    ErrorCode.UNKNOWN_AUTHOR, "envelope author is not a device of this space", index
                )
            chain = chains.get(author) or self.chains.get(author)
            top = 0 if chain is None else chain.author_seq
            if env.seq <= top:
                known = (
                    placed.get(item.position)
                    or self.pending.get(item.position)
                    or stored.get(item.position)
                )
                if known is None:
                    raise MissingLookup("a stored position was needed but not looked up")
                if known.event_id != item.event_id:
                    return Rejection(
                        ErrorCode.CHAIN_CONFLICT,
                        f"author seq {env.seq} is already taken by a different event",
                        index,
                    )
                acks.append(Ack(item.event_id, known.seq))
                continue
            if status is DeviceStatus.REVOKED:
                return Rejection(
                    ErrorCode.DEVICE_REVOKED, "envelope author was removed from this space", index
                )
            if env.seq > top + 1:
                return Rejection(
                    ErrorCode.CHAIN_GAP,
                    f"author seq {env.seq} follows {top}; send seq {top + 1} first",
                    index,
                )
            expected_prev = None if chain is None else chain.event_id
            if env.prev != expected_prev:
                return Rejection(
                    ErrorCode.CHAIN_BAD_PREV,
                    f"prev of author seq {env.seq} is not the event stored at seq {top}",
                    index,
                )
            over = quota.refusal(head + 1, size + len(item.canonical))
            if over is not None:
                return Rejection(over[0], over[1], index)
            head += 1
            size += len(item.canonical)
            chains[author] = ChainHead(env.seq, item.event_id)
            placed[item.position] = StoredPosition(item.event_id, head)
            acks.append(Ack(item.event_id, head))
            new.append(AcceptedEnvelope(head, item))
        self.head = head
        self.bytes = size
        self.chains.update(chains)
        self.pending.update(placed)
        return Accepted(acks, new)

    def committed(self) -> None:
        """The pending envelopes are in the database now; forget them."""
        self.pending.clear()
