"""Windows keep a time-zone name, so the agreed wall-clock time holds across daylight
saving, and one occurrence can be postponed once by either partner (issue #17,
docs/PROTOCOL.md §10.4)."""

from __future__ import annotations

from client.views.recovery import (
    describe_window,
    fold_postponements,
    next_occurrence,
    window_start,
)
from schemas.ids import EventId
from schemas.practices import AgreementProposed, Window, WindowPostponed
from tests.client.test_recovery import HOUR_MS, MINUTE_MS, Story, utc_ms

SUNDAY = 6
LONDON = Window(weekday=SUNDAY, time="19:00", tz="Europe/London", topic="finances")
FIXED = Window(weekday=SUNDAY, time="19:00", utc_offset_min=0)


def test_a_named_zone_keeps_the_wall_clock_time_across_daylight_saving() -> None:
    # 2026-01-04 and 2026-07-05 are Sundays; London is UTC+0 in winter, UTC+1 in summer.
    assert window_start(LONDON, utc_ms(2026, 1, 1)) == utc_ms(2026, 1, 4, 19)
    assert window_start(LONDON, utc_ms(2026, 7, 1)) == utc_ms(2026, 7, 5, 18)
    # The fixed offset drifts: 19:00 UTC is 20:00 on a London clock in July.
    assert window_start(FIXED, utc_ms(2026, 7, 1)) == utc_ms(2026, 7, 5, 19)


def test_the_week_daylight_saving_starts_the_window_keeps_its_local_time() -> None:
    # Clocks go forward on Sunday 2026-03-29 at 01:00 UTC.
    assert window_start(LONDON, utc_ms(2026, 3, 28)) == utc_ms(2026, 3, 29, 18)
    assert window_start(LONDON, utc_ms(2026, 3, 22)) == utc_ms(2026, 3, 22, 19)


def test_a_zone_unknown_on_this_device_falls_back_to_the_offset_written_beside_it() -> None:
    unknown = Window(weekday=SUNDAY, time="19:00", tz="Nowhere/Atlantis", utc_offset_min=60)
    assert window_start(unknown, utc_ms(2026, 1, 1)) == utc_ms(2026, 1, 4, 18)


def test_a_window_with_a_zone_is_described_by_its_zone_name() -> None:
    assert describe_window(LONDON) == "Sundays at 19:00 (Europe/London) for 60 minutes: finances"


def _window_story() -> tuple[Story, EventId]:
    story = Story()
    proposed = story.write(
        story.alex,
        AgreementProposed(
            title="Transparency window", clauses=["Sundays"], kind="window", window=LONDON
        ),
    )
    return story, proposed.event_id


def test_either_partner_postpones_an_occurrence_once_and_the_first_postponement_stands() -> None:
    story, window_id = _window_story()
    scheduled = utc_ms(2026, 1, 4, 19)
    first = story.write(
        story.blake,
        WindowPostponed(window=window_id, occurrence=scheduled, to=scheduled + 24 * HOUR_MS),
    )
    again = story.write(
        story.alex,
        WindowPostponed(window=window_id, occurrence=scheduled, to=scheduled + 48 * HOUR_MS),
    )

    moved, problems = fold_postponements(*story.admitted())
    coming = next_occurrence([(window_id, LONDON)], utc_ms(2026, 1, 4, 19, 30), moved)

    assert moved[(window_id, scheduled)].event_id == first.event_id
    assert [(p.event_id, p.code) for p in problems] == [
        (again.event_id, "window_already_postponed")
    ]
    assert coming is not None
    assert (coming.start, coming.scheduled, coming.postponed_by) == (
        scheduled + 24 * HOUR_MS,
        scheduled,
        story.blake.member_id,
    )


def test_a_postponement_earlier_more_than_a_week_later_or_of_no_window_is_not_applied() -> None:
    story, window_id = _window_story()
    scheduled = utc_ms(2026, 1, 4, 19)
    earlier = story.write(
        story.alex, WindowPostponed(window=window_id, occurrence=scheduled, to=scheduled - 1)
    )
    too_late = story.write(
        story.alex,
        WindowPostponed(
            window=window_id, occurrence=scheduled, to=scheduled + 7 * 24 * HOUR_MS + MINUTE_MS
        ),
    )
    nowhere = story.write(
        story.alex,
        WindowPostponed(window=bytes(32), occurrence=scheduled, to=scheduled + HOUR_MS),
    )

    moved, problems = fold_postponements(*story.admitted())

    assert moved == {}
    assert [(p.event_id, p.code) for p in problems] == [
        (earlier.event_id, "postpone_out_of_range"),
        (too_late.event_id, "postpone_out_of_range"),
        (nowhere.event_id, "unknown_window"),
    ]
    assert all("not applied" in p.message for p in problems)


def test_without_postponements_the_next_occurrence_is_the_scheduled_one() -> None:
    coming = next_occurrence([(EventId(bytes(32)), LONDON)], utc_ms(2026, 1, 1), {})
    assert coming is not None
    assert coming.start == coming.scheduled == utc_ms(2026, 1, 4, 19)
