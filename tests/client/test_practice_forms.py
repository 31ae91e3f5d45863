"""The practice rules every front end shares (client/views/practice_forms.py): one
rule, worded for the app by default and for the command line with its flags."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from client.cli.consent import UNTIL_MISSING
from client.cli.disclosures import CLI_REPORT_WORDS
from client.errors import UsageError
from client.views.practice_forms import (
    REPORT_WORDS,
    SAY_UNTIL_WHEN,
    consent_until_ms,
    report_kind,
)

TODAY = date(2026, 12, 5)


@pytest.mark.parametrize(
    ("kind", "circle", "details", "field"),
    [
        ("formal_disclosure", None, False, "formal_not_here"),
        ("slip", None, False, "slip_needs_circle"),
        ("risk", "inner", False, "risk_not_inner"),
        ("meeting", None, True, "details_only_for_slips"),
    ],
)
def test_one_rule_says_each_front_ends_words(
    kind: str, circle: str | None, details: bool, field: str
) -> None:
    with pytest.raises(UsageError) as app:
        report_kind(kind, circle, details)
    assert app.value.message == getattr(REPORT_WORDS, field)
    with pytest.raises(UsageError) as cli:
        report_kind(kind, circle, details, CLI_REPORT_WORDS)
    assert cli.value.message == getattr(CLI_REPORT_WORDS, field)
    assert "--" in cli.value.message
    assert "--" not in app.value.message


def test_a_middle_circle_slip_is_a_risk_with_its_report() -> None:
    assert report_kind("slip", "middle", False) == ("risk", True)
    assert report_kind("slip", "inner", False) == ("slip", True)
    assert report_kind("meeting", None, False) == ("meeting", False)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_consent_without_an_end_asks_for_one(value: str | None) -> None:
    with pytest.raises(UsageError) as app:
        consent_until_ms(value, TODAY)
    assert app.value.message == SAY_UNTIL_WHEN
    with pytest.raises(UsageError) as cli:
        consent_until_ms(value, TODAY, missing=UNTIL_MISSING)
    assert cli.value.message == "Say until when, with --until DATE (for example 2027-01-31)."


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("soon", "'soon' is not a date"),
        ("2026-12-04", "2026-12-04 has passed"),
        ("2028-01-01", "Choose a date within a year"),
    ],
)
def test_a_consent_end_outside_a_year_from_today_is_refused(value: str, words: str) -> None:
    with pytest.raises(UsageError) as refused:
        consent_until_ms(value, TODAY)
    assert refused.value.message.startswith(words)


def test_a_consent_ends_at_the_last_moment_of_its_day() -> None:
    last = consent_until_ms("2026-12-05", TODAY)
    after = datetime.fromtimestamp((last + 1) / 1000).astimezone()
    assert (after.date(), after.time()) == (date(2026, 12, 6), time())
