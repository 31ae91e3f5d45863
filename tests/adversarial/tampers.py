"""What the lying relay does: each Tamper is one way a relay can misbehave.

Each changes only frames relay → device (what a relay serves), except the split view,
which answers one device's pulls itself. ``victim`` limits a tamper to one device's
connections; ``None`` means every device.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from schemas.envelope import Envelope, decode_envelope
from schemas.protocol import (
    Ack,
    Acked,
    Challenge,
    ClientMessage,
    Live,
    Page,
    Pull,
    Push,
    RelayMessage,
    Stored,
    Welcome,
)
from tests.adversarial.proxy import AdversarialProxy, Link, Tamper

Match = Callable[[Envelope, int], bool]
"""(the envelope, its relay seq) -> whether the tamper applies to it."""


def by(author: bytes, *, seqs: set[int] | None = None) -> Match:
    """Events of one device (optionally at these author seqs)."""
    return lambda env, _: env.author == author and (seqs is None or env.seq in seqs)


class _PerEvent(Tamper):
    def __init__(self, match: Match, *, victim: bytes | None = None) -> None:
        self.match = match
        self.victim = victim
        self.hits = 0

    def applies(self, link: Link, stored: Stored) -> bool:
        if self.victim is not None and link.device_id != self.victim:
            return False
        try:
            env = decode_envelope(stored.envelope)
        except ValueError:
            return False
        return self.match(env, stored.seq)

    def change(self, stored: Stored) -> list[Stored]:
        raise NotImplementedError

    async def to_client(self, link: Link, message: RelayMessage) -> list[RelayMessage]:
        if not isinstance(message, Page | Live):
            return [message]
        events: list[Stored] = []
        for stored in message.events:
            if self.applies(link, stored):
                self.hits += 1
                events.extend(self.change(stored))
            else:
                events.append(stored)
        if isinstance(message, Live):
            return [Live(events)] if events else []
        return [Page(req=message.req, events=events, more=message.more, head=message.head)]


class Drop(_PerEvent):
    """Withhold matching events: they never reach the device (holes in pages)."""

    def change(self, stored: Stored) -> list[Stored]:
        return []


class Corrupt(_PerEvent):
    """Flip one byte of matching envelopes (in the signature: still canonical msgpack)."""

    def change(self, stored: Stored) -> list[Stored]:
        data = bytearray(stored.envelope)
        data[-1] ^= 0x01
        return [Stored(stored.seq, bytes(data))]


class Substitute(_PerEvent):
    """Serve other bytes at the matching relay seq: an envelope moved from elsewhere."""

    def __init__(self, match: Match, envelope: bytes, *, victim: bytes | None = None) -> None:
        super().__init__(match, victim=victim)
        self.envelope = envelope

    def change(self, stored: Stored) -> list[Stored]:
        return [Stored(stored.seq, self.envelope)]


class Shuffle(Tamper):
    """Reorder and delay: events inside each frame are shuffled, pages repeat their
    events, and live frames are each held back a random while (so they overtake each
    other). Nothing is lost."""

    def __init__(self, proxy: AdversarialProxy, *, seed: int = 5, max_delay_s: float = 0.05):
        self.proxy = proxy
        self.random = random.Random(seed)
        self.max_delay_s = max_delay_s

    async def to_client(self, link: Link, message: RelayMessage) -> list[RelayMessage]:
        if isinstance(message, Page):
            events = list(message.events) * 2
            self.random.shuffle(events)
            return [Page(req=message.req, events=events, more=message.more, head=message.head)]
        if isinstance(message, Live):
            events = list(message.events)
            self.random.shuffle(events)
            delay = self.random.uniform(0, self.max_delay_s)
            for copy in (Live(events), Live(list(reversed(events)))):
                self.proxy.later(delay, lambda c=copy: link.send_to_client(c))
            return []
        return [message]


class ReplayChallenge(Tamper):
    """Offer every later sign-in the first challenge it saw."""

    def __init__(self) -> None:
        self.first: bytes | None = None

    async def to_client(self, link: Link, message: RelayMessage) -> list[RelayMessage]:
        if isinstance(message, Challenge):
            if self.first is None:
                self.first = message.nonce
            else:
                return [Challenge(nonce=self.first, version=message.version)]
        return [message]


class ReplayAcks(Tamper):
    """Answer later pushes with the acknowledgements of the first one."""

    def __init__(self) -> None:
        self.first: list[Ack] | None = None

    async def to_client(self, link: Link, message: RelayMessage) -> list[RelayMessage]:
        if isinstance(message, Acked):
            if self.first is None:
                self.first = list(message.acks)
            else:
                return [Acked(req=message.req, acks=self.first)]
        return [message]


class SplitView(Tamper):
    """Show ``victim`` a history without the events ``hide`` picks, numbered densely as
    an honest relay would, so no gap gives it away; every other device sees the truth.

    The proxy learns the relay's log from every connection it carries (pages, live
    events, and pushes with their acks) and answers the victim's pulls itself. Tests
    drive devices one after another, so the log is complete whenever it is needed."""

    def __init__(self) -> None:
        self.victim: bytes | None = None
        self.hide: Callable[[Envelope], bool] = lambda _: False
        self.log: dict[int, bytes] = {}
        self._pushes: dict[tuple[int, int], list[bytes]] = {}

    def start(self, victim: bytes, hide: Callable[[Envelope], bool]) -> None:
        """Install it before the partners first sync, so it learns the whole log; start
        splitting once the victim is known."""
        self.victim, self.hide = victim, hide

    def stop(self) -> None:
        self.victim = None

    def _learn(self, link: Link, message: RelayMessage) -> None:
        if isinstance(message, Page | Live):
            self.log.update((s.seq, s.envelope) for s in message.events)
        elif isinstance(message, Acked):
            pushed = self._pushes.pop((link.id, message.req), [])
            for ack, envelope in zip(message.acks, pushed, strict=False):
                self.log.setdefault(ack.seq, envelope)

    def _visible(self) -> list[int]:
        top = max(self.log, default=0)
        missing = [s for s in range(1, top + 1) if s not in self.log]
        if missing:
            raise AssertionError(f"the split proxy has not seen relay seqs {missing}")
        return [s for s in range(1, top + 1) if not self.hide(decode_envelope(self.log[s]))]

    def _number(self, seq: int) -> int:
        return sum(1 for s in self._visible() if s <= seq)

    def _fooled(self, link: Link) -> bool:
        return self.victim is not None and link.device_id == self.victim

    async def to_relay(self, link: Link, message: ClientMessage) -> list[ClientMessage]:
        if isinstance(message, Push):
            self._pushes[(link.id, message.req)] = list(message.envelopes)
        if isinstance(message, Pull) and self._fooled(link):
            visible = self._visible()
            shown = [
                Stored(number, self.log[seq])
                for number, seq in enumerate(visible, start=1)
                if number > message.after
            ][: message.limit]
            more = len(visible) - message.after > len(shown)
            link.send_to_client(Page(req=message.req, events=shown, more=more, head=len(visible)))
            return []
        return [message]

    async def to_client(self, link: Link, message: RelayMessage) -> list[RelayMessage]:
        self._learn(link, message)
        if not self._fooled(link):
            return [message]
        if isinstance(message, Welcome):
            return [Welcome(head=self._number(message.head))]
        if isinstance(message, Live):
            events = [
                Stored(self._number(s.seq), s.envelope)
                for s in message.events
                if not self.hide(decode_envelope(s.envelope))
            ]
            return [Live(events)] if events else []
        if isinstance(message, Acked):
            return [
                Acked(
                    req=message.req,
                    acks=[Ack(a.event_id, self._number(a.seq)) for a in message.acks],
                )
            ]
        if isinstance(message, Page):
            return []
        return [message]
