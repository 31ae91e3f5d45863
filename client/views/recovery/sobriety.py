"""Sobriety counters, sans-I/O: the current run and the total sober days.

Part of :mod:`client.views.recovery` (import from there). Kept apart because it is the one
fold that turns moments into calendar days, which needs the person's time zone and
today's date; both are parameters, never read from the clock here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from client.core.verify import Membership, VerifiedEvent
from client.views.moments import is_calendar_date
from schemas.ids import MemberId
from schemas.practices import DisclosureMade, SobrietyStarted

SLIP_KINDS = frozenset({"slip", "relapse"})
"""Disclosure kinds that may mark a day on the sobriety calendar (only when the
behaviour was in the inner circle: :func:`breaks_sobriety`)."""


def breaks_sobriety(payload: DisclosureMade) -> bool:
    """Whether a disclosure ends a sober run: a slip or relapse in the inner circle.

    A slip or relapse that names no circle counts as inner: the writer called it a slip,
    and histories written before circles were asked for keep their counts. A middle-
    circle report is a risk disclosure and never shortens the run; ``outer`` is not a
    circle for a slip, so such a report changes nothing (docs/PROTOCOL.md §10.4).
    """
    if payload.kind not in SLIP_KINDS:
        return False
    circle = payload.slip.circle if payload.slip is not None else None
    return circle in (None, "inner")


def is_risk_report(payload: DisclosureMade) -> bool:
    """A middle-circle report: shown as a risk disclosure, counted as no slip."""
    circle = payload.slip.circle if payload.slip is not None else None
    return circle == "middle" and payload.kind in {*SLIP_KINDS, "risk"}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_DAY = timedelta(days=1)


@dataclass
class SobrietyView:
    """One member's sober days, as :func:`fold_sobriety` defines them."""

    member: MemberId
    label: str
    """The label of the latest start (``""`` when none was given)."""
    start: date | None
    """The latest start date recorded; None when the member has only slips on record."""
    current_run_days: int
    total_sober_days: int
    slips: list[date]
    """Every calendar day with an inner-circle slip or relapse by this member, sorted,
    each day once."""
    first_start: date | None = None
    """The earliest start date ever recorded: where the total is counted from."""
    risks: list[date] = field(default_factory=list)
    """Days with a middle-circle (risk) report: shown, never counted against a run."""


def local_date(ms: int, tz: tzinfo) -> date:
    """The calendar date, in ``tz``, of a moment in ms since the Unix epoch (UTC).

    A calendar date (a date typed without a time, docs/PROTOCOL.md §10.8) is that date
    in every zone: from UTC+12 its noon-UTC stand-in falls on the next local day, and a
    slip dated 2026-01-20 in Auckland must count on 2026-01-20."""
    moment = _EPOCH + timedelta(milliseconds=ms)  # integers: no rounding across midnight
    if is_calendar_date(ms):
        return moment.date()
    return moment.astimezone(tz).date()


def _parse_date(text: str) -> date | None:
    # The schema checks the YYYY-MM-DD shape only; "2026-02-30" has that shape.
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class _Record:
    starts: list[tuple[date, str]] = field(default_factory=list)
    slip_days: set[date] = field(default_factory=set)
    risk_days: set[date] = field(default_factory=set)


def fold_sobriety(
    ordered: Iterable[VerifiedEvent], membership: Membership, today: date, tz: tzinfo
) -> dict[MemberId, SobrietyView]:
    """Each member's sober-day counters on ``today``, in the time zone ``tz``.

    Inputs, per member (any of their devices; events by non-members are skipped):

    * **starts**: their ``sobriety_started`` events. The *latest in causal order* is the
      current ``start`` (a later one replaces an earlier one) and gives the ``label``.
      A date that is not on the calendar (``2026-02-30``) is ignored.
    * **slip days**: the calendar days, in ``tz``, of the ``occurred_at`` of their
      ``slip`` and ``relapse`` disclosures in the inner circle (:func:`breaks_sobriety`).
      Two slips on one day are one slip day. Middle-circle reports are listed as
      ``risks`` and change no counter; an ``outer`` slip changes nothing.

    Days are counted as *whole days already lived*: a range ``[a, b)`` includes day
    ``a`` and excludes day ``b``, and ``b`` is always ``today``, which is not over yet.

    * ``current_run_days`` = the number of days in ``[run_from, today)``, never below 0,
      where ``run_from`` is ``start``, or the day after the last slip day ``d`` with
      ``start <= d <= today`` if that is later. So a start of today gives 0, a start of
      yesterday gives 1, a slip yesterday gives 0, a slip today gives 0, and a start in
      the future gives 0. Slip days after ``today`` do not end a run that has not yet
      reached them.
    * ``total_sober_days`` = the number of days in ``[first_start, today)`` minus the
      number of distinct slip days in ``[first_start, today)``, never below 0, where
      ``first_start`` is the *earliest* start date ever recorded by the member. A slip
      takes away that one day, never the days before it; a new start after a relapse
      resets the current run but not the total. Using the earliest date (normally the
      first recorded) means a start corrected to an earlier date extends the total, so
      the total always holds the current run. Days between a relapse and a later new
      start stay in the total unless slips were reported on them.

    Members appear (in the causal order of their first start, slip or risk report) if
    they recorded at least one; with no start, both counters are 0.
    """
    records: dict[MemberId, _Record] = {}
    for event in ordered:
        member = membership.member_of(event.author)
        if member is None:
            continue
        payload = event.payload
        if isinstance(payload, SobrietyStarted):
            started = _parse_date(payload.date)
            if started is not None:
                records.setdefault(member.member_id, _Record()).starts.append(
                    (started, payload.label)
                )
        elif isinstance(payload, DisclosureMade) and breaks_sobriety(payload):
            day = local_date(event.body.occurred_at, tz)
            records.setdefault(member.member_id, _Record()).slip_days.add(day)
        elif isinstance(payload, DisclosureMade) and is_risk_report(payload):
            day = local_date(event.body.occurred_at, tz)
            records.setdefault(member.member_id, _Record()).risk_days.add(day)
    return {member_id: _view(member_id, r, today) for member_id, r in records.items()}


def _view(member_id: MemberId, record: _Record, today: date) -> SobrietyView:
    start, label = record.starts[-1] if record.starts else (None, "")
    first_start = min((d for d, _ in record.starts), default=None)
    return SobrietyView(
        member=member_id,
        label=label,
        start=start,
        current_run_days=_current_run(start, record.slip_days, today),
        total_sober_days=_total(first_start, record.slip_days, today),
        slips=sorted(record.slip_days),
        first_start=first_start,
        risks=sorted(record.risk_days),
    )


def _current_run(start: date | None, slip_days: set[date], today: date) -> int:
    if start is None:
        return 0
    run_from = start
    last_slip = max((d for d in slip_days if start <= d <= today), default=None)
    if last_slip is not None:
        run_from = max(run_from, last_slip + _ONE_DAY)
    return max(0, (today - run_from).days)


def _total(first_start: date | None, slip_days: set[date], today: date) -> int:
    if first_start is None:
        return 0
    span = max(0, (today - first_start).days)
    slipped = sum(1 for d in slip_days if first_start <= d < today)
    return max(0, span - slipped)
