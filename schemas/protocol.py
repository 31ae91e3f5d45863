"""Relay protocol over one websocket: binary msgpack frames (docs/PROTOCOL.md §6).

Each frame is one msgpack map with a ``type`` string tag. Messages may gain fields with
defaults in later versions; readers ignore fields they do not know (msgspec's schema
evolution rules), so unknown fields are never an error but unknown *types* are.

    client                                   relay
      Hello(space_id, device_id)    ->
                                    <-   Challenge(nonce)
      Authenticate(signature)       ->
                                    <-   Welcome(head)
      Push(req, envelopes)          ->
                                    <-   Acked(req, acks)        after durable commit
      Pull(req, after, limit)       ->
                                    <-   Page(req, events, more, head)
                                    <-   Live(events)            partner devices' pushes
                                    <-   Error(code, detail, req) then maybe a close
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from schemas import PROTOCOL_VERSION
from schemas.ids import DEVICE_ID_BYTES, EVENT_ID_BYTES, SPACE_ID_BYTES

CHALLENGE_BYTES = 32
AUTH_CONTEXT = "trellis-auth-v1"
MAX_PULL_LIMIT = 1000

_SpaceIdBytes = Annotated[bytes, msgspec.Meta(min_length=SPACE_ID_BYTES, max_length=SPACE_ID_BYTES)]
_DeviceIdBytes = Annotated[
    bytes, msgspec.Meta(min_length=DEVICE_ID_BYTES, max_length=DEVICE_ID_BYTES)
]
_EventIdBytes = Annotated[bytes, msgspec.Meta(min_length=EVENT_ID_BYTES, max_length=EVENT_ID_BYTES)]
_ReqId = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
_Cursor = Annotated[int, msgspec.Meta(ge=0, le=2**62)]


# --- client -> relay -------------------------------------------------------------


class Hello(msgspec.Struct, tag="hello", tag_field="type", frozen=True):
    space_id: _SpaceIdBytes
    device_id: _DeviceIdBytes
    version: int = PROTOCOL_VERSION


class Authenticate(msgspec.Struct, tag="authenticate", tag_field="type", frozen=True):
    signature: Annotated[bytes, msgspec.Meta(min_length=64, max_length=64)]
    """Ed25519 signature by the device over :func:`auth_transcript`."""


class Push(msgspec.Struct, tag="push", tag_field="type", frozen=True):
    req: _ReqId
    envelopes: list[bytes]
    """Canonical envelope bytes, in the order the relay should store them."""


class Pull(msgspec.Struct, tag="pull", tag_field="type", frozen=True):
    req: _ReqId
    after: _Cursor = 0
    """Relay sequence number already held; 0 for everything."""
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_PULL_LIMIT)] = 500


ClientMessage = Hello | Authenticate | Push | Pull


# --- relay -> client -------------------------------------------------------------


class Challenge(msgspec.Struct, tag="challenge", tag_field="type", frozen=True):
    nonce: bytes
    version: int = PROTOCOL_VERSION


class Welcome(msgspec.Struct, tag="welcome", tag_field="type", frozen=True):
    head: int
    """The space's highest relay sequence number at sign-in."""


class Ack(msgspec.Struct, array_like=True, frozen=True):
    event_id: _EventIdBytes
    seq: int
    """The relay sequence number; the same on every retry of the same envelope."""


class Acked(msgspec.Struct, tag="acked", tag_field="type", frozen=True):
    req: int
    acks: list[Ack]


class Stored(msgspec.Struct, array_like=True, frozen=True):
    seq: int
    envelope: bytes


class Page(msgspec.Struct, tag="page", tag_field="type", frozen=True):
    req: int
    events: list[Stored]
    more: bool
    head: int


class Live(msgspec.Struct, tag="live", tag_field="type", frozen=True):
    events: list[Stored]


class Error(msgspec.Struct, tag="error", tag_field="type", frozen=True):
    code: str
    """A stable :class:`schemas.errors.ErrorCode` value."""
    detail: str
    req: int | None = None
    index: int | None = None
    """Position of the offending envelope inside a push, when there is one."""


RelayMessage = Challenge | Welcome | Acked | Page | Live | Error


client_message_decoder: msgspec.msgpack.Decoder[ClientMessage] = msgspec.msgpack.Decoder(
    ClientMessage
)
relay_message_decoder: msgspec.msgpack.Decoder[RelayMessage] = msgspec.msgpack.Decoder(RelayMessage)
message_encoder = msgspec.msgpack.Encoder()


def encode_message(message: ClientMessage | RelayMessage) -> bytes:
    return message_encoder.encode(message)


def auth_transcript(host: str, space_id: bytes, device_id: bytes, nonce: bytes) -> bytes:
    """What a device signs to answer a challenge (docs/PROTOCOL.md §6.2).

    ``host`` is the ``host[:port]`` the client dialled, as sent in its HTTP Host header,
    so a malicious relay cannot forward the challenge of another relay and sign in there
    with the answer.
    """
    return message_encoder.encode((AUTH_CONTEXT, host, space_id, device_id, nonce))
