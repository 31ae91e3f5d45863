"""What the sync session checks of the relay's numbering (client/core/session.py, §9.6).

The session is driven with bytes, as in test_session.py: the test plays the relay."""

from __future__ import annotations

from client.core.session import (
    CursorAdvanced,
    Received,
    RelayRewound,
    SessionEvent,
    SyncSession,
    UpToDate,
)
from schemas.envelope import event_id_of
from schemas.protocol import (
    Challenge,
    ClientMessage,
    Live,
    Page,
    Pull,
    RelayMessage,
    Stored,
    Welcome,
    client_message_decoder,
    encode_message,
)
from tests.client.builders import SPACE_ID
from tests.client.test_session import DEVICE, HOST, NONCE, envelope


def says(session: SyncSession, message: RelayMessage) -> list[SessionEvent]:
    return session.receive(encode_message(message))


def sent(session: SyncSession) -> list[ClientMessage]:
    return [client_message_decoder.decode(frame) for frame in session.data_to_send()]


def the_pull(messages: list[ClientMessage]) -> Pull:
    [pull] = [m for m in messages if isinstance(m, Pull)]
    return pull


def signed_in(
    *, cursor: int, head: int, anchor: tuple[int, bytes] | None
) -> tuple[SyncSession, Pull]:
    session = SyncSession(
        space_id=SPACE_ID,
        device_id=DEVICE.device_id,
        host=HOST,
        sign=DEVICE.sign,
        cursor=cursor,
        outbox=[],
        anchor=anchor,
    )
    sent(session)
    says(session, Challenge(nonce=NONCE))
    sent(session)
    says(session, Welcome(head=head))
    return session, the_pull(sent(session))


def test_the_first_pull_starts_just_below_the_anchor_and_a_held_anchor_changes_nothing() -> None:
    anchor = (7, event_id_of(envelope(7)))
    session, pull = signed_in(cursor=7, head=8, anchor=anchor)

    assert pull.after == 6
    stored = [Stored(7, envelope(7)), Stored(8, envelope(8))]
    events = says(session, Page(req=pull.req, events=stored, more=False, head=8))

    assert events == [Received(stored, from_page=True), CursorAdvanced(8), UpToDate()]


def test_a_relay_serving_something_else_at_the_anchor_is_read_again_from_the_start() -> None:
    anchor = (7, event_id_of(envelope(7)))
    session, pull = signed_in(cursor=7, head=9, anchor=anchor)
    early_live = [Stored(9, envelope(90))]
    assert says(session, Live(early_live)) == []  # held until the anchor is checked

    events = says(
        session,
        Page(
            req=pull.req,
            events=[Stored(7, envelope(70)), Stored(8, envelope(80))],
            more=True,
            head=9,
        ),
    )

    assert events[:2] == [RelayRewound(7), CursorAdvanced(0)]
    assert Received(early_live, from_page=False) in events
    assert the_pull(sent(session)).after == 0
    assert session.cursor == 0


def test_a_last_page_that_stops_short_of_its_head_vouches_for_the_seqs_it_skipped() -> None:
    session, pull = signed_in(cursor=0, head=3, anchor=None)

    events = says(session, Page(req=pull.req, events=[Stored(1, envelope(1))], more=False, head=3))

    assert CursorAdvanced(3) in events  # seqs 2 and 3 now count as skipped by the relay


def test_the_challenge_nonce_is_kept_to_notice_one_offered_again() -> None:
    session, _ = signed_in(cursor=0, head=0, anchor=None)

    assert session.challenge == NONCE
