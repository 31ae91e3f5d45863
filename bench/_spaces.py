"""Real spaces for the benchmarks: paired devices, and their signed, encrypted events.

Everything here is built the way a client builds it (client/keys/crypto.py seals, the relay's
HTTP endpoints register), so what the relay and the watching clients check is exactly
what they check in use. Specs are plain picklable data: worker processes get a spec and
build their own envelopes, which spreads the signing cost over the cores before any
timing starts.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import httpx
import msgspec

from client.keys import crypto, vault
from schemas.envelope import encode_envelope, event_id_of
from schemas.http import (
    CreateInviteRequest,
    CreateSpaceRequest,
    RedeemInviteRequest,
    invite_create_transcript,
    invite_proof_transcript,
)
from schemas.ids import EventId, SpaceId
from schemas.payloads import (
    EventBody,
    InviteIssued,
    JournalEntry,
    MemberJoined,
    Payload,
    SpaceCreated,
    encode_payload,
)

PAYLOAD_BYTES = 1024
"""The encoded payload (docs/PROTOCOL.md §5.2) of a benchmark event: a 1 KiB journal entry."""

INVITE_TTL_MS = 24 * 3600 * 1000
HTTP_TIMEOUT_S = 30.0


def journal_payload(size: int = PAYLOAD_BYTES) -> bytes:
    """An encoded JournalEntry of exactly ``size`` bytes, with text that looks like text."""
    prose = "today we talked about the weekend and it went better than I feared " * 64
    for chars in range(size, 0, -1):
        encoded = encode_payload(JournalEntry(text=prose[:chars]))
        if len(encoded) == size:
            return encoded
    raise ValueError(f"no journal entry encodes to {size} bytes")


@dataclass(slots=True)
class ChainSpec:
    """Where one device's chain stands, and everything needed to continue it."""

    signing_seed: bytes
    box_secret: bytes
    space_id: bytes
    space_key: bytes
    seq: int = 0
    head: bytes | None = None
    lamport: int = 0
    frontier: dict[bytes, tuple[bytes, int]] = field(default_factory=dict)
    """Other devices' newest events seen: device id -> (event id, Lamport clock)."""


class ChainWriter:
    """Seals one device's next events, as client/space/'s ``_seal`` does."""

    def __init__(self, spec: ChainSpec) -> None:
        self.spec = spec
        self.keys = crypto.DeviceKeys.from_seeds(spec.signing_seed, spec.box_secret)
        self._events_key = crypto.events_key_for(spec.space_key)

    @property
    def device_id(self) -> bytes:
        return self.keys.device_id

    def observe(self, author: bytes, event_id: bytes, lamport: int) -> None:
        """Another device's event was seen: the next event depends on it."""
        self.spec.frontier[author] = (event_id, lamport)

    def seal(self, payload: Payload | bytes, recorded_at_ms: int | None = None) -> bytes:
        spec = self.spec
        deps = sorted(event_id for event_id, _ in spec.frontier.values())
        lamport = 1 + max([spec.lamport, *(lam for _, lam in spec.frontier.values())])
        now = recorded_at_ms if recorded_at_ms is not None else time.time_ns() // 1_000_000
        raw = payload if isinstance(payload, bytes) else encode_payload(payload)
        body = EventBody(
            deps=[EventId(d) for d in deps],
            lamport=lamport,
            recorded_at=now,
            occurred_at=now,
            payload=msgspec.Raw(raw),
        )
        envelope = encode_envelope(
            crypto.seal_event(
                device=self.keys,
                space_id=SpaceId(spec.space_id),
                seq=spec.seq + 1,
                prev=None if spec.head is None else EventId(spec.head),
                epoch=0,
                events_key=self._events_key,
                plaintext=msgspec.msgpack.encode(body),
            )
        )
        spec.seq += 1
        spec.head = event_id_of(envelope)
        spec.lamport = lamport
        return envelope

    def journal_entries(self, count: int) -> list[bytes]:
        payload = journal_payload()
        return [self.seal(payload) for _ in range(count)]


@dataclass(slots=True)
class PairSpec:
    """A space with two partners, A (who created it) and B (who joined by invite).

    ``history`` is every envelope of the set-up in the order written: A's genesis (which
    the relay already holds), A's ``invite_issued`` and B's ``member_joined``; the last
    two must still be pushed. ``a`` and ``b`` continue the two chains after it."""

    space_id: bytes
    space_key: bytes
    a: ChainSpec
    b: ChainSpec
    history: list[bytes]

    @property
    def to_push_a(self) -> list[bytes]:
        return [self.history[1]]

    @property
    def to_push_b(self) -> list[bytes]:
        return [self.history[2]]


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    envelope: bytes
    """A's signed ``invite_issued`` event, still to be pushed."""


def _new_chain(space_id: bytes, space_key: bytes) -> ChainSpec:
    keys = crypto.DeviceKeys.generate()
    return ChainSpec(
        signing_seed=bytes(keys.signing_key),
        box_secret=bytes(keys.box_private_key),
        space_id=space_id,
        space_key=space_key,
    )


async def _post(http: httpx.AsyncClient, path: str, body: msgspec.Struct, status: int) -> None:
    response = await http.post(
        path, content=msgspec.json.encode(body), headers={"Content-Type": "application/json"}
    )
    if response.status_code != status:
        raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text}")


async def issue_invite(
    http: httpx.AsyncClient, relay_url: str, issuer: ChainWriter, kind: str
) -> tuple[crypto.InviteKeys, Invite]:
    """Register an invite at the relay and seal the issuer's ``invite_issued`` event."""
    spec = issuer.spec
    secret = crypto.new_invite_secret()
    invite = crypto.InviteKeys.from_secret(secret)
    now = time.time_ns() // 1_000_000
    unsigned = CreateInviteRequest(
        device_id=issuer.device_id.hex(),
        invite_id=invite.invite_id.hex(),
        verify_key=invite.verify_key,
        wrapped_keys=invite.wrap(
            vault.encode_space_keys(vault.SpaceKeys(space_keys={0: spec.space_key}))
        ),
        expires_at=now + INVITE_TTL_MS,
        kind="device" if kind == "device" else "member",
        signed_at=now,
        signature=bytes(64),
    )
    request = msgspec.structs.replace(
        unsigned,
        signature=issuer.keys.sign(invite_create_transcript(spec.space_id, unsigned)),
    )
    await _post(http, f"/v1/spaces/{spec.space_id.hex()}/invites", request, 201)
    envelope = issuer.seal(
        InviteIssued(
            invite_id=invite.invite_id,
            verify_key=invite.verify_key,
            kind=request.kind,
            expires_at=request.expires_at,
        )
    )
    code = f"{crypto.format_invite_code(secret)}@{relay_url}"
    return invite, Invite(code, envelope)


async def create_pair(http: httpx.AsyncClient, relay_url: str) -> PairSpec:
    """Create a space as A, invite B, redeem as B: the relay knows both devices."""
    space_id = os.urandom(16)
    space_key = os.urandom(crypto.SPACE_KEY_BYTES)
    a = ChainWriter(_new_chain(space_id, space_key))
    genesis = a.seal(
        SpaceCreated(member_id=os.urandom(16), name="Alex", box_key=a.keys.box_public_key)
    )
    await _post(
        http, "/v1/spaces", CreateSpaceRequest(space_id=space_id.hex(), genesis=genesis), 201
    )
    invite, issued = await issue_invite(http, relay_url, a, "member")
    b = ChainWriter(_new_chain(space_id, space_key))
    box_key = b.keys.box_public_key
    proof = invite.sign(invite_proof_transcript(space_id, invite.invite_id, b.device_id, box_key))
    await _post(
        http,
        f"/v1/invites/{invite.invite_id.hex()}/redeem",
        RedeemInviteRequest(device_id=b.device_id.hex(), box_key=box_key, proof=proof),
        200,
    )
    b.observe(a.device_id, event_id_of(issued.envelope), a.spec.lamport)
    joined = b.seal(
        MemberJoined(
            member_id=os.urandom(16),
            name="Blake",
            box_key=box_key,
            invite_id=invite.invite_id,
            proof=proof,
        )
    )
    a.observe(b.device_id, event_id_of(joined), b.spec.lamport)
    return PairSpec(space_id, space_key, a.spec, b.spec, [genesis, issued.envelope, joined])


def http_client(relay_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=relay_url,
        timeout=HTTP_TIMEOUT_S,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
    )
