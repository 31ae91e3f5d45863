"""Test helpers for the relay: real signed envelopes, a relay process, a sync client.

Envelopes are built with PyNaCl directly (sign ``signed_bytes``), so these tests depend
on the contract in schemas/ only, not on the client library.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import nacl.signing
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from schemas.envelope import (
    ENVELOPE_VERSION,
    NONCE_BYTES,
    WRAPPED_KEY_BYTES,
    Envelope,
    encode_envelope,
    event_id_of,
    signed_bytes,
)
from schemas.http import (
    CreateInviteRequest,
    CreateSpaceRequest,
    RedeemInviteRequest,
    invite_create_transcript,
    invite_proof_transcript,
)
from schemas.ids import DeviceId, EventId, SpaceId
from schemas.protocol import (
    Authenticate,
    Challenge,
    Hello,
    Live,
    Pull,
    Push,
    RelayMessage,
    Welcome,
    auth_transcript,
    encode_message,
    relay_message_decoder,
)

READY_TIMEOUT_S = 20.0
RECEIVE_TIMEOUT_S = 10.0


# --- devices and envelopes ---------------------------------------------------------


@dataclass
class Device:
    """A device identity and its chain in one space, as a well-behaved client keeps it."""

    signing_key: nacl.signing.SigningKey = field(default_factory=nacl.signing.SigningKey.generate)
    seq: int = 0
    head: EventId | None = None

    @property
    def device_id(self) -> DeviceId:
        return DeviceId(bytes(self.signing_key.verify_key))

    def sign(self, message: bytes) -> bytes:
        return bytes(self.signing_key.sign(message).signature)

    def envelope(
        self,
        space_id: bytes,
        *,
        seq: int | None = None,
        prev: bytes | bool | None = True,
        ciphertext: bytes | None = None,
        advance: bool = True,
    ) -> bytes:
        """Canonical bytes of this device's next envelope (or one at ``seq``/``prev``).

        ``prev=True`` means "the right prev"; ``advance`` moves the device's chain."""
        seq = self.seq + 1 if seq is None else seq
        if prev is True:
            prev = self.head if seq == self.seq + 1 else None
        envelope = make_envelope(
            self,
            space_id,
            seq=seq,
            prev=prev if isinstance(prev, bytes) else None,
            ciphertext=ciphertext,
        )
        if advance:
            self.seq = seq
            self.head = event_id_of(envelope)
        return envelope


def make_envelope(
    device: Device,
    space_id: bytes,
    *,
    seq: int,
    prev: bytes | None,
    ciphertext: bytes | None = None,
) -> bytes:
    unsigned = Envelope(
        version=ENVELOPE_VERSION,
        space_id=space_id,
        author=device.device_id,
        seq=seq,
        prev=prev,
        epoch=0,
        wrapped_key=os.urandom(WRAPPED_KEY_BYTES),
        key_commitment=os.urandom(32),
        nonce=os.urandom(NONCE_BYTES),
        ciphertext=ciphertext if ciphertext is not None else os.urandom(48),
        signature=b"\x00" * 64,
    )
    signed = msgspec.structs.replace(unsigned, signature=device.sign(signed_bytes(unsigned)))
    return encode_envelope(signed)


def new_space_id() -> SpaceId:
    return SpaceId(os.urandom(16))


# --- HTTP --------------------------------------------------------------------------


def create_space_body(device: Device, space_id: bytes) -> dict[str, Any]:
    genesis = device.envelope(space_id)
    return msgspec.to_builtins(CreateSpaceRequest(space_id=space_id.hex(), genesis=genesis))


def invite_body(
    issuer: Device,
    space_id: bytes,
    invite_key: nacl.signing.SigningKey,
    *,
    invite_id: bytes | None = None,
    expires_at: int | None = None,
    signed_at: int | None = None,
    kind: str = "member",
    sign_with: Device | None = None,
) -> dict[str, Any]:
    now_ms = time.time_ns() // 1_000_000
    unsigned = CreateInviteRequest(
        device_id=issuer.device_id.hex(),
        invite_id=(invite_id or os.urandom(16)).hex(),
        verify_key=bytes(invite_key.verify_key),
        wrapped_keys=os.urandom(80),
        expires_at=expires_at if expires_at is not None else now_ms + 3600_000,
        kind=kind,  # type: ignore[arg-type]
        signed_at=signed_at if signed_at is not None else now_ms,
        signature=b"\x00" * 64,
    )
    signer = sign_with or issuer
    signature = signer.sign(invite_create_transcript(space_id, unsigned))
    return msgspec.to_builtins(msgspec.structs.replace(unsigned, signature=signature))


def redeem_body(
    invite_key: nacl.signing.SigningKey, space_id: bytes, invite_id: bytes, device: Device
) -> dict[str, Any]:
    box_key = os.urandom(32)
    transcript = invite_proof_transcript(space_id, invite_id, device.device_id, box_key)
    proof = bytes(invite_key.sign(transcript).signature)
    return msgspec.to_builtins(
        RedeemInviteRequest(device_id=device.device_id.hex(), box_key=box_key, proof=proof)
    )


async def admit(
    http: httpx.AsyncClient,
    creator: Device,
    space_id: bytes,
    newcomer: Device,
    kind: str = "member",
) -> None:
    """Invite and redeem through the relay, so ``newcomer`` is an active device (a
    space takes one member invite, its second partner; more devices take ``device``)."""
    invite_key = nacl.signing.SigningKey.generate()
    invite_id = os.urandom(16)
    body = invite_body(creator, space_id, invite_key, invite_id=invite_id, kind=kind)
    response = await http.post(f"/v1/spaces/{space_id.hex()}/invites", json=body)
    assert response.status_code == 201, response.text
    response = await http.post(
        f"/v1/invites/{invite_id.hex()}/redeem",
        json=redeem_body(invite_key, space_id, invite_id, newcomer),
    )
    assert response.status_code == 200, response.text


# --- the relay as a process --------------------------------------------------------


# --- a minimal sync client ---------------------------------------------------------


class SyncClient:
    """Speaks the relay protocol frame by frame, so tests can also break the rules."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.live: list[Any] = []

    @classmethod
    async def open(
        cls,
        url: str,
        max_queue: int = 16,
        *,
        headers: dict[str, str] | None = None,
        ping_interval_s: float | None = 20.0,
    ) -> SyncClient:
        ws = await connect(
            url,
            compression=None,
            max_size=8 * 1024 * 1024,
            max_queue=max_queue,
            open_timeout=RECEIVE_TIMEOUT_S,
            additional_headers=headers,
            ping_interval=ping_interval_s,
        )
        return cls(ws)

    async def send(self, message: Any) -> None:
        await self.ws.send(encode_message(message))

    async def send_raw(self, data: bytes | str) -> None:
        await self.ws.send(data)

    async def receive(self) -> RelayMessage:
        data = await asyncio.wait_for(self.ws.recv(), RECEIVE_TIMEOUT_S)
        assert isinstance(data, bytes), "the relay sends binary frames only"
        return relay_message_decoder.decode(data)

    async def receive_reply(self) -> RelayMessage:
        """The next message that is not Live (Live ones are kept in ``self.live``)."""
        while True:
            message = await self.receive()
            if isinstance(message, Live):
                self.live.extend(message.events)
                continue
            return message

    async def close_code(self) -> int | None:
        """Wait for the relay to close the connection; its close code."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), RECEIVE_TIMEOUT_S)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None

    async def sign_in(
        self,
        device: Device,
        space_id: bytes,
        *,
        host: str,
    ) -> Welcome:
        await self.send(Hello(space_id=space_id, device_id=device.device_id))
        challenge = await self.receive()
        assert isinstance(challenge, Challenge), challenge
        transcript = auth_transcript(host, space_id, device.device_id, challenge.nonce)
        await self.send(Authenticate(signature=device.sign(transcript)))
        welcome = await self.receive()
        assert isinstance(welcome, Welcome), welcome
        return welcome

    async def push(self, req: int, envelopes: list[bytes]) -> RelayMessage:
        await self.send(Push(req=req, envelopes=envelopes))
        return await self.receive_reply()

    async def pull(self, req: int, after: int = 0, limit: int = 500) -> RelayMessage:
        await self.send(Pull(req=req, after=after, limit=limit))
        return await self.receive_reply()

    async def close(self) -> None:
        await self.ws.close()
