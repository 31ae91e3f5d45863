"""The client side of a sync session, sans-I/O (docs/PROTOCOL.md §6).

Feed it each frame from the relay with :meth:`SyncSession.receive`; it returns what
happened as events and queues frames to send, which the shell collects with
:meth:`SyncSession.data_to_send`. It never touches a socket or a database, so tests
drive every rule with plain bytes.

Theory of operation::

    HELLO_SENT --Challenge--> AUTH_SENT --Welcome--> READY --fatal Error--> CLOSED

In READY it pulls pages after the cursor until the relay says no more remain, pushes
the outbox in batches with several batches in flight, and passes on live events. The
cursor only moves over relay sequence numbers with nothing missing below them, counting
pages, live events and the acks of our own pushes, so a reconnect never skips an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto

import msgspec

from client.errors import ClientErrorCode
from schemas.envelope import event_id_of
from schemas.errors import ERRORS, ErrorCode
from schemas.protocol import (
    CHALLENGE_BYTES,
    MAX_PULL_LIMIT,
    Ack,
    Acked,
    Authenticate,
    Challenge,
    Error,
    Hello,
    Live,
    Page,
    Pull,
    Push,
    RelayMessage,
    Stored,
    Welcome,
    auth_transcript,
    encode_message,
    relay_message_decoder,
)

Signer = Callable[[bytes], bytes]

MAX_PUSH_BYTES = 512 * 1024
"""Envelope bytes per push, well under relays' default 1 MiB frame limit."""


class State(Enum):
    HELLO_SENT = auto()
    AUTH_SENT = auto()
    READY = auto()
    CLOSED = auto()


@dataclass(frozen=True, slots=True)
class Received:
    """Envelopes from the relay, to admit; ``from_page`` tells paged from live."""

    events: list[Stored]
    from_page: bool


@dataclass(frozen=True, slots=True)
class Acknowledged:
    acks: list[Ack]


@dataclass(frozen=True, slots=True)
class CursorAdvanced:
    cursor: int


@dataclass(frozen=True, slots=True)
class RelayBehind:
    """The relay's head is below our cursor: it lost data we had already seen."""

    head: int
    cursor: int


@dataclass(frozen=True, slots=True)
class RelayRewound:
    """The relay no longer serves, at the anchor's seq, the event it served there
    before: it lost data or renumbered its history (docs/PROTOCOL.md §9.6). The
    session reads everything again from the start; the page that showed it is dropped."""

    anchor_seq: int


@dataclass(frozen=True, slots=True)
class UpToDate:
    """Everything queued is acknowledged and every page is fetched."""


@dataclass(frozen=True, slots=True)
class PushRefused:
    code: str
    detail: str
    envelope: bytes | None


@dataclass(frozen=True, slots=True)
class SessionFailed:
    """The relay ended the session (or broke the protocol); reconnecting may help."""

    code: str
    detail: str


SessionEvent = (
    Received
    | Acknowledged
    | CursorAdvanced
    | RelayBehind
    | RelayRewound
    | UpToDate
    | PushRefused
    | SessionFailed
)


class SyncSession:
    def __init__(
        self,
        *,
        space_id: bytes,
        device_id: bytes,
        host: str,
        sign: Signer,
        cursor: int,
        outbox: list[bytes],
        push_batch: int = 200,
        max_pushes_in_flight: int = 4,
        pull_limit: int = MAX_PULL_LIMIT,
        anchor: tuple[int, bytes] | None = None,
    ) -> None:
        """``anchor`` is (relay seq, event id) of an event read before at or below the
        cursor; the first pull starts just below it to check the relay still has it."""
        self.state = State.HELLO_SENT
        self._space_id = space_id
        self._device_id = device_id
        self._host = host
        self._sign = sign
        self.cursor = cursor
        self._seen_above: set[int] = set()
        self._unsent = list(outbox)
        self._in_flight: dict[int, list[bytes]] = {}
        self._push_batch = push_batch
        self._max_in_flight = max_pushes_in_flight
        self._pull_limit = pull_limit
        self._pulling = False
        self._pull_req: int | None = None
        self._caught_up = False
        self._halted_pushes = False
        self._next_req = 1
        self._outgoing: list[bytes] = [
            encode_message(Hello(space_id=space_id, device_id=device_id))
        ]
        self._reported_up_to_date = False
        self._anchor = anchor if anchor is not None and 0 < anchor[0] <= cursor else None
        self._held_live: list[Stored] = []
        self.challenge: bytes | None = None
        """The nonce of the relay's challenge, once it came (to notice one reused)."""

    # -- shell interface ----------------------------------------------------------

    def data_to_send(self) -> list[bytes]:
        frames, self._outgoing = self._outgoing, []
        return frames

    @property
    def caught_up(self) -> bool:
        """Every page up to the relay's head was read in this session."""
        return self._caught_up

    @property
    def up_to_date(self) -> bool:
        return (
            self.state is State.READY
            and self._caught_up
            and not self._in_flight
            and (not self._unsent or self._halted_pushes)
        )

    def queue(self, envelopes: list[bytes]) -> None:
        """New local events while connected: push them without waiting for a resync."""
        self._unsent.extend(envelopes)
        self._reported_up_to_date = False
        if self.state is State.READY:
            self._fill_pushes()

    def receive(self, frame: bytes) -> list[SessionEvent]:
        if self.state is State.CLOSED:
            return []
        try:
            message = relay_message_decoder.decode(frame)
        except (msgspec.MsgspecError, UnicodeDecodeError):  # invalid UTF-8 in a string
            return self._fail(
                ClientErrorCode.BAD_RELAY_FRAME, "the relay sent a frame this app cannot read"
            )
        events = self._handle(message)
        if self.up_to_date and not self._reported_up_to_date:
            self._reported_up_to_date = True
            events.append(UpToDate())
        return events

    # -- rules --------------------------------------------------------------------

    def _handle(self, message: RelayMessage) -> list[SessionEvent]:
        match message:
            case Error():
                return self._on_error(message)
            case Challenge() if self.state is State.HELLO_SENT:
                if len(message.nonce) != CHALLENGE_BYTES:
                    return self._fail(
                        ClientErrorCode.BAD_RELAY_FRAME, "the relay's challenge is malformed"
                    )
                self.challenge = message.nonce
                transcript = auth_transcript(
                    self._host, self._space_id, self._device_id, message.nonce
                )
                self._outgoing.append(
                    encode_message(Authenticate(signature=self._sign(transcript)))
                )
                self.state = State.AUTH_SENT
                return []
            case Welcome() if self.state is State.AUTH_SENT:
                self.state = State.READY
                events: list[SessionEvent] = []
                if message.head < self.cursor:
                    # The relay holds less than we already read from it (restored from a
                    # backup, or replaced): read it all again rather than skip what it
                    # numbers anew. Admission drops what we already hold.
                    events.append(RelayBehind(head=message.head, cursor=self.cursor))
                    self.cursor = 0
                    self._seen_above.clear()
                    self._anchor = None
                    events.append(CursorAdvanced(0))
                self._request_page()
                self._fill_pushes()
                return events
            case Page() if self.state is State.READY and self._pulling:
                return self._on_page(message)
            case Live() if self.state is State.READY:
                if self._anchor is not None:
                    # Numbered by a relay not yet checked against the anchor: hold them.
                    self._held_live.extend(message.events)
                    return []
                return self._on_stored(message.events, from_page=False)
            case Acked() if self.state is State.READY and message.req in self._in_flight:
                return self._on_acked(message)
            case _:
                return self._fail(
                    ClientErrorCode.UNEXPECTED_RELAY_MESSAGE, "the relay sent a message out of turn"
                )

    def _on_page(self, page: Page) -> list[SessionEvent]:
        self._pulling = False
        events: list[SessionEvent] = []
        if self._anchor is not None:
            anchor_seq, anchor_id = self._anchor
            self._anchor = None
            held = any(
                s.seq == anchor_seq and event_id_of(s.envelope) == anchor_id for s in page.events
            )
            if not held:
                self.cursor = 0
                self._seen_above.clear()
                events += [RelayRewound(anchor_seq), CursorAdvanced(0)]
                events += self._release_live()
                self._request_page()
                return events
            events += self._release_live()
        events += self._on_stored(page.events, from_page=True)
        # A page proves the relay holds nothing else up to the last seq it sent; the
        # last page (more is false) also vouches for everything up to the head it
        # states, so a withheld tail shows as seqs skipped (docs/PROTOCOL.md §9.6).
        top = max((s.seq for s in page.events), default=self.cursor)
        if not page.more and page.head > top:
            top = page.head
        if page.more and top > self.cursor:
            self._seen_above.update(range(self.cursor + 1, top + 1))
            events.extend(self._advance())
            self._request_page()
        else:
            if not page.more:
                self._seen_above.update(range(self.cursor + 1, top + 1))
                events.extend(self._advance())
            self._caught_up = True
        return events

    def _release_live(self) -> list[SessionEvent]:
        held, self._held_live = self._held_live, []
        return self._on_stored(held, from_page=False) if held else []

    def _on_stored(self, stored: list[Stored], *, from_page: bool) -> list[SessionEvent]:
        events: list[SessionEvent] = []
        if stored:
            events.append(Received(list(stored), from_page))
        if not from_page:
            self._seen_above.update(s.seq for s in stored if s.seq > self.cursor)
            events.extend(self._advance())
        return events

    def _on_acked(self, acked: Acked) -> list[SessionEvent]:
        self._in_flight.pop(acked.req)
        self._seen_above.update(a.seq for a in acked.acks if a.seq > self.cursor)
        events: list[SessionEvent] = [Acknowledged(list(acked.acks)), *self._advance()]
        self._fill_pushes()
        return events

    def _on_error(self, error: Error) -> list[SessionEvent]:
        try:
            fatal = ERRORS[ErrorCode(error.code)].close_code is not None
        except ValueError:
            fatal = True
        answers_pull = self._pulling and error.req == self._pull_req
        # A closing error, one about the whole connection, or one answering the pull we
        # wait for ends the session: waiting on would hang until the timeout.
        if fatal or error.req is None or answers_pull or error.req not in self._in_flight:
            return self._fail(error.code, error.detail)
        batch = self._in_flight.pop(error.req)
        envelope = None
        if error.index is not None and 0 <= error.index < len(batch):
            envelope = batch[error.index]
        # Later envelopes of our chain cannot land before this one: stop pushing and let
        # the person (and the integrity checks) see why.
        self._halted_pushes = True
        return [PushRefused(error.code, error.detail, envelope)]

    def _fail(self, code: str, detail: str) -> list[SessionEvent]:
        self.state = State.CLOSED
        return [SessionFailed(code, detail)]

    def _advance(self) -> list[SessionEvent]:
        start = self.cursor
        while self.cursor + 1 in self._seen_above:
            self.cursor += 1
            self._seen_above.discard(self.cursor)
        return [CursorAdvanced(self.cursor)] if self.cursor != start else []

    def _request_page(self) -> None:
        self._pulling = True
        self._pull_req = self._take_req()
        after = self.cursor if self._anchor is None else self._anchor[0] - 1
        self._outgoing.append(
            encode_message(Pull(req=self._pull_req, after=after, limit=self._pull_limit))
        )

    def _fill_pushes(self) -> None:
        while (
            self._unsent and not self._halted_pushes and len(self._in_flight) < self._max_in_flight
        ):
            count, size = 0, 0
            for envelope in self._unsent[: self._push_batch]:
                if count and size + len(envelope) > MAX_PUSH_BYTES:
                    break
                count, size = count + 1, size + len(envelope)
            batch = self._unsent[:count]
            del self._unsent[:count]
            req = self._take_req()
            self._in_flight[req] = batch
            self._outgoing.append(encode_message(Push(req=req, envelopes=batch)))

    def _take_req(self) -> int:
        req = self._next_req
        self._next_req += 1
        return req
