"""The report's first page: what a therapist asks for, since a chosen date
(client/export/first_page.py, client/export/first_page_html.py; docs/PROTOCOL.md
"Exports", "The first page").

The story, on hand-built histories of real sealed envelopes: Alex (in recovery) and
Blake agree on phones at dinner (review due 2026-01-10) and a Sunday window before the
chosen date, 2026-01-06. From then on: Alex proposes "Money talk" and Blake declines
it; Alex tells a slip three days after it happened and a middle-circle risk the same
hour; Alex checks in twice (Blake's one check-in is before the date); Blake takes a
time-out and comes back, Alex takes one and does not clear it, Blake asks to stop;
Blake moves one window time; the pacing plan moves a step forward and a step back.
Each item is also folded on a history that does not have it.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from client.core.verify import Membership
from client.export import build_export, choose_with_consent, render_html, verify_export
from client.export.first_page import first_page, times_due
from client.export.first_page_doc import FirstPage
from client.export.first_page_html import told_after
from client.export.format import ExportDocument, FindingCode, encode_document, from_b64
from client.export.format import signed_bytes as export_signed_bytes
from client.keys import crypto
from schemas.intimacy import (
    PacingForwardAccepted,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingStage,
    PacingSteppedBack,
)
from schemas.payloads import Payload
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    CheckIn,
    DisclosureMade,
    ExportConsented,
    SignalCleared,
    SignalSent,
    SlipReport,
    Window,
    WindowPostponed,
)
from tests.client.builders import EPOCH_KEYS, MINUTE_MS, SPACE_ID, Built, Writer
from tests.client.test_recovery import Story, utc_ms

HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
SINCE = utc_ms(2026, 1, 6)
AS_OF = utc_ms(2026, 1, 15)
SUNDAY_11 = utc_ms(2026, 1, 11, 19)


def write(story: Story, writer: Writer, payload: Payload, at: int, **kw: int) -> Built:
    """``payload`` by ``writer``, recorded at ``at`` (dated ``occurred_at`` if given)."""
    writer.clock_ms = at - MINUTE_MS
    deps = [head for label, head in story.heads.items() if label != writer.label]
    built = writer.write(payload, deps=deps, **kw)
    story.events.append(built)
    story.heads[writer.label] = built
    return built


def before_the_date(story: Story) -> dict[str, Built]:
    alex, blake = story.alex, story.blake
    dinner = write(
        story,
        alex,
        AgreementProposed(
            title="Phones away at dinner", clauses=["No phones"], review_on="2026-01-10"
        ),
        utc_ms(2026, 1, 2),
    )
    write(story, blake, AgreementAccepted(version=dinner.event_id), utc_ms(2026, 1, 2, 1))
    window = write(
        story,
        alex,
        AgreementProposed(
            title="Weekly talk",
            clauses=["We talk"],
            kind="window",
            window=Window(weekday=6, time="19:00", topic="finances"),
        ),
        utc_ms(2026, 1, 3),
    )
    write(story, blake, AgreementAccepted(version=window.event_id), utc_ms(2026, 1, 3, 1))
    write(story, blake, CheckIn(feelings="tired"), utc_ms(2026, 1, 4))
    return {"dinner": dinner, "window": window}


STAGES = [PacingStage(title="Non-sexual closeness"), PacingStage(title="Sensate focus")]


def full_story() -> Story:
    story = Story()
    alex, blake = story.alex, story.blake
    window = before_the_date(story)["window"]
    money = write(
        story, alex, AgreementProposed(title="Money talk", clauses=["Share"]), utc_ms(2026, 1, 6, 9)
    )
    write(story, blake, AgreementDeclined(version=money.event_id), utc_ms(2026, 1, 7))
    write(
        story,
        alex,
        DisclosureMade(
            kind="slip",
            summary="I slipped",
            slip=SlipReport(
                circle="inner", support_contacted=["my sponsor"], next_steps=["call daily"]
            ),
        ),
        utc_ms(2026, 1, 9, 12),
        occurred_at=utc_ms(2026, 1, 6, 12),
    )
    write(
        story,
        alex,
        DisclosureMade(kind="slip", summary="Scrolling late", slip=SlipReport(circle="middle")),
        utc_ms(2026, 1, 10, 22, 30),
        occurred_at=utc_ms(2026, 1, 10, 22),
    )
    write(story, alex, CheckIn(feelings="hopeful"), utc_ms(2026, 1, 8))
    write(story, alex, CheckIn(feelings="calm"), utc_ms(2026, 1, 12))
    pause = write(story, blake, SignalSent(level="pause"), utc_ms(2026, 1, 8, 20))
    write(story, blake, SignalCleared(signal=pause.event_id), utc_ms(2026, 1, 8, 20, 15))
    write(story, alex, SignalSent(level="pause"), utc_ms(2026, 1, 13, 20))
    write(story, blake, SignalSent(level="stop"), utc_ms(2026, 1, 13, 21))
    write(
        story,
        blake,
        WindowPostponed(window=window.event_id, occurrence=SUNDAY_11, to=SUNDAY_11 + DAY_MS),
        utc_ms(2026, 1, 10),
    )
    plan = write(story, alex, PacingPlanProposed(stages=STAGES), utc_ms(2026, 1, 7, 10))
    write(story, blake, PacingPlanAccepted(version=plan.event_id), utc_ms(2026, 1, 7, 11))
    offer = write(
        story,
        alex,
        PacingForwardProposed(version=plan.event_id, from_stage=0),
        utc_ms(2026, 1, 8, 10),
    )
    write(story, blake, PacingForwardAccepted(offer=offer.event_id), utc_ms(2026, 1, 8, 11))
    write(story, blake, PacingSteppedBack(to_stage=0), utc_ms(2026, 1, 11, 9))
    return story


def page_of(story: Story, since: int = SINCE) -> FirstPage:
    events, membership = story.admitted()
    return first_page(events, *_members(membership), since=since, as_of=AS_OF)


def _members(membership: Membership) -> tuple[dict[bytes, bytes], dict[bytes, str]]:
    return (
        {bytes(d): bytes(dev.member_id) for d, dev in membership.devices.items()},
        {bytes(m): member.name for m, member in membership.members.items()},
    )


@pytest.fixture(scope="module")
def full() -> FirstPage:
    return page_of(full_story())


@pytest.fixture(scope="module")
def empty() -> FirstPage:
    return page_of(Story(), since=0)


# --- the fold, item by item --------------------------------------------------------------


def test_agreement_changes_since_the_date_say_who_did_what(full: FirstPage) -> None:
    assert [(c.by, c.what, c.title) for c in full.changes] == [
        ("Alex", "proposed", "Money talk"),
        ("Blake", "declined", "Money talk"),
    ]


def test_changes_before_the_date_are_not_listed(empty: FirstPage) -> None:
    story = Story()
    before_the_date(story)
    assert page_of(story).changes == []
    assert empty.changes == []


def test_a_review_past_its_date_is_due(full: FirstPage, empty: FirstPage) -> None:
    assert [(r.title, r.review_on, r.due) for r in full.reviews] == [
        ("Phones away at dinner", "2026-01-10", True)
    ]
    assert empty.reviews == []


def test_a_slip_told_late_keeps_its_circle_and_the_time_to_tell(full: FirstPage) -> None:
    slip, risk = full.slips
    assert (slip.kind, slip.circle, slip.by) == ("slip", "inner", "Alex")
    assert slip.disclosed_at - slip.occurred_at == 3 * DAY_MS
    assert (slip.supports, slip.next_steps) == (["my sponsor"], ["call daily"])
    assert (risk.kind, risk.circle) == ("risk", "middle")
    assert risk.disclosed_at - risk.occurred_at == 30 * MINUTE_MS


def test_no_slips_fold_to_none(empty: FirstPage) -> None:
    assert empty.slips == []


def test_check_ins_are_counted_per_person_since_the_date(full: FirstPage, empty: FirstPage) -> None:
    assert [(c.by, c.count, c.last_at) for c in full.check_ins] == [
        ("Alex", 2, utc_ms(2026, 1, 12)),
        ("Blake", 0, None),
    ]
    assert [(c.by, c.count) for c in empty.check_ins] == [("Alex", 0), ("Blake", 0)]


def test_signals_say_whether_the_sender_came_back(full: FirstPage, empty: FirstPage) -> None:
    came_back, no_return, stop = full.signals
    assert (came_back.by, came_back.level, came_back.cleared_at) == (
        "Blake",
        "pause",
        utc_ms(2026, 1, 8, 20, 15),
    )
    assert came_back.returns_at == utc_ms(2026, 1, 8, 20, 20)  # 20 minutes by default
    assert (no_return.by, no_return.cleared_at) == ("Alex", None)
    assert (stop.level, stop.returns_at) == ("stop", None)
    assert empty.signals == []


def test_windows_count_the_times_due_and_the_postponed_one(
    full: FirstPage, empty: FirstPage
) -> None:
    (window,) = full.windows
    assert window.title == "Weekly talk"
    assert window.times_due == 1  # Sunday 11 January is the one Sunday from the 6th to the 15th
    assert [(p.occurrence, p.to, p.by) for p in window.postponed] == [
        (SUNDAY_11, SUNDAY_11 + DAY_MS, "Blake")
    ]
    assert empty.windows == []


def test_the_pacing_step_and_its_moves_since_the_date(full: FirstPage, empty: FirstPage) -> None:
    pacing = full.pacing
    assert pacing is not None
    assert (pacing.step, pacing.steps, pacing.step_title) == (1, 2, "Non-sexual closeness")
    assert (pacing.forward, pacing.step_backs) == (1, 1)
    assert empty.pacing is None


def test_the_date_moves_what_is_counted() -> None:
    story = full_story()
    later = page_of(story, since=utc_ms(2026, 1, 11))
    assert [s.level for s in later.signals] == ["pause", "stop"]
    assert [c.count for c in later.check_ins] == [1, 0]
    assert later.slips == []
    assert later.pacing is not None
    assert (later.pacing.forward, later.pacing.step_backs) == (0, 1)


@pytest.mark.parametrize("offset", [0, 60, -300, 330, 14 * 60, -14 * 60])
@pytest.mark.parametrize("weekday", [0, 3, 6])
def test_times_due_matches_counting_week_by_week(offset: int, weekday: int) -> None:
    window = Window(weekday=weekday, time="23:30", utc_offset_min=offset)
    local = utc_ms(2025, 12, 29, 23, 30) + (weekday * DAY_MS)  # Monday 29 December + weekday
    starts = [local - offset * MINUTE_MS + k * 7 * DAY_MS for k in range(-2, 12)]
    for start, end in [(SINCE, AS_OF), (starts[3], starts[5]), (starts[3] + 1, starts[5] + 1)]:
        assert times_due(window, start, end) == sum(1 for t in starts if start <= t < end)
    assert times_due(window, AS_OF, SINCE) == 0
    assert times_due(window, 0, 2**53 - 1) > 0  # arithmetic: no loop over the years


def test_the_time_to_tell_reads_in_plain_words() -> None:
    assert told_after(20 * MINUTE_MS) == "within the hour"
    assert told_after(5 * HOUR_MS) == "5 hours later"
    assert told_after(3 * DAY_MS + HOUR_MS) == "3 days later"


# --- in the export -----------------------------------------------------------------------


def export_of(story: Story, *, blake_consents: bool = False, since: int | None = SINCE) -> bytes:
    """Alex's export of the whole story for Dr. Rivera, as ``trellis export`` makes it."""
    asked = ExportConsented(
        recipient="Dr. Rivera", purpose="Our session", expires_at=AS_OF + 30 * DAY_MS
    )
    if blake_consents:
        write(story, story.blake, asked, AS_OF - 2 * HOUR_MS)
    events, _ = story.admitted()
    kept, left_out = choose_with_consent(
        space_id=SPACE_ID,
        events=events,
        chosen={e.event_id for e in events},
        exporter=story.alex.device_id,
        declaration=asked,
        created_at_ms=AS_OF,
    )
    declaration = write(
        story, story.alex, msgspec.structs.replace(asked, left_out=left_out), AS_OF - HOUR_MS
    )
    events, _ = story.admitted()
    return build_export(
        space_id=SPACE_ID,
        events=events,
        chosen=kept | {declaration.event_id},
        events_key_for_epoch=lambda epoch: crypto.events_key_for(EPOCH_KEYS[epoch]),
        exporter=story.alex.device,
        title="For Dr. Rivera",
        created_at_ms=AS_OF,
        since_ms=since,
    )


@pytest.fixture(scope="module")
def exported() -> bytes:
    return export_of(full_story())


def _first_page(page: str) -> str:
    """The words of the first page, tags dropped."""
    section = page.split('<section id="first-page">', 1)[1].split("</section>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_the_export_carries_the_first_page_and_verify_export_recomputes_it(
    exported: bytes,
) -> None:
    verified, findings = verify_export(exported)
    assert findings == []
    assert verified is not None
    page = verified.first_page
    assert page is not None
    assert (page.since, page.as_of) == (SINCE, AS_OF)
    assert [c.count for c in page.check_ins] == [2, 0]
    assert b'"summary":{"since":' in exported


def test_the_partners_words_count_only_with_their_consent() -> None:
    """Blake's check-in after the date holds Blake's words: without Blake's consent it is
    left out, and the first page cannot count it; with it, it is counted."""

    def blake_checks_in() -> Story:
        story = full_story()
        write(story, story.blake, CheckIn(feelings="worn out"), utc_ms(2026, 1, 14))
        return story

    without, _ = verify_export(export_of(blake_checks_in()))
    with_consent, _ = verify_export(export_of(blake_checks_in(), blake_consents=True))
    assert without is not None
    assert without.first_page is not None
    assert with_consent is not None
    assert with_consent.first_page is not None
    assert [c.count for c in without.first_page.check_ins] == [2, 0]
    assert [c.count for c in with_consent.first_page.check_ins] == [2, 1]


def test_by_default_the_page_starts_with_what_is_exported() -> None:
    verified, _ = verify_export(export_of(full_story(), since=None))
    assert verified is not None
    assert verified.first_page is not None
    assert verified.first_page.since == min(e.recorded_at for e in verified.revealed)
    assert "(the start of this export)" in _first_page(
        render_html(export_of(full_story(), since=None))
    )


def test_the_report_opens_with_the_first_page_in_calm_words(exported: bytes) -> None:
    page = render_html(exported)
    assert page.index('id="first-page"') < page.index('id="summary"') < page.index('id="events"')
    first = _first_page(page)
    assert "Since 2026-01-06 00:00 UTC" in first
    assert "Alex proposed “Money talk”" in first
    assert "Blake declined “Money talk”" in first
    assert "“Phones away at dinner”: review due (since 2026-01-10)" in first
    assert (
        "A slip in the inner circle on 2026-01-06 12:00 UTC, shared by Alex 3 days later" in first
    )
    assert "Support: my sponsor. Next steps: call daily." in first
    assert "A risk report in the middle circle" in first
    assert "within the hour" in first
    assert "Alex: 2 check-ins" in first
    assert "Blake: none in this export" in first
    assert "Blake took a time-out, to return at 2026-01-08 20:20 UTC. Blake came back" in first
    assert (
        "Alex took a time-out, to return at 2026-01-13 20:20 UTC. This export does not show "
        "the return: Alex has not cleared it here." in first
    )
    assert "Blake asked to stop. A stop owes no return." in first
    assert "“Weekly talk”: due 1 time; the time on 2026-01-11 19:00 UTC was moved" in first
    assert (
        "Step 1 of 2: “Non-sexual closeness”. In this period: 1 step forward, 1 step back" in first
    )
    for word in ("late", "failed", "violation", "missed", "overdue"):
        assert word not in first.lower().replace("later", "")


def test_a_history_without_the_items_says_so_in_one_line_each() -> None:
    story = Story()
    first = _first_page(render_html(export_of(story, since=None)))
    assert "No agreement was proposed, accepted, declined, withdrawn or reviewed" in first
    assert "No review is due" in first
    assert "No slip, relapse or risk report is in this export for this period." in first
    assert "Alex: none in this export" in first
    assert "Blake: none in this export" in first
    assert "No signal was sent in this period" in first
    assert "No transparency window was in force in this period." in first
    assert "Pacing" not in first


def test_the_html_report_verifies_byte_for_byte(exported: bytes) -> None:
    page = render_html(exported).encode("utf-8")
    assert verify_export(page)[1] == []
    edited = page.replace(b"3 days later", b"3 hours later", 1)
    assert verify_export(edited)[1][0].code == FindingCode.HTML_ALTERED


def _resigned(data: bytes, keys: crypto.DeviceKeys, **changes: object) -> bytes:
    doc = msgspec.structs.replace(msgspec.json.decode(data, type=ExportDocument), **changes)
    envelopes = [[from_b64(e) or b"" for e in c.envelopes] for c in doc.chains]
    signature = keys.sign(export_signed_bytes(doc, envelopes))
    return encode_document(msgspec.structs.replace(doc, signature=signature.hex()))


def test_a_summary_that_is_not_what_the_events_say_is_refused(exported: bytes) -> None:
    """The exporter signs the summary, but cannot make it say what the events do not:
    a slip dropped, or a time-out's return made up, and signed again, is refused."""
    story = full_story()
    doc = msgspec.json.decode(exported, type=ExportDocument)
    assert doc.summary is not None
    fewer = msgspec.structs.replace(doc.summary, slips=doc.summary.slips[1:])
    came_back = [msgspec.structs.replace(s, cleared_at=s.sent_at + 1) for s in doc.summary.signals]
    for summary in (fewer, msgspec.structs.replace(doc.summary, signals=came_back)):
        _, findings = verify_export(_resigned(exported, story.alex.device, summary=summary))
        assert [(f.code, f.where) for f in findings] == [
            (FindingCode.SUMMARY_MISMATCH, "$.summary")
        ]
    # An edit without signing again breaks the signature, as any edit does.
    unsigned = encode_document(msgspec.structs.replace(doc, summary=fewer))
    assert verify_export(unsigned)[1][0].code == FindingCode.BAD_EXPORT_SIGNATURE


def test_a_version_2_export_without_its_summary_is_not_as_exported(exported: bytes) -> None:
    story = full_story()
    data = _resigned(exported, story.alex.device, summary=None)
    assert [(f.code, f.where) for f in verify_export(data)[1]] == [
        (FindingCode.BAD_DOCUMENT, "$.summary")
    ]


def test_a_version_1_report_made_before_the_first_page_still_verifies_byte_for_byte() -> None:
    """tests/client/data/export_v1_report.html was written by the previous release's
    code (test_export_report.py's story): a report once handed over keeps verifying."""
    data = (Path(__file__).parent / "data" / "export_v1_report.html").read_bytes()
    verified, findings = verify_export(data)
    assert findings == []
    assert verified is not None
    assert (verified.version, verified.first_page) == (1, None)
    assert b'id="first-page"' not in data
    assert verify_export(data.replace(b"Money talk", b"Money chat", 1))[1][0].code == (
        FindingCode.HTML_ALTERED
    )


def test_a_review_within_four_weeks_is_listed_as_coming_and_a_later_one_is_not() -> None:
    story = Story()
    soon = write(
        story,
        story.alex,
        AgreementProposed(title="Soon", clauses=["a"], review_on="2026-02-01"),
        utc_ms(2026, 1, 7),
    )
    later = write(
        story,
        story.alex,
        AgreementProposed(title="Later", clauses=["b"], review_on="2026-03-01"),
        utc_ms(2026, 1, 7, 1),
    )
    for proposal in (soon, later):
        write(story, story.blake, AgreementAccepted(version=proposal.event_id), utc_ms(2026, 1, 8))
    page = page_of(story)
    assert [(r.title, r.review_on, r.due) for r in page.reviews] == [("Soon", "2026-02-01", False)]


def test_a_recovery_plan_is_written_by_its_owner_and_read_by_the_partner() -> None:
    """The plan needs no yes (§10.3): the partner's accept is shown as having read it."""
    story = Story()
    plan = write(
        story,
        story.alex,
        AgreementProposed(title="My plan", clauses=["I keep it"], kind="recovery_plan"),
        utc_ms(2026, 1, 7),
    )
    write(story, story.blake, AgreementAccepted(version=plan.event_id), utc_ms(2026, 1, 8))
    page = page_of(story)
    assert [(c.by, c.what, c.kind) for c in page.changes] == [
        ("Alex", "proposed", "recovery_plan"),
        ("Blake", "read", "recovery_plan"),
    ]
    first = _first_page(render_html(export_of(story)))
    assert "Alex wrote the recovery plan “My plan”" in first
    assert "Blake read the recovery plan “My plan”" in first
