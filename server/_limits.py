"""Rate limits and connection counts, sans-I/O: plain objects driven with a clock.

``TokenBucket`` is one allowance: ``burst`` at once, refilled at ``rate_per_s``.
``KeyedLimiter`` keeps one bucket per key (an invite, a client address) for the invite
limits, forgetting the least recently used keys beyond ``max_keys`` so that a flood of
new keys costs bounded memory. ``ConnectionCounts`` counts open sync connections per
client address and signed-in ones per space, each partner of a space holding at most
half of the space's (docs/OPERATIONS.md §2, limits).

A limit of 0 means "no limit" throughout.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

Clock = Callable[[], float]
K = TypeVar("K", bound=Hashable)
C = TypeVar("C", bound=Hashable)

IPV6_PREFIX_BITS = 64
"""One IPv6 subscriber usually holds a whole /64: count it as one address."""

MAX_LIMITER_KEYS = 100_000


def address_key(host: str | None) -> str:
    """The key a client address is counted under: IPv4 as is, IPv6 by its /64."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX_BITS), strict=False))
    return str(address)


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int, now: float) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = float(burst)
        self._at = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._at)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate_per_s)
        self._at = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait_s(self, now: float) -> float:
        """Seconds until a token is available."""
        self._refill(now)
        return max(0.0, (1.0 - self._tokens) / self.rate_per_s)


class KeyedLimiter(Generic[K]):
    """At most ``attempts`` per ``window_s`` for each key, as a token bucket per key."""

    def __init__(
        self,
        attempts: int,
        window_s: float,
        clock: Clock = time.monotonic,
        max_keys: int = MAX_LIMITER_KEYS,
    ) -> None:
        self._attempts = attempts
        self._rate_per_s = attempts / window_s if attempts else 0.0
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[K, TokenBucket] = OrderedDict()

    def allow(self, key: K) -> bool:
        if not self._attempts:
            return True
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate_per_s, self._attempts, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(now)

    def retry_after_s(self, key: K) -> float:
        bucket = self._buckets.get(key)
        return 0.0 if bucket is None else bucket.wait_s(self._clock())

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass(slots=True)
class _Entry(Generic[K]):
    address: str
    space: K | None = None
    device: tuple[K, bytes] | None = None
    member: tuple[K, bytes] | None = None


class ConnectionCounts(Generic[C, K]):
    """Open connections by client address, signed-in ones by space and by device.

    ``C`` is whatever stands for one connection (the shell's object), ``K`` a space id.
    """

    def __init__(
        self, max_per_address: int, max_per_space: int, max_unauthenticated: int = 0
    ) -> None:
        self.max_per_address = max_per_address
        self.max_per_space = max_per_space
        self.max_unauthenticated = max_unauthenticated
        self.unauthenticated = 0
        """Open connections that have not signed in (yet)."""
        self._entries: dict[C, _Entry[K]] = {}
        self._by_address: Counter[str] = Counter()
        self._by_space: Counter[K] = Counter()
        self._by_device: Counter[tuple[K, bytes]] = Counter()
        self._by_member: Counter[tuple[K, bytes]] = Counter()

    def unauthenticated_full(self) -> bool:
        """Whether the relay already holds its limit of connections not signed in."""
        return bool(self.max_unauthenticated) and self.unauthenticated >= self.max_unauthenticated

    def open(self, connection: C, address: str) -> bool:
        """Count a new connection from ``address``; False (counting nothing) if that
        address is at its limit."""
        if self.max_per_address and self._by_address[address] >= self.max_per_address:
            return False
        self._entries[connection] = _Entry(address)
        self._by_address[address] += 1
        self.unauthenticated += 1
        return True

    @property
    def max_per_member(self) -> int:
        """A partner's share of a space's connections: half, rounded up (0: no limit)."""
        return (self.max_per_space + 1) // 2

    def sign_in(self, connection: C, space: K, device: bytes, member: bytes | None = None) -> bool:
        """Count a signed-in connection in ``space``; False if the space is full, or
        the device's partner (``member``: its member group; None counts the device as
        its own) already holds its share. Shared out per partner so that one partner's
        devices can never take every connection and lock the other out
        (docs/THREAT_MODEL.md §19)."""
        entry = self._entries[connection]
        if self.max_per_space and self._by_space[space] >= self.max_per_space:
            return False
        partner = (space, device if member is None else member)
        if self.max_per_space and self._by_member[partner] >= self.max_per_member:
            return False
        entry.space = space
        entry.device = (space, device)
        entry.member = partner
        self.unauthenticated -= 1
        self._by_space[space] += 1
        self._by_device[entry.device] += 1
        self._by_member[partner] += 1
        return True

    def close(self, connection: C) -> None:
        entry = self._entries.pop(connection, None)
        if entry is None:
            return
        _decrement(self._by_address, entry.address)
        if entry.space is None:
            self.unauthenticated -= 1
        else:
            _decrement(self._by_space, entry.space)
        if entry.device is not None:
            _decrement(self._by_device, entry.device)
        if entry.member is not None:
            _decrement(self._by_member, entry.member)

    def connections(self) -> list[C]:
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def signed_in_devices(self) -> int:
        return len(self._by_device)

    def at_address(self, address: str) -> int:
        return self._by_address[address]

    def in_space(self, space: K) -> int:
        return self._by_space[space]

    def device_connected(self, space: K, device: bytes) -> bool:
        return self._by_device[(space, device)] > 0


def _decrement(counter: Counter[K], key: K) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
