"""Rate limits and connection counts on their own, with a clock the test moves
(server/_limits.py)."""

from __future__ import annotations

from server._limits import ConnectionCounts, KeyedLimiter, TokenBucket, address_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate_per_s=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_s(0.0) == 0.5
    assert bucket.take(0.5)
    assert not bucket.take(0.5)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False], "capped at burst"


def test_each_key_has_its_own_allowance_over_the_window() -> None:
    clock = Clock()
    limiter: KeyedLimiter[str] = KeyedLimiter(attempts=2, window_s=60, clock=clock)
    assert limiter.allow("a")
    assert limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.allow("b"), "another key is not affected"
    assert 29 < limiter.retry_after_s("a") <= 30
    clock.now += 30
    assert limiter.allow("a")


def test_zero_attempts_means_no_limit() -> None:
    limiter: KeyedLimiter[str] = KeyedLimiter(attempts=0, window_s=60)
    assert all(limiter.allow("a") for _ in range(1000))
    assert len(limiter) == 0


def test_a_flood_of_new_keys_costs_bounded_memory() -> None:
    limiter: KeyedLimiter[int] = KeyedLimiter(attempts=1, window_s=60, max_keys=100)
    for key in range(1000):
        assert limiter.allow(key)
    assert len(limiter) == 100
    assert not limiter.allow(999), "recent keys are still counted"


def test_an_ipv6_address_counts_by_its_slash_64() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key(None) == "unknown"


def test_connections_are_counted_per_address_and_signed_in_ones_per_space() -> None:
    counts: ConnectionCounts[str, bytes] = ConnectionCounts(max_per_address=2, max_per_space=1)
    assert counts.open("c1", "10.0.0.1")
    assert counts.open("c2", "10.0.0.1")
    assert not counts.open("c3", "10.0.0.1"), "third from one address"
    assert counts.open("c3", "10.0.0.2"), "another address is not affected"
    assert counts.sign_in("c1", b"space", b"device-a")
    assert not counts.sign_in("c2", b"space", b"device-b"), "the space is full"
    assert counts.sign_in("c3", b"other", b"device-c")
    assert counts.signed_in_devices == 2
    counts.close("c1")
    assert counts.sign_in("c2", b"space", b"device-b")
    assert counts.open("c4", "10.0.0.1")
    for connection in ("c2", "c3", "c4", "c4"):
        counts.close(connection)
    assert len(counts) == 0
    assert counts.signed_in_devices == 0
    assert counts.at_address("10.0.0.1") == 0
    assert counts.in_space(b"space") == 0


def test_zero_means_no_connection_limit() -> None:
    counts: ConnectionCounts[int, bytes] = ConnectionCounts(max_per_address=0, max_per_space=0)
    for n in range(500):
        assert counts.open(n, "10.0.0.1")
        assert counts.sign_in(n, b"space", bytes([n % 256]))
