"""The time-out return rule and the signal sentences shared by the CLI and the app
(client/views/present_signals.py)."""

from __future__ import annotations

import pytest

from client.errors import TrellisError
from client.views.present_signals import (
    MINUTE_MS,
    SignalRow,
    partner_signal_sentence,
    signal_given_sentence,
    signal_rows,
    timeout_return_ms,
)
from client.views.recovery import SignalView
from schemas.ids import EventId, MemberId
from schemas.practices import TIMEOUT_DEFAULT_MIN, TIMEOUT_MAX_MIN

SENT_MS = 1_800_000_000_000


def test_a_time_out_returns_after_the_default_unless_told() -> None:
    assert timeout_return_ms(SENT_MS) == SENT_MS + TIMEOUT_DEFAULT_MIN * MINUTE_MS
    assert timeout_return_ms(SENT_MS, minutes=45) == SENT_MS + 45 * MINUTE_MS
    assert timeout_return_ms(SENT_MS, until_ms=SENT_MS + 5 * MINUTE_MS) == SENT_MS + 5 * MINUTE_MS


@pytest.mark.parametrize(
    ("minutes", "until_ms", "words"),
    [
        (0, None, "already passed"),
        (None, SENT_MS - 1, "already passed"),
        (TIMEOUT_MAX_MIN + 1, None, "24 hours"),
        (None, SENT_MS + (TIMEOUT_MAX_MIN + 1) * MINUTE_MS, "24 hours"),
        (10, SENT_MS + MINUTE_MS, "not both"),
    ],
)
def test_a_return_time_out_of_reach_is_refused_in_plain_words(
    minutes: float | None, until_ms: int | None, words: str
) -> None:
    with pytest.raises(TrellisError, match=words) as caught:
        timeout_return_ms(SENT_MS, minutes=minutes, until_ms=until_ms)
    assert caught.value.code == "usage"


def test_the_sender_is_told_given_never_sent() -> None:
    assert signal_given_sentence("stop", None) == "Stop given. A stop owes no return."
    assert signal_given_sentence("slow", None) == "Slow-down given."
    assert "you will be reminded at" in signal_given_sentence("pause", SENT_MS)
    for level in ("pause", "slow", "stop"):
        assert "sent" not in signal_given_sentence(level, SENT_MS).lower()


def test_the_partner_reads_who_asked_for_what_never_late() -> None:
    assert (
        partner_signal_sentence("Alex", "stop", None)
        == "Alex asked to stop. A stop owes no return."
    )
    assert partner_signal_sentence("Alex", "slow", None) == "Alex asked to slow down."
    pause = partner_signal_sentence("Alex", "pause", SENT_MS)
    assert pause.startswith("Alex asked for a time-out, back around ")
    assert "late" not in pause


def test_signal_rows_are_the_active_signals_for_one_reader() -> None:
    """Today and Signals list signals through this one builder: the sender is reminded
    that a time-out's return is due; the partner never is; a cleared one is not listed."""
    sam, alex = MemberId(b"s" * 32), MemberId(b"a" * 32)
    back = SENT_MS + 20 * MINUTE_MS
    views = [
        SignalView(EventId(b"1" * 32), sam, "pause", back, None, SENT_MS, preset=None),
        SignalView(EventId(b"2" * 32), alex, "stop", None, "I need quiet", SENT_MS),
        SignalView(
            EventId(b"3" * 32),
            sam,
            "slow",
            None,
            None,
            SENT_MS,
            cleared_by_event=EventId(b"4" * 32),
        ),
    ]
    names = {sam: "Sam", alex: "Alex"}
    later = back + MINUTE_MS
    as_sam = signal_rows(views, lambda m: names[MemberId(m)], sam, later)
    assert as_sam == [
        SignalRow((b"1" * 32).hex(), "Sam", True, "time-out", "pause", back, None, True),
        SignalRow((b"2" * 32).hex(), "Alex", False, "stop", "stop", None, "I need quiet", False),
    ]
    as_alex = signal_rows(views, lambda m: names[MemberId(m)], alex, later)
    assert [r.due for r in as_alex] == [False, False]
    assert [r.mine for r in as_alex] == [False, True]
