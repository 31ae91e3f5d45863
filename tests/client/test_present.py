"""How events and journal entries read to people (client/views/present/)."""

from __future__ import annotations

import re

import msgspec
import pytest

from client.core.verify import VerifiedEvent
from client.views.fold import causal_order, fold_journal
from client.views.present import event_json, event_summary, iso_utc, journal_json, journal_lines
from tests.client.builders import (
    Built,
    amendment,
    entry,
    fixed_bytes,
    invite_issued,
    new_verifier,
    paired,
    retraction,
)


class Names:
    """Names as the app knows them: by device and by member."""

    def __init__(self, devices: dict[bytes, str], members: dict[bytes, str]) -> None:
        self._devices, self._members = devices, members

    def author_name(self, device_id: bytes) -> str:
        return self._devices.get(device_id, "someone not in this space")

    def member_name(self, member_id: bytes) -> str:
        return self._members.get(member_id, "someone not in this space")


@pytest.fixture
def story() -> tuple[Names, dict[str, VerifiedEvent]]:
    """Every kind of event, admitted, by name."""
    pair = paired()
    written = entry(pair.alex, "We walked by the river.", deps=[pair.joined])
    amended = amendment(pair.alex, written, "We walked by the river and talked.")
    withdrawn = retraction(pair.alex, written)
    device_invite = invite_issued(pair.alex, fixed_bytes("device invite secret", 20), kind="device")
    future = pair.blake.write(
        msgspec.msgpack.encode({"type": "future_thing"}), deps=[device_invite]
    )
    built: dict[str, Built] = {
        "space_created": pair.genesis,
        "invite_issued": pair.invite,
        "member_joined": pair.joined,
        "journal_entry": written,
        "journal_amended": amended,
        "journal_retracted": withdrawn,
        "device_invite": device_invite,
        "future_thing": future,
    }
    verifier = new_verifier()
    events: dict[str, VerifiedEvent] = {}
    for name, b in built.items():
        outcome = verifier.admit(b.data)
        assert outcome.event is not None, (name, outcome)
        events[name] = outcome.event
    names = Names(
        {pair.alex.device_id: "Alex", pair.blake.device_id: "Blake"},
        {pair.alex.member_id: "Alex", pair.blake.member_id: "Blake"},
    )
    return names, events


def test_times_in_json_are_iso_8601_utc_with_milliseconds_and_a_z() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"
    assert iso_utc(1_767_225_600_123) == "2026-01-01T00:00:00.123Z"


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        ("space_created", "Alex started this shared space"),
        ("invite_issued", "Alex invited their partner"),
        ("device_invite", "Alex invited a new device"),
        ("member_joined", "Blake joined"),
        ("journal_entry", "Alex wrote in the journal: We walked by the river."),
        ("journal_amended", "Alex updated a journal entry: We walked by the river and talked."),
        (
            "journal_retracted",
            "Alex hid a journal entry from the journal (the history still shows it)",
        ),
        (
            "future_thing",
            "Blake's device wrote something this app set aside (see 'trellis status')",
        ),
    ],
)
def test_each_event_is_summarised_in_one_plain_sentence(
    story: tuple[Names, dict[str, VerifiedEvent]], kind: str, sentence: str
) -> None:
    names, events = story

    assert event_summary(events[kind], names) == sentence


def test_an_event_as_json_names_its_kind_author_and_times(
    story: tuple[Names, dict[str, VerifiedEvent]],
) -> None:
    names, events = story
    amended = events["journal_amended"]

    out = event_json(amended, names)

    assert out["kind"] == "journal_amended"
    assert out["author"] == "Alex"
    assert out["id"] == amended.event_id.hex()
    assert out["entry"] == events["journal_entry"].event_id.hex()
    assert out["text"] == "We walked by the river and talked."
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", out["recorded_at"])
    assert event_json(events["future_thing"], names)["kind"] == "invalid"


def test_a_journal_item_shows_that_it_was_updated_and_withdrawn(
    story: tuple[Names, dict[str, VerifiedEvent]],
) -> None:
    names, events = story
    verifier = new_verifier()
    for event in events.values():
        verifier.admit(event.canonical)
    [item] = fold_journal(causal_order(events.values()), verifier.membership)

    head, *body = journal_lines(item, names)
    as_json = journal_json(item, names)

    assert "Alex" in head
    assert "(updated, withdrawn)" in head
    assert body == ["    We walked by the river and talked."]
    assert as_json["amended"] is True
    assert as_json["retracted"] is True
    assert [v["text"] for v in as_json["history"]] == [
        "We walked by the river.",
        "We walked by the river and talked.",
    ]


def test_a_notice_names_who_and_what_kind_never_the_words() -> None:
    # A notice is what may show on a locked screen or live (docs/PROTOCOL.md §10.4).
    from client.views.present import notice_line
    from schemas.practices import DisclosureMade, GratitudeNoted, SignalSent

    pair = paired()
    verifier = new_verifier()
    for built in pair.membership:
        verifier.admit(built.data)
    written = [
        entry(pair.alex, "a very private line", deps=[pair.joined]),
        pair.alex.write(DisclosureMade(kind="slip", summary="secret summary", details="x")),
        pair.alex.write(GratitudeNoted(text="secret thanks")),
        pair.alex.write(SignalSent(level="pause", note="secret note")),
    ]
    names = Names({pair.alex.device_id: "Alex"}, {pair.alex.member_id: "Alex"})
    lines = []
    for built in written:
        outcome = verifier.admit(built.data)
        assert outcome.event is not None
        lines.append(notice_line(outcome.event, names).split("  ", 1)[1])

    assert lines == [
        "Alex wrote in the journal",
        "Alex shared something with you",
        "Alex noted gratitude",
        "Alex took a time-out",
    ]
    assert not any("secret" in line or "private" in line for line in lines)
