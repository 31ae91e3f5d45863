"""The sync session state machine, fed messages and asserted on actions: no sockets."""

from __future__ import annotations

import msgspec
import pytest

from schemas import PROTOCOL_VERSION
from schemas.errors import CLOSE_AUTH, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_PROTOCOL, ErrorCode
from schemas.ids import SpaceId
from schemas.protocol import (
    Ack,
    Acked,
    Authenticate,
    Challenge,
    ClientMessage,
    Error,
    Hello,
    Page,
    Pull,
    Push,
    Stored,
    Welcome,
    auth_transcript,
    encode_message,
)
from server.errors import RelayError
from server.ingest import Accepted, Rejection
from server.session import (
    Action,
    Close,
    FetchPage,
    LookUpDevice,
    Send,
    SessionLimits,
    StartSync,
    State,
    SubmitPush,
    SyncSession,
    split_events,
)
from server.store import EventPage, EventRow, Membership
from tests.server.helpers import Device, new_space_id

HOST = "relay.example:8765"
NONCE = bytes(range(32))
LIMITS = SessionLimits(max_frame_bytes=64 * 1024, max_batch_envelopes=3, max_envelope_bytes=4096)


def new_session() -> SyncSession:
    return SyncSession(HOST, LIMITS, random_bytes=lambda n: NONCE[:n])


def feed(session: SyncSession, message: ClientMessage) -> list[Action]:
    return session.receive_bytes(encode_message(message))


def error_of(actions: list[Action]) -> Error:
    assert actions, "expected an Error"
    first = actions[0]
    assert isinstance(first, Send), actions
    assert isinstance(first.message, Error), actions
    return first.message


def assert_fails(actions: list[Action], code: ErrorCode, close: int | None) -> None:
    assert error_of(actions).code == code.value
    closes = [a.code for a in actions if isinstance(a, Close)]
    assert closes == ([close] if close is not None else []), actions


def signed_in(device: Device | None = None, space_id: SpaceId | None = None) -> SyncSession:
    device = device or Device()
    space_id = space_id or new_space_id()
    session = new_session()
    assert feed(session, Hello(space_id=space_id, device_id=device.device_id)) == [
        LookUpDevice(space_id, device.device_id)
    ]
    assert session.device_checked(Membership.ACTIVE) == [Send(Challenge(nonce=NONCE))]
    signature = device.sign(auth_transcript(HOST, space_id, device.device_id, NONCE))
    assert feed(session, Authenticate(signature=signature)) == [
        StartSync(space_id, device.device_id)
    ]
    assert session.started(7) == [Send(Welcome(head=7))]
    assert session.state is State.READY
    return session


def test_sign_in_goes_hello_challenge_authenticate_welcome() -> None:
    signed_in()


def test_the_first_message_must_be_hello() -> None:
    session = new_session()
    assert_fails(feed(session, Pull(req=1)), ErrorCode.NOT_AUTHENTICATED, CLOSE_AUTH)
    assert session.state is State.CLOSED


def test_push_before_authentication_is_not_authenticated() -> None:
    session = new_session()
    feed(session, Hello(space_id=new_space_id(), device_id=Device().device_id))
    session.device_checked(Membership.ACTIVE)
    assert_fails(feed(session, Push(req=1, envelopes=[])), ErrorCode.NOT_AUTHENTICATED, CLOSE_AUTH)


def test_another_protocol_version_is_unsupported() -> None:
    hello = Hello(
        space_id=new_space_id(), device_id=Device().device_id, version=PROTOCOL_VERSION + 1
    )
    assert_fails(feed(new_session(), hello), ErrorCode.UNSUPPORTED_VERSION, CLOSE_PROTOCOL)


@pytest.mark.parametrize(
    ("membership", "code", "close"),
    [
        (Membership.NO_SPACE, ErrorCode.UNKNOWN_SPACE, CLOSE_NOT_FOUND),
        (Membership.UNKNOWN_DEVICE, ErrorCode.UNKNOWN_DEVICE, CLOSE_FORBIDDEN),
        (Membership.REVOKED, ErrorCode.DEVICE_REVOKED, CLOSE_FORBIDDEN),
    ],
)
def test_only_an_active_device_of_a_known_space_gets_a_challenge(
    membership: Membership, code: ErrorCode, close: int
) -> None:
    session = new_session()
    feed(session, Hello(space_id=new_space_id(), device_id=Device().device_id))
    assert_fails(session.device_checked(membership), code, close)


def test_a_signature_over_another_host_fails() -> None:
    device, space_id = Device(), new_space_id()
    session = new_session()
    feed(session, Hello(space_id=space_id, device_id=device.device_id))
    session.device_checked(Membership.ACTIVE)
    other = device.sign(auth_transcript("evil.example", space_id, device.device_id, NONCE))
    assert_fails(feed(session, Authenticate(signature=other)), ErrorCode.AUTH_FAILED, CLOSE_AUTH)


def test_a_signature_by_another_key_fails() -> None:
    device, space_id = Device(), new_space_id()
    session = new_session()
    feed(session, Hello(space_id=space_id, device_id=device.device_id))
    session.device_checked(Membership.ACTIVE)
    forged = Device().sign(auth_transcript(HOST, space_id, device.device_id, NONCE))
    assert_fails(feed(session, Authenticate(signature=forged)), ErrorCode.AUTH_FAILED, CLOSE_AUTH)


def test_a_second_hello_after_sign_in_is_already_authenticated() -> None:
    session = signed_in()
    hello = Hello(space_id=new_space_id(), device_id=Device().device_id)
    assert_fails(feed(session, hello), ErrorCode.ALREADY_AUTHENTICATED, CLOSE_PROTOCOL)


def test_timeout_before_sign_in_closes_and_after_is_ignored() -> None:
    assert_fails(new_session().auth_timed_out(), ErrorCode.AUTH_TIMEOUT, CLOSE_AUTH)
    assert signed_in().auth_timed_out() == []


@pytest.mark.parametrize(
    "frame", [b"", b"\xc1", b"\x82\xa4type", b"\x01", msgspec.msgpack.encode({"no": "type"})]
)
def test_garbage_and_truncated_frames_are_malformed(frame: bytes) -> None:
    assert_fails(new_session().receive_bytes(frame), ErrorCode.MALFORMED_FRAME, CLOSE_PROTOCOL)


def test_a_known_type_with_bad_fields_is_malformed() -> None:
    frame = msgspec.msgpack.encode({"type": "hello", "space_id": b"short", "device_id": b""})
    assert_fails(new_session().receive_bytes(frame), ErrorCode.MALFORMED_FRAME, CLOSE_PROTOCOL)


def test_an_unknown_type_is_unknown_message() -> None:
    frame = msgspec.msgpack.encode({"type": "subscribe", "topic": 1})
    assert_fails(new_session().receive_bytes(frame), ErrorCode.UNKNOWN_MESSAGE, CLOSE_PROTOCOL)


def test_a_text_frame_is_malformed() -> None:
    assert_fails(new_session().receive_text("hello"), ErrorCode.MALFORMED_FRAME, CLOSE_PROTOCOL)


def test_an_oversized_frame_closes_with_1009() -> None:
    frame = b"\x00" * (LIMITS.max_frame_bytes + 1)
    assert_fails(new_session().receive_bytes(frame), ErrorCode.FRAME_TOO_LARGE, 1009)


def test_after_closing_the_session_ignores_everything() -> None:
    session = new_session()
    session.receive_text("x")
    assert session.receive_bytes(b"\xc1") == []
    assert session.push_finished(1, Accepted([], [])) == []


def test_too_many_envelopes_is_batch_too_large_and_stays_open() -> None:
    session = signed_in()
    actions = feed(session, Push(req=9, envelopes=[b"x"] * 4))
    assert_fails(actions, ErrorCode.BATCH_TOO_LARGE, None)
    assert error_of(actions).req == 9
    assert session.state is State.READY


def test_a_push_with_a_bad_envelope_names_req_and_index_and_stays_open() -> None:
    device, space_id = Device(), new_space_id()
    session = signed_in(device, space_id)
    actions = feed(session, Push(req=4, envelopes=[device.envelope(space_id), b"junk"]))
    error = error_of(actions)
    assert (error.code, error.req, error.index) == (ErrorCode.BAD_ENVELOPE.value, 4, 1)
    assert session.state is State.READY


def test_a_valid_push_is_submitted_then_acknowledged() -> None:
    device, space_id = Device(), new_space_id()
    session = signed_in(device, space_id)
    raw = device.envelope(space_id)
    [action] = feed(session, Push(req=5, envelopes=[raw]))
    assert isinstance(action, SubmitPush)
    assert (action.space_id, action.req, len(action.envelopes)) == (space_id, 5, 1)
    ack = Ack(action.envelopes[0].event_id, 8)
    assert session.push_finished(5, Accepted([ack], [])) == [Send(Acked(req=5, acks=[ack]))]


def test_an_empty_push_is_acknowledged_at_once() -> None:
    assert feed(signed_in(), Push(req=2, envelopes=[])) == [Send(Acked(req=2, acks=[]))]


def test_a_rejected_push_keeps_the_connection_open() -> None:
    session = signed_in()
    actions = session.push_finished(3, Rejection(ErrorCode.CHAIN_GAP, "gap", 2))
    error = error_of(actions)
    assert (error.code, error.req, error.index) == (ErrorCode.CHAIN_GAP.value, 3, 2)
    assert session.state is State.READY


def test_a_failed_commit_is_internal_error_and_closes() -> None:
    session = signed_in()
    actions = session.push_finished(3, RelayError(ErrorCode.INTERNAL_ERROR))
    assert_fails(actions, ErrorCode.INTERNAL_ERROR, 1011)


def test_a_pull_fetches_a_page_within_the_frame_budget() -> None:
    space_id = new_space_id()
    session = signed_in(space_id=space_id)
    [action] = feed(session, Pull(req=6, after=10, limit=100))
    assert isinstance(action, FetchPage)
    assert (action.space_id, action.req, action.after, action.limit) == (space_id, 6, 10, 100)
    assert 0 < action.max_bytes < LIMITS.max_frame_bytes
    page = EventPage([EventRow(11, b"e11")], more=True, head=20)
    assert session.page_fetched(6, page) == [
        Send(Page(req=6, events=[Stored(11, b"e11")], more=True, head=20))
    ]


def test_a_shell_error_always_closes() -> None:
    actions = signed_in().fail(ErrorCode.RATE_LIMITED, "too slow", close_code=4029)
    assert_fails(actions, ErrorCode.RATE_LIMITED, 4029)


def test_split_events_fits_frames_and_keeps_order() -> None:
    events = [Stored(i, b"x" * 100) for i in range(1, 11)]
    runs = list(split_events(events, 400))
    assert [e for run in runs for e in run] == events
    assert all(1 <= len(run) <= 3 for run in runs)
    assert list(split_events([Stored(1, b"y" * 1000)], 10)) == [[Stored(1, b"y" * 1000)]]


# --- limits ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_pushes_beyond_the_burst_are_rate_limited_and_the_connection_stays_open() -> None:
    device, space_id, clock = Device(), new_space_id(), Clock()
    session = SyncSession(
        HOST,
        SessionLimits(
            max_frame_bytes=64 * 1024,
            max_batch_envelopes=3,
            max_envelope_bytes=4096,
            max_pushes_per_s=2.0,
            push_burst=2,
        ),
        random_bytes=lambda n: NONCE[:n],
        clock=clock,
    )
    assert feed(session, Hello(space_id=space_id, device_id=device.device_id))
    session.device_checked(Membership.ACTIVE)
    feed(
        session,
        Authenticate(
            signature=device.sign(auth_transcript(HOST, space_id, device.device_id, NONCE))
        ),
    )
    session.started(0)
    assert feed(session, Push(req=1, envelopes=[])) == [Send(Acked(req=1, acks=[]))]
    assert feed(session, Push(req=2, envelopes=[])) == [Send(Acked(req=2, acks=[]))]
    actions = feed(session, Push(req=3, envelopes=[device.envelope(space_id)]))
    assert_fails(actions, ErrorCode.RATE_LIMITED, None)
    assert error_of(actions).req == 3
    assert session.state is State.READY
    clock.now += 0.5
    assert feed(session, Push(req=4, envelopes=[])) == [Send(Acked(req=4, acks=[]))]


def test_with_public_hosts_a_sign_in_under_another_host_is_wrong_host() -> None:
    limits = SessionLimits(
        max_frame_bytes=64 * 1024,
        max_batch_envelopes=3,
        max_envelope_bytes=4096,
        public_hosts=frozenset({"relay.example.org"}),
    )
    device, space_id = Device(), new_space_id()
    hello = Hello(space_id=space_id, device_id=device.device_id)
    refused = SyncSession("evil.example", limits, random_bytes=lambda n: NONCE[:n])
    actions = feed(refused, hello)
    assert_fails(actions, ErrorCode.WRONG_HOST, CLOSE_AUTH)
    assert "relay.example.org" in error_of(actions).detail
    for host in ("relay.example.org", "Relay.Example.ORG"):
        allowed = SyncSession(host, limits, random_bytes=lambda n: NONCE[:n])
        assert feed(allowed, hello) == [LookUpDevice(space_id, device.device_id)]
