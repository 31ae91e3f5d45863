"""The words and form checks a practice needs before it is written, for every front
end (the command line in client/cli and the local app in client/app).

The folds (client/views/*.py) and the write rules (client/views/write_rules.py) decide
what an event means and whether it may be written; this module holds what sits in
front of them: the status words people read, the FANOS prompts, a slip report's kind
and circle, and the end date an export declares. The app (client/app/screens) uses
these, and so does client/cli, so there is one text of each rule and sentence. Where
the command line must name its flags (``--circle inner``), it passes its own variant of
a sentence (:class:`ReportWords`, ``missing=``); the rule stays here.

Errors are :class:`UsageError`: the command line exits 2 on them, the app shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast

from client.errors import ClientErrorCode, TrellisError, UsageError
from client.views.agreements import Agreement, AgreementsView, AgreementVersion
from client.views.present import local_time
from client.views.recovery.windows import Occurrence, Postponement, next_occurrence
from schemas.ids import EventId, MemberId
from schemas.practices import (
    DISCLOSURE_KINDS,
    MAX_POSTPONE_MIN,
    MAX_PURPOSE_CHARS,
    MAX_RECIPIENT_CHARS,
    AgreementProposed,
    CircleItem,
    DisclosureKind,
    ExportConsented,
    ThreeCircles,
)

STATUS_WORDS = {
    "proposed": "waiting for an answer",
    "in_force": "in force",
    "declined": "declined",
    "withdrawn": "consent withdrawn",
    "superseded": "replaced by a newer version",
    "expired": "expired: talk about renewing it",
}
"""An agreement version's status in words (``trellis agreement list``)."""

PLAN_STATUS_WORDS = {"in_force": "current", "withdrawn": "retired by its writer"}
"""A recovery plan is its writer's: it is "current", never "in force" between two."""


def status_words(a: Agreement) -> str:
    """An agreement's status and flags, as ``trellis agreement list`` says them."""
    flags = " (review due)" if a.review_due and a.status == "in_force" else ""
    if a.kind == "agreement" and a.status == "in_force" and a.current and not a.current.review_on:
        flags += " (no review date yet: agree one when you next talk)"
    words = PLAN_STATUS_WORDS if a.kind == "recovery_plan" else {}
    return (words.get(a.status) or STATUS_WORDS.get(a.status, a.status)) + flags


def binds_words(
    v: AgreementVersion, index: int, members: Iterable[MemberId], name_of: Callable[[bytes], str]
) -> str | None:
    """Whom clause ``index`` binds, in names: the proposer's "me" is the proposer, and
    "partner" the other member of ``members`` (the space's profiles)."""
    if index >= len(v.binds):
        return None
    binds = v.binds[index]
    if binds == "both":
        return "both of you"
    proposer = name_of(v.proposer)
    others = [m for m in members if m != v.proposer]
    partner = name_of(others[0]) if others else "the partner"
    return proposer if binds == "me" else partner


def find_agreement(view: AgreementsView, ident: str) -> tuple[Agreement, AgreementVersion | None]:
    """The agreement (and the version, when a version's id is given) that ``ident`` (an
    id or its first characters) names; ``not_found`` in the view's words otherwise."""
    try:
        found = view.find(ident)
    except LookupError as exc:
        raise TrellisError(str(exc), code=ClientErrorCode.NOT_FOUND) from None
    if isinstance(found, AgreementVersion):
        agreement = next(a for a in view.agreements if a.id == found.agreement_id)
        return agreement, found
    return found, None


def version_status_words(status: str) -> str:
    """One version's status in words (a version is never "current" or "retired")."""
    return STATUS_WORDS.get(status, status)


PLAN_NEEDS_AN_ITEM = "A recovery plan needs at least one item in the inner, middle or outer circle."


def plan_circles(items: Iterable[CircleItem], missing: str = PLAN_NEEDS_AN_ITEM) -> ThreeCircles:
    """The three circles of a recovery plan from its items, in the order given; raises
    ``usage`` (``missing``) when there is none."""
    listed = list(items)
    if not listed:
        raise UsageError(missing)
    return ThreeCircles(
        inner=[i.text for i in listed if i.circle == "inner"],
        middle=[i.text for i in listed if i.circle == "middle"],
        outer=[i.text for i in listed if i.circle == "outer"],
        items=listed,
    )


def plan_in_use(view: AgreementsView, member: bytes) -> AgreementVersion | None:
    """``member``'s recovery plan in use: one plan per writer, versioned, so writing
    again revises it."""
    plans = [
        a
        for a in view.agreements
        if a.kind == "recovery_plan"
        and a.status == "in_force"
        and a.current is not None
        and a.current.proposer == member
    ]
    return plans[-1].current if plans else None


def plan_proposal(
    circles: ThreeCircles, *, title: str, base: AgreementVersion | None, review_on: str | None
) -> AgreementProposed:
    """A recovery plan's version as it is written (its clauses name the inner circle,
    which is what a reader of any agreement list needs to see)."""
    return AgreementProposed(
        title=title,
        clauses=[f"Inner circle: {i}" for i in circles.inner] or ["Recovery plan"],
        revises=base.id if base else None,
        kind="recovery_plan",
        circles=circles,
        review_on=review_on,
    )


NOTHING_TO_ANSWER = (
    "A check-in is to hear, not to answer: there is nothing you need to reply or fix."
)
FANOS_PROMPTS: tuple[tuple[str, str], ...] = (
    ("feelings", "F, feelings: how you feel"),
    ("affirmation", "A, affirmation: something you appreciate in your partner"),
    ("needs", "N, needs: what you need (not necessarily met by your partner)"),
    ("ownership", "O, ownership: something I said or did, with an apology"),
    ("sobriety", "S, struggles and self-care (for either partner)"),
)
"""The FANOS letters as they are worded everywhere (docs/PROTOCOL.md §10.4)."""
FANOS_LABELS = {
    "feelings": "feelings",
    "affirmation": "affirmation",
    "needs": "needs",
    "ownership": "ownership",
    "sobriety": "struggles and self-care",
}

MARK_WORDS = {"seen": "seen", "need_time": "needs time"}
SEEN_DONE = "Marked as seen. There is nothing more you need to do."
NEED_TIME_DONE = (
    "Noted: you need time. Nothing is expected of you until you are ready; "
    "you can mark it seen later."
)
DISCLOSED_THANKS = "Thank you for your honesty."
RISK_NOTE = "It is recorded as a risk (middle circle) and does not change your sober days."

FORMAL_DISCLOSURE_PLACE = (
    "A formal disclosure happens in the therapist's office, not in the app. To mark that "
    "it took place"
)


@dataclass(frozen=True)
class ReportWords:
    """The sentences :func:`report_kind` says when a report does not fit, worded for one
    front end: the app names its fields, the command line its flags."""

    formal_not_here: str
    slip_needs_circle: str
    risk_not_inner: str
    details_only_for_slips: str


REPORT_WORDS = ReportWords(
    formal_not_here=(
        f"{FORMAL_DISCLOSURE_PLACE}, add a milestone 'Formal disclosure' with its date."
    ),
    slip_needs_circle=(
        "Which circle was it? Inner (it ends your sober run) or middle (a risk: it is "
        "recorded as a risk and does not change your sober days)."
    ),
    risk_not_inner="A risk is a middle-circle report. Inner-circle behaviour is a slip.",
    details_only_for_slips="The slip details (circle, place, ...) are for a slip, relapse or risk.",
)
"""The app's words (its form's fields are "circle", "place", ...)."""


def report_kind(
    kind: str, circle: str | None, has_details: bool, words: ReportWords = REPORT_WORDS
) -> tuple[DisclosureKind, bool]:
    """The kind a disclosure is written as, and whether it carries a slip report.

    A middle-circle report is a risk, never a broken run; a slip names its circle; a
    formal disclosure is not written here. Raises :class:`UsageError` in ``words``."""
    if kind == "formal_disclosure":
        raise UsageError(words.formal_not_here)
    if kind == "slip" and circle is None:
        raise UsageError(words.slip_needs_circle)
    if kind == "risk" and circle == "inner":
        raise UsageError(words.risk_not_inner)
    if kind in ("slip", "relapse") or (kind == "risk" and has_details):
        return _kind("risk" if circle == "middle" else kind), True
    if has_details:
        raise UsageError(words.details_only_for_slips)
    return _kind(kind), False


def _kind(kind: str) -> DisclosureKind:
    """``kind`` as a disclosure kind; a word no disclosure has is a usage error."""
    if kind not in DISCLOSURE_KINDS:
        raise UsageError("Choose what kind of disclosure it is.")
    return cast(DisclosureKind, kind)


MAX_CONSENT_DAYS = 366
"""An export, and a consent to one, ends within a year: shared means permanent, so the
permission to share should not be."""


SAY_UNTIL_WHEN = "Say until when (for example 2027-01-31)."


def consent_until_ms(value: str | None, today: date, missing: str = SAY_UNTIL_WHEN) -> int:
    """The end of the given calendar day in this computer's time zone, as ms: the last
    moment an export (or a consent to one) may be used. Raises ``usage`` (``missing``
    when no day is given) when the day is not a date, has passed, or is more than a
    year away."""
    if value is None or not value.strip():
        raise UsageError(missing)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"'{value}' is not a date; use a form like 2027-01-31.") from None
    if day < today:
        raise UsageError(f"{day.isoformat()} has passed; choose today or a later date.")
    if day > today + timedelta(days=MAX_CONSENT_DAYS):
        raise UsageError("Choose a date within a year; you can give a new one later.")
    end = datetime.combine(day + timedelta(days=1), time()).astimezone()
    return int(end.timestamp() * 1000) - 1


@dataclass(frozen=True)
class DeclarationWords:
    """How a front end names the three things an export (or a consent to one) declares:
    the app names its fields, the command line its flags."""

    recipient: str
    purpose: str
    say_purpose: str
    until_missing: str


DECLARATION_WORDS = DeclarationWords(
    recipient="who it is for",
    purpose="why",
    say_purpose="Say why it is shared.",
    until_missing=SAY_UNTIL_WHEN,
)
"""The app's words (its form's fields: who it is for, why, the last day)."""


def export_declaration(
    recipient: str | None,
    purpose: str | None,
    until: str | None,
    today: date,
    words: DeclarationWords = DECLARATION_WORDS,
) -> ExportConsented:
    """Whom an export is for, why, and its last day, as declared (``trellis export``
    and ``export-consent``, and the app's Export screen): white space folded, none
    empty or too long, the day within a year (:func:`consent_until_ms`). Raises
    ``usage`` in ``words``."""
    who = " ".join((recipient or "").split())
    why = " ".join((purpose or "").split())
    if not who:
        raise UsageError(f"Say {words.recipient}.")
    if not why:
        raise UsageError(words.say_purpose)
    if len(who) > MAX_RECIPIENT_CHARS:
        raise UsageError(f"Keep {words.recipient} under {MAX_RECIPIENT_CHARS} characters.")
    if len(why) > MAX_PURPOSE_CHARS:
        raise UsageError(f"Keep {words.purpose} under {MAX_PURPOSE_CHARS} characters.")
    return ExportConsented(
        recipient=who,
        purpose=why,
        expires_at=consent_until_ms(until, today, missing=words.until_missing),
    )


def export_since_ms(value: str | None, now_ms: int) -> int | None:
    """Where an export's first page starts (``--since``; the app's "first page from"),
    as ms: None when not given (the start of what is exported). A day is read in this
    computer's time zone; one that has not come yet is refused in plain words."""
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"'{value}' is not a date; use a form like 2026-11-26.") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    since = int(moment.timestamp() * 1000)
    if since > now_ms:
        raise UsageError(
            f"{value.strip()} has not come yet; choose the day to start from, such as the "
            "last appointment."
        )
    return since


def coming_to_postpone(
    agreement: Agreement, now_ms: int, moved: Mapping[tuple[EventId, int], Postponement]
) -> tuple[EventId, Occurrence]:
    """The window version and its coming time that ``agreement`` may postpone: a window
    in force, its next time not moved yet (a time is postponed once, by either partner).
    Raises ``nothing_open`` or ``already_postponed`` in words for both front ends."""
    current = agreement.current
    if agreement.kind != "window" or agreement.status != "in_force" or current is None:
        raise TrellisError("That is not a window in force.", code=ClientErrorCode.NOTHING_OPEN)
    assert current.window is not None  # a window agreement always carries one
    coming = next_occurrence([(current.id, current.window)], now_ms, moved)
    if coming is None:
        raise TrellisError("That window has no coming time.", code=ClientErrorCode.NOTHING_OPEN)
    if coming.start != coming.scheduled:
        raise TrellisError(
            f"The time on {local_time(coming.scheduled)} was already postponed once, to "
            f"{local_time(coming.start)}; a time can be postponed only once.",
            code=ClientErrorCode.ALREADY_POSTPONED,
        )
    return current.id, coming


def check_postponed_to(to_ms: int, scheduled_ms: int) -> None:
    """A time moves later, by at most a week (``MAX_POSTPONE_MIN``); raises ``usage``."""
    if not 0 < to_ms - scheduled_ms <= MAX_POSTPONE_MIN * 60_000:
        raise UsageError(
            f"Choose a time after {local_time(scheduled_ms)} and at most a week later."
        )


def postponed_sentence(scheduled_ms: int, to_ms: int) -> str:
    """What a postponement says once written (before the delivery sentence)."""
    return (
        f"Postponed from {local_time(scheduled_ms)} to {local_time(to_ms)}. A time can be "
        "postponed once, by either of you."
    )
