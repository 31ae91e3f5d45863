"""The client side of a sync session, driven with bytes (client/core/session.py, PROTOCOL.md §6).

Each test plays the relay: it encodes schemas.protocol messages, feeds them to
``SyncSession.receive`` and reads back what the session wants to send and what it
reports. No sockets: the session is sans-I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client.core.session import (
    MAX_PUSH_BYTES,
    Acknowledged,
    CursorAdvanced,
    PushRefused,
    Received,
    RelayBehind,
    SessionEvent,
    SessionFailed,
    State,
    SyncSession,
    UpToDate,
)
from client.keys import crypto
from schemas.protocol import (
    CHALLENGE_BYTES,
    Ack,
    Acked,
    Authenticate,
    Challenge,
    ClientMessage,
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
    client_message_decoder,
    encode_message,
)
from tests.client.builders import SPACE_ID, fixed_bytes

HOST = "relay.example.org:8765"
DEVICE = crypto.DeviceKeys.from_seeds(
    fixed_bytes("session device signing seed", 32), fixed_bytes("session device box", 32)
)
NONCE = fixed_bytes("relay challenge", CHALLENGE_BYTES)


def envelope(n: int) -> bytes:
    """Stand-in envelope bytes: the session never looks inside them."""
    return f"envelope {n}".encode()


def event_id(n: int) -> bytes:
    return fixed_bytes(f"event id {n}", 32)


def new_session(
    *, outbox: Sequence[bytes] = (), cursor: int = 0, push_batch: int = 200, in_flight: int = 4
) -> SyncSession:
    return SyncSession(
        space_id=SPACE_ID,
        device_id=DEVICE.device_id,
        host=HOST,
        sign=DEVICE.sign,
        cursor=cursor,
        outbox=list(outbox),
        push_batch=push_batch,
        max_pushes_in_flight=in_flight,
    )


def relay_says(session: SyncSession, message: RelayMessage) -> list[SessionEvent]:
    return session.receive(encode_message(message))


def sent(session: SyncSession) -> list[ClientMessage]:
    return [client_message_decoder.decode(frame) for frame in session.data_to_send()]


def pushes(messages: list[ClientMessage]) -> list[Push]:
    return [m for m in messages if isinstance(m, Push)]


def signed_in(
    *, outbox: Sequence[bytes] = (), cursor: int = 0, push_batch: int = 200, in_flight: int = 4
) -> tuple[SyncSession, list[ClientMessage]]:
    """A session through Hello, Challenge and Welcome; returns what it sent on Welcome."""
    session = new_session(outbox=outbox, cursor=cursor, push_batch=push_batch, in_flight=in_flight)
    sent(session)
    relay_says(session, Challenge(nonce=NONCE))
    sent(session)
    assert relay_says(session, Welcome(head=cursor)) == []
    return session, sent(session)


def pulled(messages: list[ClientMessage]) -> Pull:
    [pull] = [m for m in messages if isinstance(m, Pull)]
    return pull


def caught_up(session: SyncSession, pull: Pull, *events: Stored) -> list[SessionEvent]:
    return relay_says(session, Page(req=pull.req, events=list(events), more=False, head=0))


def assert_failed(events: list[SessionEvent], session: SyncSession, code: str) -> None:
    assert len(events) == 1, events
    failure = events[0]
    assert isinstance(failure, SessionFailed), failure
    assert failure.code == code
    assert failure.detail  # a sentence for the person, never empty
    assert session.state is State.CLOSED


# --- signing in -------------------------------------------------------------------------


def test_the_session_opens_by_saying_hello_with_its_space_and_device() -> None:
    session = new_session()

    assert sent(session) == [Hello(space_id=SPACE_ID, device_id=DEVICE.device_id)]
    assert session.state is State.HELLO_SENT


def test_a_challenge_is_answered_with_a_signature_over_relay_space_device_and_nonce() -> None:
    session = new_session()
    sent(session)

    events = relay_says(session, Challenge(nonce=NONCE))

    assert events == []
    [answer] = sent(session)
    assert isinstance(answer, Authenticate)
    transcript = auth_transcript(HOST, SPACE_ID, DEVICE.device_id, NONCE)
    assert crypto.verify_signature(DEVICE.device_id, transcript, answer.signature)
    other_relay = auth_transcript("elsewhere.example:443", SPACE_ID, DEVICE.device_id, NONCE)
    assert not crypto.verify_signature(DEVICE.device_id, other_relay, answer.signature)
    assert session.state is State.AUTH_SENT


def test_a_challenge_of_the_wrong_size_fails_the_session_without_signing_it() -> None:
    session = new_session()
    sent(session)

    events = relay_says(session, Challenge(nonce=b"short"))

    assert_failed(events, session, "bad_relay_frame")
    assert sent(session) == []


def test_an_error_while_signing_in_fails_the_session() -> None:
    session = new_session()
    sent(session)
    relay_says(session, Challenge(nonce=NONCE))

    events = relay_says(session, Error(code="auth_failed", detail="signature does not verify"))

    assert events == [SessionFailed("auth_failed", "signature does not verify")]
    assert session.state is State.CLOSED


# --- pulling ------------------------------------------------------------------------------


def test_welcome_starts_a_pull_after_the_saved_cursor() -> None:
    _, after_welcome = signed_in(cursor=41)

    pull = pulled(after_welcome)
    assert pull.after == 41
    assert pushes(after_welcome) == []


def test_a_relay_holding_less_than_the_cursor_is_reported_and_read_again_from_the_start() -> None:
    session = new_session(cursor=41)
    sent(session)
    relay_says(session, Challenge(nonce=NONCE))
    sent(session)

    events = relay_says(session, Welcome(head=7))

    assert RelayBehind(head=7, cursor=41) in events
    assert CursorAdvanced(0) in events
    assert pulled(sent(session)).after == 0


def test_a_page_with_more_to_come_is_passed_on_and_the_next_page_requested() -> None:
    session, after_welcome = signed_in(cursor=0)
    first = pulled(after_welcome)
    stored = [Stored(1, envelope(1)), Stored(2, envelope(2)), Stored(3, envelope(3))]

    events = relay_says(session, Page(req=first.req, events=stored, more=True, head=9))

    assert events == [Received(stored, from_page=True), CursorAdvanced(3)]
    second = pulled(sent(session))
    assert second.after == 3
    assert second.req != first.req


def test_the_last_page_with_nothing_to_push_brings_the_session_up_to_date_once() -> None:
    session, after_welcome = signed_in(cursor=0)
    stored = [Stored(1, envelope(1))]

    events = caught_up(session, pulled(after_welcome), *stored)

    assert events == [Received(stored, from_page=True), CursorAdvanced(1), UpToDate()]
    assert session.up_to_date
    later = relay_says(session, Live([Stored(2, envelope(2))]))
    assert UpToDate() not in later
    assert sent(session) == []


def test_an_empty_last_page_leaves_the_cursor_where_it_was() -> None:
    session, after_welcome = signed_in(cursor=12)

    events = caught_up(session, pulled(after_welcome))

    assert events == [UpToDate()]
    assert session.cursor == 12


def test_live_events_are_passed_on_and_advance_the_cursor_when_contiguous() -> None:
    session, after_welcome = signed_in(cursor=5)
    caught_up(session, pulled(after_welcome))
    live = [Stored(6, envelope(6)), Stored(7, envelope(7))]

    events = relay_says(session, Live(live))

    assert events == [Received(live, from_page=False), CursorAdvanced(7)]


def test_the_cursor_never_moves_past_a_gap_until_an_ack_of_our_own_event_fills_it() -> None:
    session, after_welcome = signed_in(cursor=5, outbox=[envelope(6)])
    [push] = pushes(after_welcome)
    caught_up(session, pulled(after_welcome))
    partner_event = [Stored(7, envelope(7))]

    on_live = relay_says(session, Live(partner_event))

    assert on_live == [Received(partner_event, from_page=False)]
    assert session.cursor == 5  # seq 6 is not known yet: a reconnect must not skip it
    on_ack = relay_says(session, Acked(req=push.req, acks=[Ack(event_id(6), 6)]))
    assert on_ack == [Acknowledged([Ack(event_id(6), 6)]), CursorAdvanced(7), UpToDate()]
    assert session.cursor == 7


def test_a_live_event_from_before_the_cursor_does_not_move_it_back() -> None:
    session, after_welcome = signed_in(cursor=10)
    caught_up(session, pulled(after_welcome))

    events = relay_says(session, Live([Stored(4, envelope(4))]))

    assert events == [Received([Stored(4, envelope(4))], from_page=False)]
    assert session.cursor == 10


# --- pushing ------------------------------------------------------------------------------


def test_welcome_pushes_the_outbox_in_batches_with_a_bounded_number_in_flight() -> None:
    outbox = [envelope(n) for n in range(1, 11)]

    _, after_welcome = signed_in(outbox=outbox, push_batch=3, in_flight=2)

    assert [p.envelopes for p in pushes(after_welcome)] == [outbox[0:3], outbox[3:6]]


def test_each_ack_is_reported_and_frees_a_slot_for_the_next_batch() -> None:
    outbox = [envelope(n) for n in range(1, 8)]
    session, after_welcome = signed_in(outbox=outbox, push_batch=3, in_flight=2)
    first, second = pushes(after_welcome)
    caught_up(session, pulled(after_welcome))

    events = relay_says(
        session, Acked(req=first.req, acks=[Ack(event_id(n), n) for n in (1, 2, 3)])
    )

    assert events == [Acknowledged([Ack(event_id(n), n) for n in (1, 2, 3)]), CursorAdvanced(3)]
    [third] = pushes(sent(session))
    assert third.envelopes == outbox[6:7]
    relay_says(session, Acked(req=second.req, acks=[Ack(event_id(n), n) for n in (4, 5, 6)]))
    assert sent(session) == []


def test_up_to_date_is_reported_exactly_once_when_pages_are_done_and_every_push_is_acked() -> None:
    outbox = [envelope(1), envelope(2)]
    session, after_welcome = signed_in(outbox=outbox, push_batch=1, in_flight=2)
    first, second = pushes(after_welcome)

    on_last_page = caught_up(session, pulled(after_welcome))
    on_first_ack = relay_says(session, Acked(req=first.req, acks=[Ack(event_id(1), 1)]))
    on_second_ack = relay_says(session, Acked(req=second.req, acks=[Ack(event_id(2), 2)]))
    on_live = relay_says(session, Live([Stored(3, envelope(3))]))

    assert UpToDate() not in on_last_page + on_first_ack
    assert on_second_ack[-1] == UpToDate()
    assert UpToDate() not in on_live


def test_pushes_are_split_to_stay_under_the_frame_size_a_relay_accepts() -> None:
    big = [bytes(MAX_PUSH_BYTES // 2 + 1) for _ in range(3)]

    _, after_welcome = signed_in(outbox=big, push_batch=200, in_flight=4)

    assert [len(p.envelopes) for p in pushes(after_welcome)] == [1, 1, 1]


def test_events_queued_while_ready_are_pushed_at_once() -> None:
    session, after_welcome = signed_in()
    caught_up(session, pulled(after_welcome))

    session.queue([envelope(1)])

    [push] = pushes(sent(session))
    assert push.envelopes == [envelope(1)]
    assert not session.up_to_date
    events = relay_says(session, Acked(req=push.req, acks=[Ack(event_id(1), 1)]))
    assert UpToDate() in events


def test_events_queued_before_welcome_wait_for_it() -> None:
    session = new_session()
    sent(session)

    session.queue([envelope(1)])

    assert pushes(sent(session)) == []
    relay_says(session, Challenge(nonce=NONCE))
    relay_says(session, Welcome(head=0))
    assert [p.envelopes for p in pushes(sent(session))] == [[envelope(1)]]


def test_a_refused_push_is_reported_with_its_envelope_and_stops_further_pushes() -> None:
    outbox = [envelope(1), envelope(2), envelope(3)]
    session, after_welcome = signed_in(outbox=outbox, push_batch=2, in_flight=1)
    [push] = pushes(after_welcome)

    events = relay_says(
        session, Error(code="chain_gap", detail="seq 2 skips ahead", req=push.req, index=1)
    )

    assert events == [PushRefused("chain_gap", "seq 2 skips ahead", envelope(2))]
    assert session.state is State.READY
    assert pushes(sent(session)) == []
    session.queue([envelope(4)])
    assert pushes(sent(session)) == []


def test_a_refused_push_still_lets_the_session_finish_pulling_and_report_up_to_date() -> None:
    session, after_welcome = signed_in(outbox=[envelope(1)])
    [push] = pushes(after_welcome)
    relay_says(session, Error(code="bad_signature", detail="no", req=push.req, index=0))

    events = caught_up(session, pulled(after_welcome))

    assert events == [UpToDate()]


# --- failures -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["device_revoked", "unknown_space", "shutting_down"])
def test_a_fatal_error_fails_the_session_and_closes_it(code: str) -> None:
    session, after_welcome = signed_in(outbox=[envelope(1)])

    events = relay_says(session, Error(code=code, detail="you cannot sync here"))

    assert events == [SessionFailed(code, "you cannot sync here")]
    assert session.state is State.CLOSED
    assert not session.up_to_date
    assert (
        relay_says(session, Page(req=pulled(after_welcome).req, events=[], more=False, head=0))
        == []
    )


def test_an_error_with_a_code_this_app_does_not_know_fails_the_session() -> None:
    session, _ = signed_in()

    events = relay_says(session, Error(code="brand_new_code", detail="from the future"))

    assert events == [SessionFailed("brand_new_code", "from the future")]


def test_garbage_from_the_relay_fails_the_session_instead_of_crashing() -> None:
    session, _ = signed_in()

    events = session.receive(b"\xc1\xff not msgpack")

    assert_failed(events, session, "bad_relay_frame")


def test_a_message_type_the_protocol_does_not_have_fails_the_session() -> None:
    session, _ = signed_in()

    events = session.receive(encode_message(Hello(space_id=SPACE_ID, device_id=DEVICE.device_id)))

    assert_failed(events, session, "bad_relay_frame")


def test_a_page_before_welcome_is_out_of_turn_and_fails_the_session() -> None:
    session = new_session()
    sent(session)
    relay_says(session, Challenge(nonce=NONCE))

    events = relay_says(session, Page(req=1, events=[], more=False, head=0))

    assert_failed(events, session, "unexpected_relay_message")


def test_a_second_challenge_is_out_of_turn_and_fails_the_session() -> None:
    session, _ = signed_in()

    events = relay_says(session, Challenge(nonce=NONCE))

    assert_failed(events, session, "unexpected_relay_message")
    assert sent(session) == []


def test_an_ack_for_a_push_never_sent_fails_the_session() -> None:
    session, _ = signed_in()

    events = relay_says(session, Acked(req=999, acks=[Ack(event_id(1), 1)]))

    assert_failed(events, session, "unexpected_relay_message")


def test_a_page_nobody_asked_for_fails_the_session() -> None:
    session, after_welcome = signed_in()
    caught_up(session, pulled(after_welcome))

    events = relay_says(session, Page(req=77, events=[], more=False, head=0))

    assert_failed(events, session, "unexpected_relay_message")


_MSGPACK_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
_RELAY_SHAPED = st.builds(
    lambda tag, fields: msgspec.msgpack.encode({**fields, "type": tag}),
    st.sampled_from(["challenge", "welcome", "acked", "page", "live", "error", "mystery"]),
    st.dictionaries(
        st.sampled_from(["nonce", "head", "req", "acks", "events", "more", "code", "detail"]),
        _MSGPACK_VALUES,
        max_size=5,
    ),
)


@settings(max_examples=150, deadline=None)
@given(frames=st.lists(st.binary(max_size=64) | _RELAY_SHAPED, min_size=1, max_size=4))
def test_no_frame_from_the_relay_makes_the_session_raise(frames: list[bytes]) -> None:
    session, _ = signed_in(outbox=[envelope(1)])

    for frame in frames:
        events = session.receive(frame)
        assert all(isinstance(e, get_args(SessionEvent)) for e in events)
        session.data_to_send()

    if session.state is not State.CLOSED:
        assert session.state is State.READY


# --- reported defects ------------------------------------------------------------------------


def test_a_fatal_error_answering_a_push_fails_the_session() -> None:
    # The relay answers a push it could not commit (shutting_down, internal_error) with
    # Error(code, req=push.req) and then closes. The session treats any error that names
    # an in-flight push as a refusal of that push, stays READY, halts pushing and, once
    # the pull is done, reports UpToDate: the shell closes calmly and the sync "succeeds"
    # with unsent events, instead of saying the relay is restarting.
    session, after_welcome = signed_in(outbox=[envelope(1)])
    [push] = pushes(after_welcome)
    caught_up(session, pulled(after_welcome))

    events = relay_says(session, Error(code="shutting_down", detail="restarting", req=push.req))

    assert events == [SessionFailed("shutting_down", "restarting")]
    assert session.state is State.CLOSED


def test_an_error_answering_a_pull_fails_the_session_instead_of_waiting_forever() -> None:
    # bad_cursor and rate_limited do not close the connection, and answer a Pull by its
    # req. The session only matches error reqs against pushes, so it reports a
    # PushRefused for a pull, keeps waiting for a Page that never comes and never
    # reaches UpToDate: `trellis sync` hangs until its timeout.
    session, after_welcome = signed_in(cursor=500)
    pull = pulled(after_welcome)

    events = relay_says(
        session, Error(code="bad_cursor", detail="cursor is beyond the head", req=pull.req)
    )

    assert len(events) == 1
    assert isinstance(events[0], SessionFailed)
    assert events[0].code == "bad_cursor"


def test_invalid_utf8_from_the_relay_fails_the_session_instead_of_crashing() -> None:
    session, _ = signed_in()
    frame = b"\x83\xa4type\xa5error\xa4code\xa2\xff\xfe\xa6detail\xa1x"
    assert_failed(session.receive(frame), session, "bad_relay_frame")
