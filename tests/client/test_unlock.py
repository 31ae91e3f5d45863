"""The passphrase back-off schedule (client/keys/unlock.py, PROTOCOL.md §5.8)."""

from __future__ import annotations

from client.keys import unlock


def test_the_first_three_wrong_passphrases_cost_no_wait() -> None:
    assert [unlock.wait_after(f) for f in range(3)] == [None, None, None]


def test_then_each_wrong_passphrase_doubles_the_wait_up_to_fifteen_minutes() -> None:
    waits = [unlock.wait_after(f) for f in range(3, 12)]
    assert waits == [5, 10, 20, 40, 80, 160, 320, 640, 900]


def test_a_huge_failure_count_still_waits_fifteen_minutes() -> None:
    assert unlock.wait_after(10**9) == unlock.PASSPHRASE_MAX_WAIT_S == 900


def test_a_try_is_allowed_once_the_wait_is_over() -> None:
    assert unlock.may_try(now_ms=10_000, wait_until_ms=10_000) is None
    assert unlock.may_try(now_ms=10_001, wait_until_ms=0) is None


def test_the_seconds_left_are_rounded_up() -> None:
    assert unlock.may_try(now_ms=0, wait_until_ms=1) == 1
    assert unlock.may_try(now_ms=0, wait_until_ms=1000) == 1
    assert unlock.may_try(now_ms=0, wait_until_ms=1001) == 2
    assert unlock.may_try(now_ms=0, wait_until_ms=5000) == 5
