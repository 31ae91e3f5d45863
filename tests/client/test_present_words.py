"""What the feed (`sync --watch`, `timeline`) shows of a signal and a check-in (#13)."""

from __future__ import annotations

from client.views.present import event_line
from schemas.practices import CheckIn, SignalSent
from tests.client.builders import new_verifier, paired
from tests.client.test_present import Names


def test_a_signal_stands_out_with_its_id_kind_return_and_words_and_a_checkin_shows_content() -> (
    None
):
    pair = paired()
    verifier = new_verifier()
    for built in pair.membership:
        verifier.admit(built.data)
    signal = pair.alex.write(
        SignalSent(level="pause", until=1_900_000_000_000, note="I need air", preset="flooded")
    )
    checkin = pair.alex.write(CheckIn(feelings="tired, hopeful", needs="a quiet evening", mood=3))
    names = Names({pair.alex.device_id: "Alex"}, {pair.alex.member_id: "Alex"})
    lines = []
    for built in (signal, checkin):
        outcome = verifier.admit(built.data)
        assert outcome.event is not None
        lines.append(event_line(outcome.event, names))
    signal_line, checkin_line = lines
    assert signal_line.startswith(f"SIGNAL [{signal.event_id.hex()[:8]}] ")
    assert "Alex took a time-out, back around " in signal_line
    assert '"I\'m flooded and need a break."' in signal_line
    assert '"I need air"' in signal_line
    assert "feelings: tired, hopeful; needs: a quiet evening; mood 3 of 5" in checkin_line
