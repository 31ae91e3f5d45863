"""The recovery practices as views (client/views/recovery/).

The story: Alex created the space and is the partner in recovery; Blake joined to
support. Every event here is a real sealed envelope, admitted by a real verifier and
folded in causal order. The moment ("today", "now", the time zone) is always given,
never read from the clock. The last tests check that partners holding the same events
see the same views whatever order the events arrived in (DESIGN.md, "Both partners
converge").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from client.core.verify import Membership, VerifiedEvent
from client.keys import crypto
from client.views.fold import causal_order
from client.views.recovery import (
    PracticeViolation,
    SignalView,
    active_signals,
    describe_window,
    fold_checkins,
    fold_disclosures,
    fold_gratitude,
    fold_milestones,
    fold_profiles,
    fold_signals,
    fold_sobriety,
    local_date,
    next_window,
)
from schemas.ids import EventId
from schemas.payloads import JournalEntry, MemberJoined, Payload, SpaceCreated
from schemas.practices import (
    CheckIn,
    DisclosureAcknowledged,
    DisclosureKind,
    DisclosureMade,
    GratitudeNoted,
    MilestoneMarked,
    ProfileUpdated,
    SignalCleared,
    SignalSent,
    SlipReport,
    SobrietyStarted,
    Window,
)
from tests.client.builders import (
    INVITE_SECRET,
    MINUTE_MS,
    Built,
    Pair,
    Writer,
    admit_until_settled,
    fixed_bytes,
    invite_issued,
    invite_proof,
    member_joined,
    new_verifier,
)

HOUR_MS = 60 * MINUTE_MS
RECORDED_AFTER_MS = MINUTE_MS // 2
"""How long after ``occurred_at`` a story event is recorded (see :meth:`Story.write`)."""
TODAY = date(2026, 2, 1)


def utc_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def noon_utc(day: date) -> int:
    return utc_ms(day.year, day.month, day.day, 12)


def days_before(n: int, today: date = TODAY) -> date:
    return today - timedelta(days=n)


# --- the story -------------------------------------------------------------------------


def recovery_pair(*, alex_in_recovery: bool = True, blake_in_recovery: bool = False) -> Pair:
    """Alex creates the space, Blake joins, each saying whether they are in recovery."""
    alex, blake = Writer("alex", "Alex"), Writer("blake", "Blake")
    created = alex.write(
        SpaceCreated(
            member_id=alex.member_id,
            name=alex.name,
            box_key=alex.box_key,
            in_recovery=alex_in_recovery,
        )
    )
    invited = invite_issued(alex)
    joined = blake.write(
        MemberJoined(
            member_id=blake.member_id,
            name=blake.name,
            box_key=blake.box_key,
            invite_id=crypto.InviteKeys.from_secret(INVITE_SECRET).invite_id,
            proof=invite_proof(blake),
            in_recovery=blake_in_recovery,
        ),
        deps=[invited],
    )
    return Pair(alex, blake, created, invited, joined)


class Story:
    """Events written one after another, each device having seen everything before it
    (its deps are the newest event of every other device), so causal order is the
    order of writing."""

    def __init__(self, pair: Pair | None = None) -> None:
        self.pair = recovery_pair() if pair is None else pair
        self.alex, self.blake = self.pair.alex, self.pair.blake
        self.events: list[Built] = list(self.pair.membership)
        self.heads: dict[str, Built] = {"alex": self.pair.invite, "blake": self.pair.joined}

    def write(self, writer: Writer, payload: Payload, *, occurred_at: int | None = None) -> Built:
        if occurred_at is not None:
            # Writer.write moves its clock a minute on, records the event at that clock and
            # dates it half a minute before: recorded_at = occurred_at + RECORDED_AFTER_MS.
            writer.clock_ms = occurred_at - MINUTE_MS + RECORDED_AFTER_MS
        deps = [head for label, head in self.heads.items() if label != writer.label]
        built = writer.write(payload, deps=deps)
        return self._add(writer.label, built)

    def _add(self, label: str, built: Built) -> Built:
        self.events.append(built)
        self.heads[label] = built
        return built

    def add_device(self, label: str) -> Writer:
        """A second device of Alex's, joined through a device invite."""
        secret = fixed_bytes(f"{label} invite secret", crypto.INVITE_SECRET_BYTES)
        deps = [head for name, head in self.heads.items() if name != "alex"]
        invite = self._add("alex", invite_issued(self.alex, secret, kind="device", deps=deps))
        device = Writer(label, f"{label} (a device)")
        self._add(label, member_joined(device, secret, deps=[invite]))
        return device

    def admitted(
        self, arrival: list[Built] | None = None
    ) -> tuple[list[VerifiedEvent], Membership]:
        verifier = new_verifier()
        outcomes = admit_until_settled(verifier, [e.data for e in (arrival or self.events)])
        events = [o.event for o in outcomes if o.event is not None]
        assert len(events) == len(self.events), "every event of the story must be accepted"
        return causal_order(events), verifier.membership


def profiles_of(story: Story) -> dict[Any, Any]:
    return fold_profiles(*story.admitted())


def disclosures_of(story: Story) -> tuple[list[Any], list[PracticeViolation]]:
    ordered, membership = story.admitted()
    return fold_disclosures(ordered, membership, fold_profiles(ordered, membership))


def signals_of(story: Story) -> tuple[list[SignalView], list[PracticeViolation]]:
    return fold_signals(*story.admitted())


def sobriety_of(story: Story, today: date = TODAY, tz: Any = UTC) -> dict[Any, Any]:
    ordered, membership = story.admitted()
    return fold_sobriety(ordered, membership, today, tz)


def codes(violations: list[PracticeViolation]) -> list[tuple[EventId, str]]:
    return [(v.event_id, v.code) for v in violations]


# --- profiles --------------------------------------------------------------------------


def test_profiles_start_from_the_name_and_role_each_partner_gave_on_joining() -> None:
    story = Story()

    profiles = profiles_of(story)

    assert [(p.name, p.in_recovery) for p in profiles.values()] == [
        ("Alex", True),
        ("Blake", False),
    ]
    assert list(profiles) == [story.alex.member_id, story.blake.member_id]
    assert profiles[story.alex.member_id].member_id == story.alex.member_id


def test_the_latest_profile_update_in_causal_order_wins_field_by_field() -> None:
    story = Story()
    story.write(story.alex, ProfileUpdated(name="Alexandra"))
    story.write(story.alex, ProfileUpdated(name="Ali"))
    story.write(story.alex, ProfileUpdated(in_recovery=False))

    alex = profiles_of(story)[story.alex.member_id]

    assert (alex.name, alex.in_recovery) == ("Ali", False)


def test_a_profile_update_describes_only_its_author_and_cannot_rename_the_partner() -> None:
    story = Story()
    story.write(story.blake, ProfileUpdated(name="Not Alex", in_recovery=True))

    profiles = profiles_of(story)

    assert (profiles[story.alex.member_id].name, profiles[story.alex.member_id].in_recovery) == (
        "Alex",
        True,
    )
    assert (profiles[story.blake.member_id].name, profiles[story.blake.member_id].in_recovery) == (
        "Not Alex",
        True,
    )


def test_a_profile_update_from_another_device_applies_to_the_member() -> None:
    story = Story()
    laptop = story.add_device("alex laptop")
    story.write(laptop, ProfileUpdated(name="Alex R."))

    profiles = profiles_of(story)

    assert list(profiles) == [story.alex.member_id, story.blake.member_id]
    assert profiles[story.alex.member_id].name == "Alex R."


def test_a_device_joining_later_does_not_change_the_members_name() -> None:
    story = Story()
    story.add_device("alex laptop")

    assert profiles_of(story)[story.alex.member_id].name == "Alex"


def test_names_follow_causal_order_not_arrival_order() -> None:
    story = Story()
    laptop = story.add_device("alex laptop")
    story.write(story.alex, ProfileUpdated(name="Written first"))
    story.write(laptop, ProfileUpdated(name="Written second"))
    arrival = list(reversed(story.events))

    in_order = fold_profiles(*story.admitted())
    reversed_arrival = fold_profiles(*story.admitted(arrival))

    assert in_order[story.alex.member_id].name == "Written second"
    assert reversed_arrival == in_order


# --- disclosures -----------------------------------------------------------------------


def test_a_disclosure_is_shown_with_its_author_kind_words_and_both_times() -> None:
    story = Story()
    when = utc_ms(2026, 1, 20, 21, 0)
    shared = story.write(
        story.alex,
        DisclosureMade(kind="meeting", summary="Went to my Tuesday meeting", details="It helped"),
        occurred_at=when,
    )

    [view], violations = disclosures_of(story)

    assert (view.id, view.author, view.kind) == (shared.event_id, story.alex.member_id, "meeting")
    assert (view.summary, view.details, view.slip) == (
        "Went to my Tuesday meeting",
        "It helped",
        None,
    )
    assert view.occurred_at == when
    assert view.recorded_at == when + RECORDED_AFTER_MS
    assert not view.acknowledged
    assert view.acknowledgements == []
    assert violations == []


def test_a_disclosure_by_the_partner_not_in_recovery_is_shown_and_not_flagged() -> None:
    story = Story()
    story.write(story.blake, DisclosureMade(kind="therapy_session", summary="Saw my counsellor"))

    [view], violations = disclosures_of(story)

    assert view.author == story.blake.member_id
    assert violations == []


def test_the_partners_acknowledgement_is_kept_with_its_response_and_time() -> None:
    story = Story()
    slip = story.write(
        story.alex,
        DisclosureMade(kind="slip", summary="I slipped last night", slip=SlipReport(mood=2)),
    )
    ack = story.write(
        story.blake,
        DisclosureAcknowledged(disclosure=slip.event_id, response="Thank you for telling me."),
        occurred_at=utc_ms(2026, 1, 2, 8),
    )

    [view], violations = disclosures_of(story)

    assert view.acknowledged
    [acknowledgement] = view.acknowledgements
    assert acknowledgement.member == story.blake.member_id
    assert acknowledgement.event_id == ack.event_id
    assert acknowledgement.response == "Thank you for telling me."
    assert acknowledgement.at == utc_ms(2026, 1, 2, 8) + RECORDED_AFTER_MS
    assert view.slip == SlipReport(mood=2)
    assert violations == []


def test_a_second_acknowledgement_adds_a_response_and_keeps_the_first() -> None:
    story = Story()
    shared = story.write(story.alex, DisclosureMade(kind="risk", summary="Payday is hard"))
    story.write(story.blake, DisclosureAcknowledged(disclosure=shared.event_id))
    story.write(
        story.blake,
        DisclosureAcknowledged(disclosure=shared.event_id, response="Can we plan that day?"),
    )

    [view], violations = disclosures_of(story)

    assert [a.response for a in view.acknowledgements] == [None, "Can we plan that day?"]
    assert violations == []


def test_acknowledging_ones_own_disclosure_is_not_counted_and_is_reported() -> None:
    story = Story()
    laptop = story.add_device("alex laptop")
    shared = story.write(story.alex, DisclosureMade(kind="relapse", summary="I relapsed"))
    own = story.write(story.alex, DisclosureAcknowledged(disclosure=shared.event_id))
    from_laptop = story.write(laptop, DisclosureAcknowledged(disclosure=shared.event_id))

    [view], violations = disclosures_of(story)

    assert not view.acknowledged
    assert codes(violations) == [
        (own.event_id, "acknowledge_own_disclosure"),
        (from_laptop.event_id, "acknowledge_own_disclosure"),
    ]
    assert all(v.message for v in violations)


def test_acknowledging_something_that_is_not_a_known_disclosure_is_reported() -> None:
    story = Story()
    journal = story.write(story.alex, JournalEntry(text="just a journal entry"))
    of_entry = story.write(story.blake, DisclosureAcknowledged(disclosure=journal.event_id))
    of_nothing = story.write(
        story.blake, DisclosureAcknowledged(disclosure=fixed_bytes("no such event", 32))
    )

    views, violations = disclosures_of(story)

    assert views == []
    assert codes(violations) == [
        (of_entry.event_id, "unknown_disclosure"),
        (of_nothing.event_id, "unknown_disclosure"),
    ]


def test_a_slip_report_on_another_kind_is_shown_and_flagged() -> None:
    story = Story()
    report = SlipReport(triggers=["stress at work"], halt=["tired"])
    odd = story.write(story.alex, DisclosureMade(kind="meeting", summary="A hard day", slip=report))
    story.write(story.alex, DisclosureMade(kind="risk", summary="A risk", slip=report))
    story.write(story.alex, DisclosureMade(kind="slip", summary="A slip", slip=report))
    story.write(story.alex, DisclosureMade(kind="relapse", summary="A relapse", slip=report))

    views, violations = disclosures_of(story)

    assert [(v.kind, v.slip) for v in views] == [
        ("meeting", report),
        ("risk", report),
        ("slip", report),
        ("relapse", report),
    ]
    assert codes(violations) == [(odd.event_id, "slip_report_on_other_kind")]


def test_disclosures_are_listed_in_causal_order() -> None:
    story = Story()
    story.write(story.alex, DisclosureMade(kind="meeting", summary="first"))
    story.write(story.blake, DisclosureMade(kind="other", summary="second"))
    story.write(story.alex, DisclosureMade(kind="other", summary="third"))

    views, _ = disclosures_of(story)

    assert [v.summary for v in views] == ["first", "second", "third"]


# --- check-ins -------------------------------------------------------------------------


def test_checkins_by_either_partner_keep_every_fanos_field_in_causal_order() -> None:
    story = Story()
    full = CheckIn(
        feelings="tired but hopeful",
        affirmation="you listened yesterday",
        needs="a quiet evening",
        ownership="I was short with you",
        sobriety="12 days, cravings on Sunday",
        mood=3,
    )
    first = story.write(story.alex, full, occurred_at=utc_ms(2026, 1, 10, 20))
    second = story.write(story.blake, CheckIn(feelings="worried"))

    views = fold_checkins(*story.admitted())

    assert [(v.id, v.author) for v in views] == [
        (first.event_id, story.alex.member_id),
        (second.event_id, story.blake.member_id),
    ]
    alex = views[0]
    assert (alex.feelings, alex.affirmation, alex.needs, alex.ownership, alex.sobriety) == (
        "tired but hopeful",
        "you listened yesterday",
        "a quiet evening",
        "I was short with you",
        "12 days, cravings on Sunday",
    )
    assert alex.mood == 3
    assert (alex.occurred_at, alex.recorded_at) == (
        utc_ms(2026, 1, 10, 20),
        utc_ms(2026, 1, 10, 20) + RECORDED_AFTER_MS,
    )
    assert (views[1].feelings, views[1].needs, views[1].mood) == ("worried", None, None)


# --- sobriety --------------------------------------------------------------------------


def start(story: Story, on: date, label: str = "", writer: Writer | None = None) -> Built:
    return story.write(
        story.alex if writer is None else writer, SobrietyStarted(on.isoformat(), label)
    )


def slip_on(
    story: Story, when: int, kind: DisclosureKind = "slip", writer: Writer | None = None
) -> Built:
    payload = DisclosureMade(kind=kind, summary="I want to be honest")
    return story.write(story.alex if writer is None else writer, payload, occurred_at=when)


def counters(story: Story, today: date = TODAY, tz: Any = UTC) -> tuple[int, int]:
    view = sobriety_of(story, today, tz)[story.alex.member_id]
    return view.current_run_days, view.total_sober_days


def test_a_start_today_counts_zero_days_in_the_run_and_in_the_total() -> None:
    story = Story()
    start(story, TODAY, "alcohol")

    view = sobriety_of(story)[story.alex.member_id]

    assert (view.member, view.label, view.start, view.first_start) == (
        story.alex.member_id,
        "alcohol",
        TODAY,
        TODAY,
    )
    assert (view.current_run_days, view.total_sober_days, view.slips) == (0, 0, [])


def test_a_start_yesterday_counts_the_one_whole_day_lived() -> None:
    story = Story()
    start(story, days_before(1))

    assert counters(story) == (1, 1)


def test_a_slip_yesterday_restarts_the_run_and_takes_only_that_day_from_the_total() -> None:
    story = Story()
    start(story, days_before(10))
    slip_on(story, noon_utc(days_before(1)))

    view = sobriety_of(story)[story.alex.member_id]

    assert (view.current_run_days, view.total_sober_days) == (0, 9)
    assert view.slips == [days_before(1)]
    assert view.start == days_before(10)


def test_a_slip_some_days_ago_leaves_the_days_since_in_the_run() -> None:
    story = Story()
    start(story, days_before(10))
    slip_on(story, noon_utc(days_before(4)), kind="relapse")

    assert counters(story) == (3, 9)


def test_a_slip_today_ends_the_run_and_does_not_count_against_the_total_yet() -> None:
    story = Story()
    start(story, days_before(10))
    slip_on(story, noon_utc(TODAY))

    assert counters(story) == (0, 10)


def test_a_slip_dated_after_today_does_not_end_a_run_that_has_not_reached_it() -> None:
    # A moment after "today" (a clock running ahead, or a view computed for an earlier
    # day): it is listed, and counts once its day has come.
    story = Story()
    start(story, days_before(10))
    slip_on(story, noon_utc(TODAY + timedelta(days=1)))

    view = sobriety_of(story)[story.alex.member_id]

    assert (view.current_run_days, view.total_sober_days) == (10, 10)
    assert view.slips == [TODAY + timedelta(days=1)]
    assert counters(story, today=TODAY + timedelta(days=3)) == (1, 12)


def test_a_slip_on_the_start_day_counts_from_the_day_after() -> None:
    story = Story()
    start(story, days_before(5))
    slip_on(story, noon_utc(days_before(5)))

    assert counters(story) == (4, 4)


def test_two_slips_on_one_day_count_as_one_slip_day() -> None:
    story = Story()
    start(story, days_before(10))
    slip_on(story, utc_ms(2026, 1, 27, 9))
    slip_on(story, utc_ms(2026, 1, 27, 22), kind="relapse")

    view = sobriety_of(story)[story.alex.member_id]

    assert view.slips == [date(2026, 1, 27)]
    assert (view.current_run_days, view.total_sober_days) == (4, 9)


def test_a_new_start_after_a_relapse_resets_the_run_but_not_the_total() -> None:
    story = Story()
    start(story, date(2026, 1, 1), "first try")
    slip_on(story, noon_utc(date(2026, 1, 20)), kind="relapse")
    start(story, date(2026, 1, 22), "starting again")

    view = sobriety_of(story)[story.alex.member_id]

    assert (view.start, view.first_start, view.label) == (
        date(2026, 1, 22),
        date(2026, 1, 1),
        "starting again",
    )
    assert view.current_run_days == 10  # 22 January to 31 January
    assert view.total_sober_days == 30  # 1 to 31 January, less the day of the relapse
    assert view.slips == [date(2026, 1, 20)]


def test_a_start_in_the_future_counts_zero() -> None:
    story = Story()
    start(story, TODAY + timedelta(days=3))

    assert counters(story) == (0, 0)


def test_a_start_corrected_to_an_earlier_date_extends_the_total_to_hold_the_run() -> None:
    story = Story()
    start(story, days_before(5))
    start(story, days_before(20), "I had the date wrong")

    view = sobriety_of(story)[story.alex.member_id]

    assert (view.start, view.first_start) == (days_before(20), days_before(20))
    assert (view.current_run_days, view.total_sober_days) == (20, 20)


def test_a_slip_day_is_the_calendar_day_in_the_persons_time_zone() -> None:
    story = Story()
    start(story, date(2026, 1, 1))
    # 02:00 UTC on 10 January is still the evening of 9 January five hours west.
    slip_on(story, utc_ms(2026, 1, 10, 2))
    today = date(2026, 1, 15)
    new_york_winter = timezone(timedelta(hours=-5))

    in_utc = sobriety_of(story, today, UTC)[story.alex.member_id]
    west = sobriety_of(story, today, new_york_winter)[story.alex.member_id]

    assert in_utc.slips == [date(2026, 1, 10)]
    assert (in_utc.current_run_days, in_utc.total_sober_days) == (4, 13)
    assert west.slips == [date(2026, 1, 9)]
    assert (west.current_run_days, west.total_sober_days) == (5, 13)


def test_local_date_turns_over_exactly_at_local_midnight() -> None:
    midnight_utc = utc_ms(2026, 1, 10)
    plus_one = timezone(timedelta(hours=1))

    assert local_date(midnight_utc - 1, UTC) == date(2026, 1, 9)
    assert local_date(midnight_utc, UTC) == date(2026, 1, 10)
    assert local_date(midnight_utc - HOUR_MS - 1, plus_one) == date(2026, 1, 9)
    assert local_date(midnight_utc - HOUR_MS, plus_one) == date(2026, 1, 10)


def test_only_slips_and_relapses_mark_days() -> None:
    story = Story()
    start(story, days_before(10))
    others: list[DisclosureKind] = [
        "therapy_session",
        "meeting",
        "sobriety_milestone",
        "risk",
        "formal_disclosure",
        "other",
    ]
    for kind in others:
        slip_on(story, noon_utc(days_before(2)), kind=kind)

    assert counters(story) == (10, 10)


def test_slips_without_a_start_are_listed_with_counters_at_zero() -> None:
    story = Story()
    slip_on(story, noon_utc(days_before(3)))

    view = sobriety_of(story)[story.alex.member_id]

    assert (view.start, view.first_start, view.label) == (None, None, "")
    assert (view.current_run_days, view.total_sober_days) == (0, 0)
    assert view.slips == [days_before(3)]


def test_a_start_date_that_is_not_on_the_calendar_is_ignored() -> None:
    story = Story()
    start(story, days_before(10))
    story.write(story.alex, SobrietyStarted("2026-02-30"))

    assert sobriety_of(story)[story.alex.member_id].start == days_before(10)


def test_each_member_has_their_own_counter_and_devices_share_one() -> None:
    story = Story(recovery_pair(blake_in_recovery=True))
    laptop = story.add_device("alex laptop")
    start(story, days_before(10))
    slip_on(story, noon_utc(days_before(2)), writer=laptop)
    start(story, days_before(30), writer=story.blake)

    views = sobriety_of(story)

    assert set(views) == {story.alex.member_id, story.blake.member_id}
    assert (views[story.alex.member_id].current_run_days, views[story.alex.member_id].slips) == (
        1,
        [days_before(2)],
    )
    assert (views[story.blake.member_id].current_run_days, views[story.blake.member_id].slips) == (
        30,
        [],
    )


def test_no_sobriety_events_means_no_counters() -> None:
    assert sobriety_of(Story()) == {}


# --- milestones and gratitude ----------------------------------------------------------


def test_milestones_and_gratitude_notes_by_either_partner_are_listed_in_causal_order() -> None:
    story = Story()
    thirty = story.write(
        story.alex,
        MilestoneMarked(title="30 days", note="Cake tonight"),
        occurred_at=utc_ms(2026, 1, 31, 18),
    )
    thanks = story.write(story.blake, GratitudeNoted(text="Thank you for the honesty this week"))
    story.write(story.blake, MilestoneMarked(title="First full session together"))
    story.write(story.alex, GratitudeNoted(text="Thank you for staying"))

    milestones = fold_milestones(*story.admitted())
    gratitude = fold_gratitude(*story.admitted())

    assert [(m.author, m.title, m.note) for m in milestones] == [
        (story.alex.member_id, "30 days", "Cake tonight"),
        (story.blake.member_id, "First full session together", None),
    ]
    assert milestones[0].id == thirty.event_id
    assert milestones[0].occurred_at == utc_ms(2026, 1, 31, 18)
    assert milestones[0].recorded_at == utc_ms(2026, 1, 31, 18) + RECORDED_AFTER_MS
    assert [(g.author, g.text) for g in gratitude] == [
        (story.blake.member_id, "Thank you for the honesty this week"),
        (story.alex.member_id, "Thank you for staying"),
    ]
    assert gratitude[0].id == thanks.event_id
    assert gratitude[0].recorded_at > gratitude[0].occurred_at


# --- safety signals --------------------------------------------------------------------


def test_a_signal_is_active_until_its_sender_clears_it() -> None:
    story = Story()
    until = utc_ms(2026, 1, 1, 20)
    sent = story.write(story.blake, SignalSent(level="pause", until=until, note="I need an hour"))

    [signal], _ = signals_of(story)
    assert signal.active
    assert (signal.id, signal.sender, signal.level, signal.until, signal.note) == (
        sent.event_id,
        story.blake.member_id,
        "pause",
        until,
        "I need an hour",
    )
    assert (signal.cleared_at, signal.cleared_by_event) == (None, None)

    cleared = story.write(story.blake, SignalCleared(signal=sent.event_id))
    [signal], violations = signals_of(story)

    assert not signal.active
    assert signal.cleared_by_event == cleared.event_id
    assert signal.cleared_at is not None
    assert signal.cleared_at > signal.sent_at
    assert violations == []


def test_the_sender_may_clear_a_signal_from_another_device() -> None:
    story = Story()
    laptop = story.add_device("alex laptop")
    sent = story.write(story.alex, SignalSent(level="stop"))
    cleared = story.write(laptop, SignalCleared(signal=sent.event_id))

    [signal], violations = signals_of(story)

    assert signal.cleared_by_event == cleared.event_id
    assert violations == []


def test_a_clear_by_the_other_partner_is_not_applied_and_is_reported() -> None:
    story = Story()
    sent = story.write(story.blake, SignalSent(level="slow"))
    by_alex = story.write(story.alex, SignalCleared(signal=sent.event_id))

    [signal], violations = signals_of(story)

    assert signal.active
    assert codes(violations) == [(by_alex.event_id, "clear_by_other_member")]
    assert violations[0].message


def test_a_clear_of_an_unknown_signal_is_reported() -> None:
    story = Story()
    not_a_signal = story.write(story.alex, GratitudeNoted(text="Thank you"))
    of_gratitude = story.write(story.alex, SignalCleared(signal=not_a_signal.event_id))
    of_nothing = story.write(story.alex, SignalCleared(signal=fixed_bytes("no signal", 32)))

    signals, violations = signals_of(story)

    assert signals == []
    assert codes(violations) == [
        (of_gratitude.event_id, "unknown_signal"),
        (of_nothing.event_id, "unknown_signal"),
    ]


def test_clearing_a_signal_twice_keeps_the_first_clear_and_reports_nothing() -> None:
    story = Story()
    laptop = story.add_device("alex laptop")
    sent = story.write(story.alex, SignalSent(level="pause"))
    first = story.write(story.alex, SignalCleared(signal=sent.event_id))
    story.write(laptop, SignalCleared(signal=sent.event_id))

    [signal], violations = signals_of(story)

    assert signal.cleared_by_event == first.event_id
    assert violations == []


def test_active_signals_are_the_ones_not_cleared_in_the_order_given() -> None:
    story = Story()
    paused = story.write(story.alex, SignalSent(level="pause"))
    stopped = story.write(story.blake, SignalSent(level="stop"))
    slowed = story.write(story.alex, SignalSent(level="slow"))
    story.write(story.alex, SignalCleared(signal=paused.event_id))

    signals, _ = signals_of(story)

    assert [s.id for s in active_signals(signals)] == [stopped.event_id, slowed.event_id]


def test_the_return_time_is_reached_at_the_agreed_moment_and_the_signal_stays_active() -> None:
    story = Story()
    until = utc_ms(2026, 1, 1, 20)
    story.write(story.alex, SignalSent(level="pause", until=until))
    story.write(story.alex, SignalSent(level="stop"))

    [timed, open_ended], _ = signals_of(story)
    alex = story.alex.member_id

    assert not timed.return_due_for(alex, until - 1)
    assert timed.return_due_for(alex, until)
    assert timed.return_due_for(alex, until + HOUR_MS)
    assert timed.active
    assert not open_ended.return_due_for(alex, until + HOUR_MS)


# --- transparency windows --------------------------------------------------------------
# 1 January 2026 is a Thursday (weekday 3).

THURSDAY = 3


def test_a_window_is_described_in_plain_words() -> None:
    sunday = Window(weekday=6, time="19:00", utc_offset_min=60, duration_min=60, topic="finances")
    wednesday = Window(weekday=2, time="07:30", utc_offset_min=-(5 * 60 + 30), duration_min=45)

    assert describe_window(sunday) == "Sundays at 19:00 (UTC+01:00) for 60 minutes: finances"
    assert describe_window(wednesday) == "Wednesdays at 07:30 (UTC-05:30) for 45 minutes"
    assert describe_window(Window(weekday=0, time="00:00")) == (
        "Mondays at 00:00 (UTC+00:00) for 60 minutes"
    )


def test_no_windows_means_no_next_window() -> None:
    assert next_window([], utc_ms(2026, 1, 1)) is None


def test_a_window_later_today_is_next_today() -> None:
    evening = Window(weekday=THURSDAY, time="19:00")

    assert next_window([evening], utc_ms(2026, 1, 1, 10)) == (evening, utc_ms(2026, 1, 1, 19))


def test_a_window_that_has_ended_today_is_next_a_week_later() -> None:
    morning = Window(weekday=THURSDAY, time="08:00", duration_min=60)

    assert next_window([morning], utc_ms(2026, 1, 1, 10)) == (morning, utc_ms(2026, 1, 8, 8))


def test_a_window_in_progress_is_returned_with_its_current_start() -> None:
    talk = Window(weekday=THURSDAY, time="09:30", duration_min=60)

    assert next_window([talk], utc_ms(2026, 1, 1, 10)) == (talk, utc_ms(2026, 1, 1, 9, 30))
    assert next_window([talk], utc_ms(2026, 1, 1, 9, 30)) == (talk, utc_ms(2026, 1, 1, 9, 30))
    # Its end is not part of it.
    assert next_window([talk], utc_ms(2026, 1, 1, 10, 30)) == (talk, utc_ms(2026, 1, 8, 9, 30))


def test_the_next_window_crosses_the_end_of_the_week() -> None:
    monday = Window(weekday=0, time="00:15")
    friday = Window(weekday=4, time="18:00")
    sunday_night = utc_ms(2026, 1, 4, 23, 30)
    saturday = utc_ms(2026, 1, 3, 12)

    assert next_window([monday], sunday_night) == (monday, utc_ms(2026, 1, 5, 0, 15))
    assert next_window([friday], saturday) == (friday, utc_ms(2026, 1, 9, 18))


def test_a_window_offset_east_of_utc_can_start_the_day_before_in_utc() -> None:
    # Friday 01:00 at UTC+02:00 is Thursday 23:00 UTC.
    friday_early = Window(weekday=4, time="01:00", utc_offset_min=120)

    assert next_window([friday_early], utc_ms(2026, 1, 1, 22)) == (
        friday_early,
        utc_ms(2026, 1, 1, 23),
    )


def test_a_window_offset_west_of_utc_can_start_the_day_after_in_utc() -> None:
    # Wednesday 20:00 at UTC-05:00 is Thursday 01:00 UTC; at 00:30 UTC on Thursday it is
    # still 19:30 on Wednesday there.
    wednesday_evening = Window(weekday=2, time="20:00", utc_offset_min=-300)

    assert next_window([wednesday_evening], utc_ms(2026, 1, 1, 0, 30)) == (
        wednesday_evening,
        utc_ms(2026, 1, 1, 1),
    )
    assert next_window([wednesday_evening], utc_ms(2026, 1, 1, 2, 0)) == (
        wednesday_evening,
        utc_ms(2026, 1, 8, 1),
    )


def test_the_soonest_of_several_windows_is_next_and_one_in_progress_comes_first() -> None:
    sunday = Window(weekday=6, time="19:00", topic="finances")
    friday = Window(weekday=4, time="19:00", topic="week review")
    now_thursday = utc_ms(2026, 1, 1, 12)
    in_progress = Window(weekday=THURSDAY, time="11:30", duration_min=90, topic="now")

    assert next_window([sunday, friday], now_thursday) == (friday, utc_ms(2026, 1, 2, 19))
    assert next_window([sunday, friday, in_progress], now_thursday) == (
        in_progress,
        utc_ms(2026, 1, 1, 11, 30),
    )


def test_between_windows_starting_together_the_first_given_wins() -> None:
    first = Window(weekday=4, time="19:00", topic="first")
    same_moment = Window(weekday=4, time="20:00", utc_offset_min=60, topic="same moment")

    assert next_window([first, same_moment], utc_ms(2026, 1, 1)) == (first, utc_ms(2026, 1, 2, 19))
    assert next_window([same_moment, first], utc_ms(2026, 1, 1)) == (
        same_moment,
        utc_ms(2026, 1, 2, 19),
    )


# --- convergence (Hypothesis) ----------------------------------------------------------


@dataclass
class _Device:
    writer: Writer
    chain: list[Built]
    seen: int = 0
    """How many of the partner's events this device has received (a prefix)."""
    disclosures: list[Built] = field(default_factory=list)
    signals: list[Built] = field(default_factory=list)


_PRACTICE_OPS = [
    "profile",
    "disclose",
    "slip",
    "acknowledge",
    "checkin",
    "sobriety",
    "milestone",
    "gratitude",
    "signal",
    "clear",
    "sync",
]
_OPS = st.tuples(
    st.sampled_from(["alex", "blake"]),
    st.sampled_from(_PRACTICE_OPS),
    st.integers(min_value=0, max_value=1_000),
)


def _payload(op: str, who: str, pick: int, me: _Device, partner: _Device) -> Payload:
    """What ``who`` writes for ``op``. Odd picks refer to the partner's events and even
    picks to one's own, so allowed and disallowed references both come up."""
    theirs = partner.chain[: me.seen]
    if op == "profile":
        return ProfileUpdated(name=f"{who} {pick}" if pick % 3 else None, in_recovery=pick % 2 == 0)
    if op == "disclose":
        return DisclosureMade(kind="meeting", summary=f"{who} {pick}")
    if op == "slip":
        kind: DisclosureKind = "slip" if pick % 2 else "relapse"
        return DisclosureMade(
            kind=kind, summary=f"{who} {pick}", slip=SlipReport(mood=1 + pick % 5)
        )
    if op == "checkin":
        return CheckIn(feelings=f"{who} {pick}", mood=1 + pick % 5)
    if op == "sobriety":
        return SobrietyStarted(date=f"2025-12-{1 + pick % 28:02d}", label=f"{pick}")
    if op == "milestone":
        return MilestoneMarked(title=f"{who} {pick}")
    if op == "gratitude":
        return GratitudeNoted(text=f"{who} {pick}")
    if op == "signal":
        return SignalSent(level="pause", until=pick * HOUR_MS if pick % 2 else None)
    mine = me.disclosures if op == "acknowledge" else me.signals
    known = [
        e for e in (partner.disclosures if op == "acknowledge" else partner.signals) if e in theirs
    ]
    targets = (known if pick % 2 else mine) or mine or known
    target = (
        targets[pick // 2 % len(targets)].event_id
        if targets
        else EventId(fixed_bytes(f"unknown {pick}", 32))
    )
    if op == "acknowledge":
        return DisclosureAcknowledged(disclosure=target, response=f"{who} {pick}")
    return SignalCleared(signal=target)


_PRACTICE_SCRIPTS = st.lists(_OPS, min_size=4, max_size=24)
"""What each partner does, in order. Hypothesis draws and reports these small tuples;
the envelopes are built from them (it would print every byte of a Built)."""


def practice_history(script: list[tuple[str, str, int]]) -> list[Built]:
    """A valid two-partner history of every practice, with the partners writing
    concurrently and learning of each other's events at random moments."""
    pair = recovery_pair()
    devices = {
        "alex": _Device(pair.alex, [pair.genesis, pair.invite]),
        "blake": _Device(pair.blake, [pair.joined], seen=2),
    }
    for who, op, pick in script:
        me = devices[who]
        partner = devices["blake" if who == "alex" else "alex"]
        if op == "sync":
            part = pick % (len(partner.chain) + 1) if pick % 2 else len(partner.chain)
            me.seen = max(me.seen, part)
            continue
        deps = partner.chain[me.seen - 1 : me.seen] if me.seen else []
        built = me.writer.write(_payload(op, who, pick, me, partner), deps=deps)
        me.chain.append(built)
        if op in ("disclose", "slip"):
            me.disclosures.append(built)
        elif op == "signal":
            me.signals.append(built)
    return [*devices["alex"].chain, *devices["blake"].chain]


def _all_views(ordered: list[VerifiedEvent], membership: Membership) -> tuple[Any, ...]:
    profiles = fold_profiles(ordered, membership)
    return (
        profiles,
        fold_disclosures(ordered, membership, profiles),
        fold_checkins(ordered, membership),
        fold_sobriety(ordered, membership, TODAY, timezone(timedelta(hours=-7))),
        fold_milestones(ordered, membership),
        fold_gratitude(ordered, membership),
        fold_signals(ordered, membership),
    )


def _fold_arrival(arrival: list[Built]) -> tuple[Any, ...]:
    verifier = new_verifier()
    outcomes = admit_until_settled(verifier, [e.data for e in arrival])
    events = [o.event for o in outcomes if o.event is not None]
    assert len(events) == len(arrival)
    return _all_views(causal_order(events), verifier.membership)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_partners_holding_the_same_events_see_the_same_practice_views_whatever_the_order(
    data: st.DataObject,
) -> None:
    history = practice_history(data.draw(_PRACTICE_SCRIPTS, label="script"))
    positions = range(len(history))
    first_arrival = data.draw(st.permutations(positions), label="arrival order at device 1")
    second_arrival = data.draw(st.permutations(positions), label="arrival order at device 2")

    first = _fold_arrival([history[i] for i in first_arrival])

    assert first == _fold_arrival([history[i] for i in second_arrival])
    for view in first[3].values():
        assert 0 <= view.current_run_days <= view.total_sober_days


def _violation_codes(history: list[Built]) -> set[str]:
    (_, (_, disclosure_violations), *_, (_, signal_violations)) = _fold_arrival(history)
    return {v.code for v in [*disclosure_violations, *signal_violations]}


def _has_concurrent_events(history: list[Built]) -> bool:
    clocks = [e.lamport for e in history]
    return len(set(clocks)) < len(clocks)


@pytest.mark.parametrize(
    "condition",
    [
        pytest.param(lambda h: "acknowledge_own_disclosure" in _violation_codes(h), id="own ack"),
        pytest.param(lambda h: "clear_by_other_member" in _violation_codes(h), id="other clears"),
        pytest.param(_has_concurrent_events, id="concurrent events"),
    ],
)
def test_the_practice_history_strategy_reaches_violations_and_concurrent_events(
    condition: Callable[[list[Built]], bool],
) -> None:
    # Guards the strategy: disallowed references and concurrent writes are part of
    # what must converge.
    find(
        _PRACTICE_SCRIPTS,
        lambda script: condition(practice_history(script)),
        settings=settings(
            max_examples=1_000, database=None, phases=[Phase.generate], derandomize=True
        ),
    )
