"""The practice rules every front end shares (client/views/practice_forms.py): one
rule, worded for the app by default and for the command line with its flags."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from client.cli.consent import CLI_DECLARATION_WORDS, UNTIL_MISSING
from client.cli.disclosures import CLI_REPORT_WORDS
from client.errors import UsageError
from client.views.practice_forms import (
    PLAN_NEEDS_AN_ITEM,
    REPORT_WORDS,
    SAY_UNTIL_WHEN,
    consent_until_ms,
    export_declaration,
    export_since_ms,
    plan_circles,
    plan_proposal,
    report_kind,
)
from schemas.practices import MAX_RECIPIENT_CHARS, CircleItem

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


@pytest.mark.parametrize(
    ("recipient", "purpose", "app_words", "cli_words"),
    [
        ("", "our session", "Say who it is for.", "Say who it is for (--for)."),
        ("Dr. Rivera", "  ", "Say why it is shared.", "Say why, with --purpose."),
        (
            "x" * (MAX_RECIPIENT_CHARS + 1),
            "our session",
            f"Keep who it is for under {MAX_RECIPIENT_CHARS} characters.",
            f"Keep who it is for (--for) under {MAX_RECIPIENT_CHARS} characters.",
        ),
    ],
)
def test_an_export_declaration_is_one_rule_in_each_front_ends_words(
    recipient: str, purpose: str, app_words: str, cli_words: str
) -> None:
    with pytest.raises(UsageError) as app:
        export_declaration(recipient, purpose, "2027-01-31", TODAY)
    assert app.value.message == app_words
    with pytest.raises(UsageError) as cli:
        export_declaration(recipient, purpose, "2027-01-31", TODAY, CLI_DECLARATION_WORDS)
    assert cli.value.message == cli_words


def test_an_export_declaration_folds_white_space() -> None:
    declared = export_declaration("  Dr.\n Rivera ", "our   session", "2027-01-31", TODAY)
    assert (declared.recipient, declared.purpose) == ("Dr. Rivera", "our session")
    assert declared.expires_at == consent_until_ms("2027-01-31", TODAY)


def test_the_first_page_start_is_a_day_that_has_come() -> None:
    now_ms = int(datetime.combine(TODAY, time(12)).astimezone().timestamp() * 1000)
    assert export_since_ms(None, now_ms) is None
    assert export_since_ms(" ", now_ms) is None
    start = export_since_ms("2026-12-05", now_ms)
    assert start == int(datetime.combine(TODAY, time()).astimezone().timestamp() * 1000)
    with pytest.raises(UsageError, match="has not come yet"):
        export_since_ms("2026-12-06", now_ms)
    with pytest.raises(UsageError, match="is not a date"):
        export_since_ms("last tuesday", now_ms)


def test_a_recovery_plan_is_built_in_one_place() -> None:
    with pytest.raises(UsageError) as none:
        plan_circles([])
    assert none.value.message == PLAN_NEEDS_AN_ITEM
    circles = plan_circles(
        [
            CircleItem(circle="inner", text="no gambling sites"),
            CircleItem(circle="middle", text="staying up alone"),
            CircleItem(circle="outer", text="morning walk"),
        ]
    )
    assert (circles.inner, circles.middle, circles.outer) == (
        ["no gambling sites"],
        ["staying up alone"],
        ["morning walk"],
    )
    proposal = plan_proposal(circles, title="Recovery plan", base=None, review_on=None)
    assert proposal.kind == "recovery_plan"
    assert proposal.clauses == ["Inner circle: no gambling sites"]
    assert proposal.revises is None
