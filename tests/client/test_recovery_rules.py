"""The practices as clinicians run them (issue #17, docs/PROTOCOL.md §10.4): only
inner-circle behaviour ends a sober run, a formal disclosure is a milestone without
content, a partner marks a disclosure "seen" or "I need time", and a time-out is not a
stop. Several stories are histories written under the earlier rules, which now fold
differently."""

from __future__ import annotations

from client.views.recovery import fold_milestones
from schemas.practices import (
    TIMEOUT_DEFAULT_MIN,
    TIMEOUT_MAX_MIN,
    DisclosureAcknowledged,
    DisclosureMade,
    MilestoneMarked,
    SignalSent,
    SlipReport,
)
from tests.client.test_recovery import (
    HOUR_MS,
    MINUTE_MS,
    Story,
    codes,
    counters,
    days_before,
    disclosures_of,
    noon_utc,
    signals_of,
    sobriety_of,
    start,
)


def _slip(story: Story, days_ago: int, circle: str | None, kind: str = "slip") -> object:
    report = None if circle is None else SlipReport(circle=circle)  # type: ignore[arg-type]
    payload = DisclosureMade(kind=kind, summary="I want to be honest", slip=report)  # type: ignore[arg-type]
    return story.write(story.alex, payload, occurred_at=noon_utc(days_before(days_ago)))


# --- counting: only the inner circle ends a run ---------------------------------------


def test_a_middle_circle_slip_written_under_the_old_rule_no_longer_shortens_the_run() -> None:
    # Under the old rule every slip, whatever its circle, restarted the run: (1, 9).
    story = Story()
    start(story, days_before(10))
    _slip(story, 2, "middle")

    view = sobriety_of(story)[story.alex.member_id]

    assert (view.current_run_days, view.total_sober_days) == (10, 10)
    assert view.slips == []
    assert view.risks == [days_before(2)]


def test_a_middle_circle_report_is_shown_as_a_risk_disclosure() -> None:
    story = Story()
    written = _slip(story, 2, "middle", kind="relapse")

    [view], violations = disclosures_of(story)

    assert (view.kind, view.written_kind, view.breaks_sobriety) == ("risk", "relapse", False)
    assert view.id == written.event_id  # type: ignore[attr-defined]
    assert violations == []


def test_an_inner_circle_slip_and_a_slip_naming_no_circle_end_the_run() -> None:
    story = Story()
    start(story, days_before(10))
    _slip(story, 6, None)
    _slip(story, 3, "inner", kind="relapse")

    assert counters(story) == (2, 8)
    views, _ = disclosures_of(story)
    assert [v.breaks_sobriety for v in views] == [True, True]


def test_an_outer_circle_slip_changes_no_count_and_is_reported_as_not_applied() -> None:
    story = Story()
    start(story, days_before(10))
    outer = _slip(story, 2, "outer")

    [view], violations = disclosures_of(story)

    assert counters(story) == (10, 10)
    assert (view.kind, view.breaks_sobriety) == ("slip", False)
    assert codes(violations) == [(outer.event_id, "outer_circle_slip")]  # type: ignore[attr-defined]
    assert "not a circle for a slip" in violations[0].message


# --- formal disclosure: a milestone without content -----------------------------------


def test_a_formal_disclosure_written_as_a_disclosure_folds_as_a_milestone_without_words() -> None:
    story = Story()
    old = story.write(
        story.alex,
        DisclosureMade(kind="formal_disclosure", summary="everything", details="graphic detail"),
    )
    story.write(story.alex, DisclosureMade(kind="meeting", summary="SAA meeting"))

    disclosures, _ = disclosures_of(story)
    [milestone] = fold_milestones(*story.admitted())

    assert [d.summary for d in disclosures] == ["SAA meeting"]
    assert (milestone.id, milestone.kind, milestone.title, milestone.note) == (
        old.event_id,
        "formal_disclosure",
        "Formal disclosure",
        None,
    )


def test_a_formal_disclosure_milestone_shows_no_title_or_note_of_its_own() -> None:
    story = Story()
    story.write(
        story.alex,
        MilestoneMarked(title="what I did", note="the details", kind="formal_disclosure"),
    )
    story.write(story.blake, MilestoneMarked(title="Six months", note="together"))

    shown = [(m.kind, m.title, m.note) for m in fold_milestones(*story.admitted())]

    assert shown == [
        ("formal_disclosure", "Formal disclosure", None),
        ("milestone", "Six months", "together"),
    ]


# --- "seen" and "I need time" ------------------------------------------------------------


def test_the_partner_marks_a_disclosure_i_need_time_and_later_seen() -> None:
    story = Story()
    shared = story.write(story.alex, DisclosureMade(kind="slip", summary="a slip"))

    [untouched], _ = disclosures_of(story)
    assert untouched.mark is None  # no mark is not "not yet acknowledged": nothing nags

    story.write(story.blake, DisclosureAcknowledged(disclosure=shared.event_id, mark="need_time"))
    [waiting], _ = disclosures_of(story)
    assert waiting.mark == "need_time"

    story.write(story.blake, DisclosureAcknowledged(disclosure=shared.event_id))
    [seen], _ = disclosures_of(story)
    assert seen.mark == "seen"
    assert [a.mark for a in seen.acknowledgements] == ["need_time", "seen"]


def test_marking_ones_own_disclosure_is_not_applied() -> None:
    story = Story()
    shared = story.write(story.alex, DisclosureMade(kind="slip", summary="a slip"))
    own = story.write(story.alex, DisclosureAcknowledged(disclosure=shared.event_id))

    [view], violations = disclosures_of(story)

    assert view.mark is None
    assert codes(violations) == [(own.event_id, "acknowledge_own_disclosure")]
    assert "not applied" in violations[0].message


# --- time-outs and stops -----------------------------------------------------------------


def test_a_time_out_without_a_return_time_returns_after_twenty_minutes() -> None:
    # Under the old rule a pause without `until` had no return at all.
    story = Story()
    story.write(story.alex, SignalSent(level="pause"))

    [timeout], _ = signals_of(story)

    assert (
        timeout.until
        == timeout.sent_at + TIMEOUT_DEFAULT_MIN * MINUTE_MS
        == (timeout.sent_at + 20 * MINUTE_MS)
    )


def test_a_time_out_returns_at_most_twenty_four_hours_after_it_was_sent() -> None:
    story = Story()
    story.write(story.alex, SignalSent(level="pause", until=10 * 24 * HOUR_MS + 1_767_225_600_000))

    [timeout], _ = signals_of(story)

    assert timeout.until == timeout.sent_at + TIMEOUT_MAX_MIN * MINUTE_MS
    assert timeout.until == timeout.sent_at + 24 * HOUR_MS


def test_a_stop_owes_no_return_even_when_one_was_written() -> None:
    story = Story()
    story.write(story.alex, SignalSent(level="stop", until=1_767_225_600_000 + HOUR_MS))

    [stop], _ = signals_of(story)

    assert stop.until is None
    assert not stop.return_due_for(story.alex.member_id, 1_767_225_600_000 + 48 * HOUR_MS)


def test_only_the_sender_is_reminded_when_a_time_out_is_due() -> None:
    story = Story()
    story.write(story.alex, SignalSent(level="pause", preset="will_return"))

    [timeout], _ = signals_of(story)
    due = timeout.sent_at + 20 * MINUTE_MS

    assert timeout.return_due_for(story.alex.member_id, due)
    assert not timeout.return_due_for(story.blake.member_id, due)
    assert not timeout.return_due_for(story.alex.member_id, due - 1)
    assert timeout.preset_text == "I want to come back to this."
