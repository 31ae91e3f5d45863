"""One sync connection's protocol rules, sans-I/O (docs/PROTOCOL.md §6).

Theory of operation. The websocket shell (sync.py) feeds this class what happened —
a binary or text frame, the answer to a look-up it was asked for, the outcome of a
push, a timeout — and gets back a list of *actions*: messages to send, a close code,
or a look-up to perform and report back. The class never awaits, never touches a
socket or a database, so tests drive it with plain calls and assert on the actions.

States and what each accepts (everything else is an error, then a close):

    AWAIT_HELLO     --Hello-->          CHECK_DEVICE   (LookUpDevice)
    CHECK_DEVICE    --device_checked--> AWAIT_AUTH     (Send Challenge)
    AWAIT_AUTH      --Authenticate-->   STARTING       (StartSync)
    STARTING        --started(head)-->  READY          (Send Welcome)
    READY           --Push / Pull-->    READY          (SubmitPush / FetchPage)
    any             --error that closes--> CLOSED      (Send Error, Close)

In CHECK_DEVICE and STARTING the shell is performing the look-up and feeds no frames
until it reports back. The whole sign-in, from the connection's opening to Welcome,
must finish within ``auth_timeout_s`` (the shell keeps that clock, and the idle one).

Limits this class enforces (docs/OPERATIONS.md §2): frame size, envelopes per push,
envelope size, pushes per second (a token bucket on an injectable clock: beyond the
burst a push is refused with ``rate_limited`` and the connection stays open), and,
when ``public_hosts`` is set, the Host a device signs in under (``wrong_host``).

Every error is an ``Error`` frame sent before the close, with the close code from
``schemas.errors.ERRORS``; errors whose close code is None leave the connection open.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import assert_never

import msgspec

from schemas import PROTOCOL_VERSION
from schemas.errors import CLOSE_INTERNAL, ERRORS, ErrorCode
from schemas.ids import DeviceId, SpaceId
from schemas.protocol import (
    CHALLENGE_BYTES,
    Acked,
    Authenticate,
    Challenge,
    ClientMessage,
    Error,
    Hello,
    Page,
    Pull,
    Push,
    RelayMessage,
    Stored,
    Welcome,
    auth_transcript,
    client_message_decoder,
)
from server._limits import TokenBucket
from server.errors import RelayError
from server.ingest import Accepted, CheckedEnvelope, Rejection, check_batch, signature_valid
from server.membership import MEMBERSHIP_ERRORS
from server.settings import FRAME_OVERHEAD_BYTES
from server.store import EventPage, Membership

MAX_SIGN_IN_FRAME_BYTES = 256
"""Largest frame before sign-in: a Hello or an Authenticate is under 128 bytes."""

PER_EVENT_OVERHEAD_BYTES = 16
"""msgpack framing of one Stored(seq, envelope) beyond the envelope bytes."""


class State(Enum):
    AWAIT_HELLO = "await_hello"
    CHECK_DEVICE = "check_device"
    AWAIT_AUTH = "await_auth"
    STARTING = "starting"
    READY = "ready"
    CLOSED = "closed"


# --- actions for the shell -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    message: RelayMessage


@dataclass(frozen=True, slots=True)
class Close:
    code: int


@dataclass(frozen=True, slots=True)
class LookUpDevice:
    """Find the device's membership, then call ``device_checked``."""

    space_id: SpaceId
    device_id: DeviceId


@dataclass(frozen=True, slots=True)
class StartSync:
    """Subscribe to live events of the space, THEN read its head, then call
    ``started(head)``: in that order nothing committed in between is missed."""

    space_id: SpaceId
    device_id: DeviceId


@dataclass(frozen=True, slots=True)
class SubmitPush:
    """Verify every envelope's signature (``ingest.signature_items``; the first failure
    is the push's ``bad_signature`` rejection, ``ingest.first_bad_signature``), then
    hand the envelopes to the writer, in the order of the pushes; call
    ``push_finished`` with the outcome."""

    space_id: SpaceId
    req: int
    envelopes: list[CheckedEnvelope]


@dataclass(frozen=True, slots=True)
class FetchPage:
    """Read events after ``after``; call ``page_fetched`` with the page."""

    space_id: SpaceId
    req: int
    after: int
    limit: int
    max_bytes: int


Action = Send | Close | LookUpDevice | StartSync | SubmitPush | FetchPage


@dataclass(frozen=True, slots=True)
class SessionLimits:
    max_frame_bytes: int
    max_batch_envelopes: int
    max_envelope_bytes: int
    max_pushes_per_s: float = 0.0
    """0: no limit on the push rate."""
    push_burst: int = 1
    public_hosts: frozenset[str] = frozenset()
    """Host header values (lowercase) a device may sign in under; empty: any."""


# --- frame decoding --------------------------------------------------------------


class _TypeProbe(msgspec.Struct):
    type: str


_probe_decoder = msgspec.msgpack.Decoder(_TypeProbe)
_KNOWN_TYPES = frozenset({"hello", "authenticate", "push", "pull"})
_MAX_ECHOED_TYPE_CHARS = 40


def decode_client_frame(data: bytes) -> ClientMessage | tuple[ErrorCode, str]:
    """A client message, or (malformed_frame | unknown_message, detail).

    msgspec reports an unknown tag as a ValidationError like any bad field, so the
    ``type`` field is probed on its own to tell "a type we do not know" (the peer may
    be newer) from "not a valid frame at all"."""
    try:
        return client_message_decoder.decode(data)
    except RecursionError:
        # msgspec gives up on deep nesting with RecursionError: bad input like any other.
        return ErrorCode.MALFORMED_FRAME, "frame nests too deeply"
    except msgspec.ValidationError as exc:
        try:
            probe = _probe_decoder.decode(data)
        except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError):
            return ErrorCode.MALFORMED_FRAME, "frame is not a msgpack map with a string type"
        if probe.type not in _KNOWN_TYPES:
            shown = probe.type[:_MAX_ECHOED_TYPE_CHARS]
            return ErrorCode.UNKNOWN_MESSAGE, f"unknown message type {shown!r}"
        return ErrorCode.MALFORMED_FRAME, f"invalid {probe.type} message: {exc}"
    except (msgspec.DecodeError, UnicodeDecodeError):
        # msgspec lets invalid UTF-8 in a string field through as UnicodeDecodeError.
        return ErrorCode.MALFORMED_FRAME, "frame is not valid msgpack"


def split_events(events: Sequence[Stored], max_bytes: int) -> Iterator[list[Stored]]:
    """Cut events into runs that each fit one frame; a run holds at least one event."""
    run: list[Stored] = []
    size = 0
    for stored in events:
        cost = len(stored.envelope) + PER_EVENT_OVERHEAD_BYTES
        if run and size + cost > max_bytes:
            yield run
            run, size = [], 0
        run.append(stored)
        size += cost
    if run:
        yield run


# --- the state machine -----------------------------------------------------------

_OUT_OF_ORDER: dict[State, ErrorCode] = {
    State.AWAIT_HELLO: ErrorCode.NOT_AUTHENTICATED,
    State.AWAIT_AUTH: ErrorCode.NOT_AUTHENTICATED,
    State.READY: ErrorCode.ALREADY_AUTHENTICATED,
}
"""The error for a message that the state does not accept."""

_ACCEPTS: dict[State, tuple[type, ...]] = {
    State.AWAIT_HELLO: (Hello,),
    State.AWAIT_AUTH: (Authenticate,),
    State.READY: (Push, Pull),
}


class ShellError(RuntimeError):
    """The shell broke this class's contract (fed a frame while a look-up was pending)."""


class SyncSession:
    def __init__(
        self,
        host: str,
        limits: SessionLimits,
        random_bytes: Callable[[int], bytes] = os.urandom,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        """The Host header as received: the challenge answer is bound to it (§6.2)."""
        self.limits = limits
        self.state = State.AWAIT_HELLO
        self.space_id: SpaceId | None = None
        self.device_id: DeviceId | None = None
        self._random_bytes = random_bytes
        self._clock = clock
        self._nonce: bytes | None = None
        self._pushes = (
            TokenBucket(limits.max_pushes_per_s, limits.push_burst, clock())
            if limits.max_pushes_per_s
            else None
        )

    # --- inputs --------------------------------------------------------------------

    def receive_bytes(self, data: bytes) -> list[Action]:
        if self.state is State.CLOSED:
            return []
        if self.state not in _ACCEPTS:
            raise ShellError(f"frame fed in state {self.state.value}")
        if self.state is not State.READY and len(data) > MAX_SIGN_IN_FRAME_BYTES:
            # Before sign-in only Hello and Authenticate are valid, both small: nobody
            # who has not proved a device key gets the relay to decode more (§6.7).
            return self._fail(
                ErrorCode.FRAME_TOO_LARGE,
                f"frame is {len(data)} bytes; before signing in this relay accepts at most "
                f"{MAX_SIGN_IN_FRAME_BYTES}",
            )
        if len(data) > self.limits.max_frame_bytes:
            return self._fail(
                ErrorCode.FRAME_TOO_LARGE,
                f"frame is {len(data)} bytes; this relay accepts at most "
                f"{self.limits.max_frame_bytes}",
            )
        decoded = decode_client_frame(data)
        if isinstance(decoded, tuple):
            return self._fail(*decoded)
        if not isinstance(decoded, _ACCEPTS[self.state]):
            return self._fail(_OUT_OF_ORDER[self.state])
        match decoded:
            case Hello():
                return self._on_hello(decoded)
            case Authenticate():
                return self._on_authenticate(decoded)
            case Push():
                return self._on_push(decoded)
            case Pull():
                return self._on_pull(decoded)
            case _:
                assert_never(decoded)

    def receive_text(self, text: str) -> list[Action]:
        if self.state is State.CLOSED:
            return []
        return self._fail(
            ErrorCode.MALFORMED_FRAME, "text frames are not part of the protocol; send binary"
        )

    def device_checked(self, membership: Membership) -> list[Action]:
        if self.state is not State.CHECK_DEVICE:
            return []
        if membership is not Membership.ACTIVE:
            return self._fail(MEMBERSHIP_ERRORS[membership])
        self._nonce = self._random_bytes(CHALLENGE_BYTES)
        self.state = State.AWAIT_AUTH
        return [Send(Challenge(nonce=self._nonce))]

    def started(self, head: int) -> list[Action]:
        if self.state is not State.STARTING:
            return []
        self.state = State.READY
        return [Send(Welcome(head=head))]

    def push_finished(self, req: int, outcome: Accepted | Rejection | RelayError) -> list[Action]:
        if self.state is State.CLOSED:
            return []
        match outcome:
            case Accepted():
                return [Send(Acked(req=req, acks=outcome.acks))]
            case Rejection():
                return self._fail(outcome.code, outcome.detail, req=req, index=outcome.index)
            case RelayError():
                return self._fail(outcome.code, outcome.detail, req=req)
            case _:
                assert_never(outcome)

    def page_fetched(self, req: int, page: EventPage) -> list[Action]:
        if self.state is State.CLOSED:
            return []
        events = [Stored(row.seq, row.envelope) for row in page.events]
        return [Send(Page(req=req, events=events, more=page.more, head=page.head))]

    def auth_timed_out(self) -> list[Action]:
        if self.state in (State.READY, State.CLOSED):
            return []
        return self._fail(ErrorCode.AUTH_TIMEOUT)

    def fail(
        self, code: ErrorCode, detail: str | None = None, close_code: int | None = None
    ) -> list[Action]:
        """An error the shell ran into (slow reader, shutdown, a failed look-up). It always
        closes: with ``close_code`` if given, else the code's own, else 1011."""
        if self.state is State.CLOSED:
            return []
        chosen = close_code or ERRORS[code].close_code or CLOSE_INTERNAL
        return self._fail(code, detail, close_code=chosen)

    # --- message handlers -----------------------------------------------------------

    def _on_hello(self, hello: Hello) -> list[Action]:
        if hello.version != PROTOCOL_VERSION:
            return self._fail(
                ErrorCode.UNSUPPORTED_VERSION,
                f"this relay speaks protocol version {PROTOCOL_VERSION}, the app sent "
                f"{hello.version}",
            )
        public_hosts = self.limits.public_hosts
        if public_hosts and self.host.lower() not in public_hosts:
            # The signature binds the Host (§6.2); answering only to our own names is
            # what makes that binding mean something (docs/THREAT_MODEL.md §7).
            return self._fail(
                ErrorCode.WRONG_HOST,
                f"this relay answers only to {', '.join(sorted(public_hosts))}; "
                "check the relay address in the app",
            )
        self.space_id = SpaceId(hello.space_id)
        self.device_id = DeviceId(hello.device_id)
        self.state = State.CHECK_DEVICE
        return [LookUpDevice(self.space_id, self.device_id)]

    def _on_authenticate(self, auth: Authenticate) -> list[Action]:
        space_id, device_id = self._identity()
        if self._nonce is None:
            raise ShellError("Authenticate accepted without a challenge")
        transcript = auth_transcript(self.host, space_id, device_id, self._nonce)
        # A nonce answers exactly one attempt: a replayed answer never matches a new one.
        self._nonce = None
        if not signature_valid(device_id, transcript, auth.signature):
            return self._fail(
                ErrorCode.AUTH_FAILED,
                "the challenge signature does not verify for this relay address, space and device",
            )
        self.state = State.STARTING
        return [StartSync(space_id, device_id)]

    def _on_push(self, push: Push) -> list[Action]:
        space_id, _ = self._identity()
        if self._pushes is not None and not self._pushes.take(self._clock()):
            return self._fail(
                ErrorCode.RATE_LIMITED,
                f"more than {self.limits.max_pushes_per_s:g} pushes a second on one "
                "connection; send fewer, larger pushes or wait a moment",
                req=push.req,
            )
        if len(push.envelopes) > self.limits.max_batch_envelopes:
            return self._fail(
                ErrorCode.BATCH_TOO_LARGE,
                f"push holds {len(push.envelopes)} envelopes; this relay accepts at most "
                f"{self.limits.max_batch_envelopes}",
                req=push.req,
            )
        if not push.envelopes:
            return [Send(Acked(req=push.req, acks=[]))]
        # Signatures are verified by the shell, off the event loop, before the writer
        # sees the batch (SubmitPush; server/verification.py).
        checked = check_batch(
            push.envelopes, space_id, self.limits.max_envelope_bytes, verify=False
        )
        if isinstance(checked, Rejection):
            return self._fail(checked.code, checked.detail, req=push.req, index=checked.index)
        return [SubmitPush(space_id, push.req, checked)]

    def _on_pull(self, pull: Pull) -> list[Action]:
        space_id, _ = self._identity()
        # Never negative: with a small max_frame_bytes a page still holds its first event.
        budget = max(
            0,
            self.limits.max_frame_bytes
            - FRAME_OVERHEAD_BYTES
            - pull.limit * PER_EVENT_OVERHEAD_BYTES,
        )
        return [FetchPage(space_id, pull.req, pull.after, pull.limit, budget)]

    def _identity(self) -> tuple[SpaceId, DeviceId]:
        if self.space_id is None or self.device_id is None:
            raise ShellError(f"no Hello recorded in state {self.state.value}")
        return self.space_id, self.device_id

    def _fail(
        self,
        code: ErrorCode,
        detail: str | None = None,
        *,
        req: int | None = None,
        index: int | None = None,
        close_code: int | None = None,
    ) -> list[Action]:
        info = ERRORS[code]
        actions: list[Action] = [
            Send(Error(code=code.value, detail=detail or info.message, req=req, index=index))
        ]
        close_code = close_code or info.close_code
        if close_code is not None:
            actions.append(Close(close_code))
            self.state = State.CLOSED
        return actions
