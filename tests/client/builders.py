"""Real envelopes for client tests: signed, encrypted, chained, as a device writes them.

The tests tell a story with two partners. Alex's device creates the space (the genesis
``space_created``), issues an invite, and Blake's device joins with a proof made from
the invite secret. A :class:`Writer` is one device: it keeps its own chain (seq, prev)
and Lamport clock, so every event it writes follows on from the last unless a test
deliberately says otherwise (a wrong prev, a skipped seq, a stale clock).

Every key and every "random" byte is derived from a label, so the same story always
produces the same bytes and the same event ids (Hypothesis can replay a failure).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from client.core.decisions import admit_page
from client.core.verify import LogVerifier, Outcome, Verdict, VerifiedEvent
from client.keys import crypto
from schemas.envelope import decode_envelope, encode_envelope, event_id_of
from schemas.http import invite_proof_transcript
from schemas.ids import DeviceId, EventId, MemberId, SpaceId
from schemas.payloads import (
    EventBody,
    InviteIssued,
    JournalAmended,
    JournalEntry,
    JournalRetracted,
    MemberJoined,
    Payload,
    SpaceCreated,
    decode_payload,
    encode_payload,
)
from schemas.practices import ExportConsented


def fixed_bytes(label: str, size: int) -> bytes:
    """Arbitrary but reproducible bytes, named by what they stand for."""
    return hashlib.shake_256(f"trellis client tests: {label}".encode()).digest(size)


SPACE_ID = SpaceId(fixed_bytes("space id", 16))
OTHER_SPACE_ID = SpaceId(fixed_bytes("another space id", 16))
SPACE_KEY = fixed_bytes("space key, epoch 0", 32)
EPOCH_KEYS = {0: SPACE_KEY}
INVITE_SECRET = fixed_bytes("invite secret", crypto.INVITE_SECRET_BYTES)
START_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z: when the story's first event is recorded."""
MINUTE_MS = 60_000
INVITE_EXPIRES_AT = START_MS + 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Built:
    """One envelope a writer produced, with what the tests need to talk about it."""

    data: bytes
    """Canonical envelope bytes, as a relay would carry them."""
    event_id: EventId
    author: DeviceId
    seq: int
    lamport: int
    payload: Payload | None
    """None when the payload was raw bytes (a type this version does not know)."""
    writer: str = ""
    """The writer's label, so a failing example reads as a story."""

    def __repr__(self) -> str:
        kind = "raw" if self.payload is None else type(self.payload).__name__
        return (
            f"<{self.writer} #{self.seq} {kind} lamport={self.lamport} "
            f"id={self.event_id.hex()[:8]}>"
        )


class _Follow:
    """Default for ``prev``: continue the writer's own chain."""


FOLLOW = _Follow()


class Writer:
    """One device writing events in order, as the real client does."""

    def __init__(self, label: str, name: str, *, space_id: SpaceId = SPACE_ID) -> None:
        self.label = label
        self.name = name
        self.signing_seed = fixed_bytes(f"{label} signing seed", 32)
        self.box_secret = fixed_bytes(f"{label} box secret", 32)
        self.device = crypto.DeviceKeys.from_seeds(self.signing_seed, self.box_secret)
        self.member_id = MemberId(fixed_bytes(f"{label} member id", 16))
        self.space_id = space_id
        self.events_key = crypto.events_key_for(SPACE_KEY)
        self.seq = 0
        self.head: EventId | None = None
        self.lamport = 0
        self.clock_ms = START_MS

    @property
    def device_id(self) -> DeviceId:
        return self.device.device_id

    @property
    def box_key(self) -> bytes:
        return self.device.box_public_key

    def write(
        self,
        payload: Payload | bytes,
        *,
        deps: Sequence[Built] = (),
        lamport: int | None = None,
        seq: int | None = None,
        prev: EventId | _Follow | None = FOLLOW,
        epoch: int = 0,
        events_key: bytes | None = None,
        space_id: SpaceId | None = None,
        plaintext: bytes | None = None,
        advance: bool = True,
        occurred_at: int | None = None,
    ) -> Built:
        """Seal ``payload`` as this device's next event.

        Overrides make deliberately wrong events; ``advance=False`` leaves the writer's
        chain where it was (for a second event at the same position). ``plaintext``
        replaces the whole encrypted body with the given bytes; ``occurred_at`` dates the
        event (by default half a minute before it is recorded).
        """
        seq = self.seq + 1 if seq is None else seq
        prev_id = (None if seq == 1 else self.head) if isinstance(prev, _Follow) else prev
        if lamport is None:
            lamport = 1 + max([self.lamport, *(d.lamport for d in deps)])
        self.clock_ms += MINUTE_MS
        raw = payload if isinstance(payload, bytes) else encode_payload(payload)
        body = EventBody(
            deps=[d.event_id for d in deps],
            lamport=lamport,
            recorded_at=self.clock_ms,
            occurred_at=self.clock_ms - MINUTE_MS // 2 if occurred_at is None else occurred_at,
            payload=msgspec.Raw(raw),
        )
        plaintext = msgspec.msgpack.encode(body) if plaintext is None else plaintext
        env = crypto.seal_event(
            device=self.device,
            space_id=self.space_id if space_id is None else space_id,
            seq=seq,
            prev=prev_id,
            epoch=epoch,
            events_key=self.events_key if events_key is None else events_key,
            plaintext=plaintext,
            random_bytes=_scripted_random(self.device_id + seq.to_bytes(8, "big") + plaintext),
        )
        data = encode_envelope(env)
        built = Built(
            data=data,
            event_id=event_id_of(data),
            author=self.device_id,
            seq=seq,
            lamport=lamport,
            payload=None if isinstance(payload, bytes) else payload,
            writer=self.label,
        )
        if advance:
            self.seq, self.head, self.lamport = seq, built.event_id, lamport
        return built


def _scripted_random(seed: bytes) -> crypto.RandomBytes:
    counter = itertools.count()

    def draw(size: int) -> bytes:
        return hashlib.shake_256(seed + next(counter).to_bytes(4, "big")).digest(size)

    return draw


# --- the membership story ------------------------------------------------------------


def genesis(creator: Writer) -> Built:
    return creator.write(
        SpaceCreated(member_id=creator.member_id, name=creator.name, box_key=creator.box_key)
    )


def invite_issued(
    issuer: Writer,
    secret: bytes = INVITE_SECRET,
    *,
    kind: str = "member",
    deps: Sequence[Built] = (),
) -> Built:
    keys = crypto.InviteKeys.from_secret(secret)
    payload = InviteIssued(
        invite_id=keys.invite_id,
        verify_key=keys.verify_key,
        kind="device" if kind == "device" else "member",
        expires_at=INVITE_EXPIRES_AT,
    )
    return issuer.write(payload, deps=deps)


def invite_proof(
    joiner: Writer, secret: bytes = INVITE_SECRET, *, space_id: SpaceId = SPACE_ID
) -> bytes:
    """What the invite key signs to admit ``joiner`` (schemas.http.invite_proof_transcript)."""
    keys = crypto.InviteKeys.from_secret(secret)
    return keys.sign(
        invite_proof_transcript(space_id, keys.invite_id, joiner.device_id, joiner.box_key)
    )


def member_joined(
    joiner: Writer,
    secret: bytes = INVITE_SECRET,
    *,
    deps: Sequence[Built] = (),
    proof: bytes | None = None,
    member_id: MemberId | None = None,
) -> Built:
    keys = crypto.InviteKeys.from_secret(secret)
    payload = MemberJoined(
        member_id=joiner.member_id if member_id is None else member_id,
        name=joiner.name,
        box_key=joiner.box_key,
        invite_id=keys.invite_id,
        proof=invite_proof(joiner, secret) if proof is None else proof,
    )
    return joiner.write(payload, deps=deps)


def entry(writer: Writer, text: str, *, deps: Sequence[Built] = ()) -> Built:
    return writer.write(JournalEntry(text=text), deps=deps)


def amendment(
    writer: Writer, of: Built, text: str, *, deps: Sequence[Built] = (), mood: int | None = None
) -> Built:
    return writer.write(JournalAmended(entry=of.event_id, text=text, mood=mood), deps=deps)


def retraction(writer: Writer, of: Built, *, deps: Sequence[Built] = ()) -> Built:
    return writer.write(JournalRetracted(entry=of.event_id, reason="not what I meant"), deps=deps)


@dataclass
class Pair:
    """Alex created the space and invited Blake; Blake joined. Nothing admitted yet."""

    alex: Writer
    blake: Writer
    genesis: Built
    invite: Built
    joined: Built

    @property
    def membership(self) -> list[Built]:
        return [self.genesis, self.invite, self.joined]


def paired() -> Pair:
    alex, blake = Writer("alex", "Alex"), Writer("blake", "Blake")
    created = genesis(alex)
    invited = invite_issued(alex)
    joined = member_joined(blake, deps=[invited])
    return Pair(alex, blake, created, invited, joined)


# --- admitting -------------------------------------------------------------------------


def new_verifier(epoch_keys: dict[int, bytes] | None = None) -> LogVerifier:
    return LogVerifier(SPACE_ID, EPOCH_KEYS if epoch_keys is None else epoch_keys)


def admit(verifier: LogVerifier, *events: Built) -> list[Outcome]:
    return [verifier.admit(e.data) for e in events]


def admit_accepting(verifier: LogVerifier, *events: Built) -> None:
    """Admit events that must all be accepted, in the order given."""
    for e in events:
        outcome = verifier.admit(e.data)
        if outcome.verdict is not Verdict.ACCEPTED:
            raise AssertionError(
                f"setup event {e.seq} of {e.author.hex()[:8]} was {outcome.verdict}: "
                f"{outcome.code} {outcome.reason} {outcome.waiting_for}"
            )


def admit_until_settled(verifier: LogVerifier, arrivals: Iterable[bytes]) -> list[Outcome]:
    """Admit envelopes as client/space/ does, through client/core/decisions.py
    ``admit_page``: whenever a round lets one through, everything held is tried again.
    Returns the accepted outcomes, in admission order."""
    admitted = admit_page(verifier, [(data, None) for data in arrivals], {}, set(), set())
    return [Outcome(Verdict.ACCEPTED, e.event_id, e) for e, _ in admitted.accepted]


def declared(
    writer: Writer,
    events: Sequence[VerifiedEvent],
    *,
    recipient: str = "Dr. Rivera",
    purpose: str = "Couples therapy",
) -> VerifiedEvent:
    """``writer``'s export declaration (``export_consented``), following on from its last
    event in ``events``: what ``trellis export --for --purpose --until`` writes before it
    builds, and what every export must reveal (docs/PROTOCOL.md "Exports", "Consent").
    The writer's own chain position is left as it was, so a test can declare again."""
    own = sorted((e for e in events if e.author == writer.device_id), key=lambda e: e.envelope.seq)
    clock_ms = writer.clock_ms  # the same declaration every time: exports byte for byte
    built = writer.write(
        ExportConsented(
            recipient=recipient, purpose=purpose, expires_at=START_MS + 30 * 24 * 3_600_000
        ),
        seq=len(own) + 1,
        prev=own[-1].event_id if own else None,
        advance=False,
    )
    writer.clock_ms = clock_ms
    env = decode_envelope(built.data)
    body = msgspec.msgpack.decode(crypto.open_event(writer.events_key, env), type=EventBody)
    return VerifiedEvent(built.event_id, env, built.data, body, decode_payload(body.payload))
