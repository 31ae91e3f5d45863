"""How events and views look to people: one line for a terminal, one dict for JSON.

Kept apart from the CLI's argument handling so apps and tests can reuse the same words.
Times are shown in ISO 8601 UTC in JSON and in local time on screen. By job:
:mod:`~client.views.present.times` (times and calendar dates),
:mod:`~client.views.present.events` (one event as a sentence, a line, a dict, a notice),
:mod:`~client.views.present.records` (journal entries, transitions without effect,
disclosure details) and :mod:`~client.views.present.outcomes` (delivery and acceptance
sentences, plain error messages). Import from this package.
"""

from client.views.present.events import (
    NO_EFFECT_NOTE,
    Names,
    event_json,
    event_line,
    event_summary,
    notice_line,
    plain,
    practice_summary,
    shown,
)
from client.views.present.outcomes import (
    SENT_LATER_APP,
    SENT_LATER_CLI,
    Delivery,
    accepted_sentence,
    delivery_sentence,
    plain_error,
    refusal_sentence,
    refusal_why,
)
from client.views.present.records import (
    disclosure_detail_lines,
    journal_json,
    journal_lines,
    without_effect_sentence,
)
from client.views.present.times import (
    CALENDAR_NOON_MS,
    as_moment,
    calendar_date_ms,
    is_calendar_date,
    iso_utc,
    local_time,
)

__all__ = [
    "CALENDAR_NOON_MS",
    "NO_EFFECT_NOTE",
    "SENT_LATER_APP",
    "SENT_LATER_CLI",
    "Delivery",
    "Names",
    "accepted_sentence",
    "as_moment",
    "calendar_date_ms",
    "delivery_sentence",
    "disclosure_detail_lines",
    "event_json",
    "event_line",
    "event_summary",
    "is_calendar_date",
    "iso_utc",
    "journal_json",
    "journal_lines",
    "local_time",
    "notice_line",
    "plain",
    "plain_error",
    "practice_summary",
    "refusal_sentence",
    "refusal_why",
    "shown",
    "without_effect_sentence",
]
