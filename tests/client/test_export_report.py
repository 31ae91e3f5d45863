"""The report a therapist reads (client/export/html.py, client/export/summary.py,
docs/PROTOCOL.md "Exports", "The report a therapist reads").

The story: Alex and Blake agree on phones at dinner; Blake declines "Money talk" with a
reason Blake has not consented to share; Alex withdraws "Late nights" while Blake,
not having seen it, accepts it (no effect); Alex keeps a recovery plan; both agree a
Sunday window. Alex exports all of it for Dr. Rivera.
"""

from __future__ import annotations

import html
import re

import msgspec
import pytest

from client.core.verify import VerifiedEvent
from client.export import build_export, choose_with_consent, render_html, verify_export
from client.keys import crypto
from client.views.fold import causal_order
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementWithdrawn,
    CircleItem,
    ExportConsented,
    ThreeCircles,
    Window,
)
from tests.client.builders import EPOCH_KEYS, SPACE_ID, START_MS, Built, new_verifier, paired

DAY_MS = 86_400_000
CREATED_AT_MS = START_MS + DAY_MS
REASON = "Not while we are in crisis"


def _story() -> tuple[str, Built]:
    pair = paired()
    alex, blake = pair.alex, pair.blake
    built = list(pair.membership)

    def add(b: Built) -> Built:
        built.append(b)
        return b

    dinner = add(
        alex.write(
            AgreementProposed(
                title="Phones away at dinner",
                clauses=["No phones at the table", "Say so when it is hard"],
                binds=["both", "me"],
                review_on="2027-03-01",
            ),
            deps=[pair.joined],
        )
    )
    yes = add(blake.write(AgreementAccepted(version=dinner.event_id), deps=[dinner]))
    money = add(
        alex.write(
            AgreementProposed(
                title="Money talk", clauses=["Share statements"], review_on="2027-02-01"
            ),
            deps=[yes],
        )
    )
    no = add(blake.write(AgreementDeclined(version=money.event_id, reason=REASON), deps=[money]))
    late = add(
        alex.write(
            AgreementProposed(
                title="Late nights", clauses=["Home by 23:00"], review_on="2027-02-01"
            ),
            deps=[no],
        )
    )
    withdrew = add(alex.write(AgreementWithdrawn(version=late.event_id), deps=[late]))
    unaware = add(blake.write(AgreementAccepted(version=late.event_id), deps=[late]))
    plan = add(
        alex.write(
            AgreementProposed(
                title="My recovery plan",
                clauses=["I keep my plan"],
                kind="recovery_plan",
                circles=ThreeCircles(
                    items=[
                        CircleItem(
                            circle="inner",
                            text="No pornography",
                            definition="any explicit material",
                        ),
                        CircleItem(
                            circle="middle", text="Scrolling late at night", type="warning_sign"
                        ),
                        CircleItem(circle="outer", text="Evening walks"),
                    ]
                ),
            ),
            deps=[unaware, withdrew],
        )
    )
    window = add(
        alex.write(
            AgreementProposed(
                title="Weekly talk",
                clauses=["We talk about money"],
                kind="window",
                window=Window(weekday=6, time="19:00", topic="finances", tz="Europe/London"),
                review_on="2027-03-01",
            ),
            deps=[plan],
        )
    )
    last = add(blake.write(AgreementAccepted(version=window.event_id), deps=[window]))
    verifier = new_verifier()
    events: list[VerifiedEvent] = []
    for b in built:
        outcome = verifier.admit(b.data)
        assert outcome.event is not None, (outcome.code, outcome.reason)
        events.append(outcome.event)
    events = causal_order(events)
    asked = ExportConsented(
        recipient="Dr. Rivera",
        purpose="Our session on 12 January",
        expires_at=CREATED_AT_MS + 30 * DAY_MS,
    )
    kept, left_out = choose_with_consent(
        space_id=SPACE_ID,
        events=events,
        chosen={e.event_id for e in events},
        exporter=alex.device_id,
        declaration=asked,
        created_at_ms=CREATED_AT_MS,
    )
    declaration = alex.write(msgspec.structs.replace(asked, left_out=left_out), deps=[last])
    outcome = verifier.admit(declaration.data)
    assert outcome.event is not None
    document = build_export(
        space_id=SPACE_ID,
        events=causal_order([*events, outcome.event]),
        chosen=kept | {declaration.event_id},
        events_key_for_epoch=lambda epoch: crypto.events_key_for(EPOCH_KEYS[epoch]),
        exporter=alex.device,
        title="Agreements for Dr. Rivera",
        created_at_ms=CREATED_AT_MS,
    )
    return render_html(document), dinner


@pytest.fixture(scope="module")
def story() -> tuple[str, Built]:
    return _story()


def _text(page: str) -> str:
    """The words a reader sees, tags dropped."""
    stripped = re.sub(r"<[^>]+>", " ", page.split("<script", 1)[0])
    return re.sub(r"\s+", " ", html.unescape(stripped))


def test_the_rendered_report_starts_with_who_it_is_for_and_the_summary(
    story: tuple[str, Built],
) -> None:
    report, _ = story
    body = report.split("<body>", 1)[1]
    assert body.index('class="notice"') < body.index('id="summary"') < body.index('id="events"')
    assert body.index('id="events"') < body.index('id="appendix"') < body.index('id="verify"')
    notice = _text(body[: body.index('id="summary"')])
    assert "For Dr. Rivera" in notice
    assert "Our session on 12 January" in notice
    assert "To be used until 2026-01-31" in notice or "To be used until" in notice
    assert "not a complete record" in notice
    assert "proof" not in notice.lower()
    assert "Safety number" not in notice


def test_the_summary_says_where_each_agreement_stands_in_words(story: tuple[str, Built]) -> None:
    report, dinner = story
    summary = _text(report.split('id="summary"', 1)[1].split('id="events"', 1)[0])
    assert "Phones away at dinner" in summary
    assert f"{dinner.event_id.hex()[:8]}" in summary
    assert "in force" in summary
    assert "proposed by Alex, accepted by Blake" in summary
    assert "review due on 2027-03-01" in summary
    assert "(binds both)" in summary
    assert "(binds Alex)" in summary
    assert "Blake declined, as Alex's device records it; their words are left out" in summary
    assert "withdrawn by Alex" in summary
    assert "Late nights”: Blake accepted after Alex had withdrawn; no effect" in summary
    assert "No pornography: any explicit material" in summary
    assert "Scrolling late at night" in summary
    assert "Evening walks" in summary
    assert "Sundays 19:00-20:00 (Europe/London), finances" in summary
    assert "Blake has not consented" in summary
    assert REASON not in report


def test_clauses_appear_once_and_fields_are_in_words(story: tuple[str, Built]) -> None:
    report, dinner = story
    text = _text(report)
    assert text.count("No phones at the table") == 1
    assert "Utc offset min" not in text
    assert "utc_offset_min" not in text
    assert "In recovery" not in text  # nobody said so in this story
    full = dinner.event_id.hex()
    before_appendix = report.split('id="appendix"', 1)[0]
    assert full not in _text(before_appendix)
    assert full in _text(report.split('id="appendix"', 1)[1])


def test_the_report_has_a_print_stylesheet(story: tuple[str, Built]) -> None:
    report, _ = story
    assert "@page" in report
    assert "@media print" in report


def test_the_report_verifies_byte_for_byte_and_an_edit_to_the_summary_is_caught(
    story: tuple[str, Built],
) -> None:
    report, _ = story
    data = report.encode("utf-8")
    verified, findings = verify_export(data)
    assert findings == []
    assert verified is not None
    edited = data.replace(b"withdrawn by Alex", b"withdrawn by Blake", 1)
    assert edited != data
    verified, findings = verify_export(edited)
    assert verified is None
    assert [f.code for f in findings] == ["html_altered"]
