"""Property-based fuzzing of the relay's sans-I/O protocol code: every wire message and
raw bytes, in every state, never crash it and only ever produce well-formed answers
(issue #6, bad input at scale). The live-relay half is tests/relay_ops/test_fuzz_live.py."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.errors import ERRORS, ErrorCode
from schemas.ids import SpaceId
from schemas.protocol import Ack, Error, Pull, RelayMessage, encode_message, relay_message_decoder
from server.errors import RelayError
from server.ingest import Accepted, CheckedEnvelope, Rejection, check_batch, check_envelope
from server.membership import parse_device_id, parse_invite_id, parse_space_id
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
)
from server.store import EventPage, EventRow, Membership
from tests.server.frames import Frame, client_frames
from tests.server.helpers import Device, new_space_id
from tests.server.test_session import HOST, NONCE, feed, signed_in

LIMITS = SessionLimits(
    max_frame_bytes=2048,
    max_batch_envelopes=3,
    max_envelope_bytes=1024,
    max_pushes_per_s=50.0,
    push_burst=5,
)
KNOWN_CODES = {code.value for code in ErrorCode}
KNOWN_CLOSES = {info.close_code for info in ERRORS.values() if info.close_code} | {1011, 4029}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Shell:
    """Performs the session's look-ups the way sync.py would, with drawn outcomes."""

    def __init__(self, session: SyncSession, draw: st.DrawFn) -> None:
        self.session = session
        self.draw = draw
        self.closed = False

    def check(self, actions: list[Action]) -> None:
        for action in actions:
            assert not self.closed, f"{action} after the close"
            match action:
                case Send(message):
                    check_message(message)
                case Close(code):
                    assert code in KNOWN_CLOSES
                    assert self.session.state is State.CLOSED
                    self.closed = True
                case LookUpDevice():
                    self.check(self.session.device_checked(self.draw(st.sampled_from(Membership))))
                case StartSync():
                    self.check(self.session.started(self.draw(st.integers(0, 2**40))))
                case SubmitPush(_, req, envelopes):
                    outcome = self.draw(
                        st.sampled_from(
                            [
                                Accepted(
                                    [Ack(e.event_id, n + 1) for n, e in enumerate(envelopes)], []
                                ),
                                Rejection(ErrorCode.CHAIN_GAP, "gap", 0),
                                RelayError(ErrorCode.INTERNAL_ERROR),
                            ]
                        )
                    )
                    self.check(self.session.push_finished(req, outcome))
                case FetchPage(_, req, after, limit, max_bytes):
                    assert max_bytes >= 0
                    assert limit >= 1
                    page = EventPage([EventRow(after + 1, b"e")], more=False, head=after + 1)
                    self.check(self.session.page_fetched(req, page))

    def feed(self, frame: Frame) -> None:
        if isinstance(frame, str):
            actions = self.session.receive_text(frame)
        else:
            actions = self.session.receive_bytes(frame)
        if self.closed:
            assert actions == [], "a closed session answers nothing"
        self.check(actions)


def check_message(message: RelayMessage) -> None:
    """What the session sends is a well-formed relay message with a known code."""
    assert relay_message_decoder.decode(encode_message(message)) == message
    if isinstance(message, Error):
        assert message.code in KNOWN_CODES
        assert message.detail
        assert len(message.detail) < 500


@FUZZ
@given(st.data(), st.lists(client_frames(), max_size=8))
def test_frames_before_sign_in_never_crash_the_session(
    data: st.DataObject, frames: list[Frame]
) -> None:
    session = SyncSession(HOST, LIMITS, random_bytes=lambda n: NONCE[:n])
    shell = Shell(session, data.draw)
    for frame in frames:
        shell.feed(frame)
    shell.check(session.auth_timed_out())


@FUZZ
@given(st.data())
def test_frames_after_sign_in_never_crash_the_session(data: st.DataObject) -> None:
    device, space_id = Device(), new_space_id()
    session = signed_in(device, space_id)
    session.limits = LIMITS  # the fuzzed frames meet the small limits
    shell = Shell(session, data.draw)
    for frame in data.draw(st.lists(client_frames(space_id), max_size=10)):
        shell.feed(frame)
    if not shell.closed:
        shell.check(feed(session, Pull(req=1)))
    shell.check(session.fail(ErrorCode.SHUTTING_DOWN))
    assert session.state is State.CLOSED


@FUZZ
@given(st.one_of(st.binary(max_size=600), client_frames().filter(lambda f: isinstance(f, bytes))))
def test_raw_bytes_as_envelopes_are_refused_with_a_stage_one_code(raw: bytes) -> None:
    space_id = SpaceId(os.urandom(16))
    result = check_envelope(raw, space_id, 512)
    if isinstance(result, CheckedEnvelope):
        raise AssertionError("random bytes passed as a signed envelope of this space")
    code, detail = result
    assert code in {
        ErrorCode.ENVELOPE_TOO_LARGE,
        ErrorCode.BAD_ENVELOPE,
        ErrorCode.WRONG_SPACE,
        ErrorCode.BAD_SIGNATURE,
    }
    assert detail
    batch = check_batch([raw, raw], space_id, 512)
    assert isinstance(batch, Rejection)
    assert batch.index == 0


@FUZZ
@given(st.text(max_size=80))
def test_ids_from_urls_and_bodies_parse_or_are_bad_request(text: str) -> None:
    for parse in (parse_space_id, parse_invite_id, parse_device_id):
        try:
            parse(text)
        except RelayError as exc:
            code: ErrorCode | None = exc.code
        else:
            code = None
        assert code in (None, ErrorCode.BAD_REQUEST)
