"""The first page of a report: what a therapist asks for, since a chosen date
(docs/PROTOCOL.md "Exports", "The first page"; DOMAIN.md §2).

A pure fold over an export's revealed events, by the apps' own folds (client/views),
with the membership the export establishes and the export's ``created_at`` as "now".
It sees only the revealed events, so it can hold nothing the export's consent rules
keep out: the other partner's words only with their consent event, writer-only kinds
only when their writer exported them. Nothing here reads a clock, a locale or a time
zone database: the exporter computes it, the verifier computes it again from the signed
events, and both must get the same bytes (``summary_mismatch`` otherwise).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence

from client.core.verify import Device, Member, Membership, VerifiedEvent
from client.export.first_page_doc import (
    ChangeKind,
    FirstPage,
    PageChange,
    PageCheckIns,
    PagePacing,
    PagePostponed,
    PageReview,
    PageSignal,
    PageSlip,
    PageWindow,
)
from client.views.agreements import Agreement, AgreementVersion, fold_agreements
from client.views.intimacy import fold_pacing
from client.views.recovery import (
    SLIP_KINDS,
    fold_checkins,
    fold_disclosures,
    fold_postponements,
    fold_signals,
)
from schemas.ids import DeviceId, EventId, MemberId
from schemas.practices import Window

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
REVIEW_AHEAD_DAYS = 28
"""Reviews coming up within four weeks are listed beside those already due."""
_EPOCH_WEEKDAY = 3
"""1970-01-01 was a Thursday (Monday is 0)."""

_Namer = Callable[[bytes | None], str]
"""Member id (or None) to the name the export establishes."""


def membership_of(
    device_members: Mapping[DeviceId, bytes], names: Mapping[bytes, str]
) -> Membership:
    """The membership an export establishes (client/export/attribution.py), as the
    folds take it."""
    none = EventId(b"")
    members = {MemberId(m): Member(MemberId(m), name, none) for m, name in names.items()}
    devices = {
        DeviceId(d): Device(DeviceId(d), MemberId(m), b"", none) for d, m in device_members.items()
    }
    return Membership(members=members, devices=devices)


def utc_date(ms: int) -> datetime.date:
    """The UTC date of ``ms``; past the year 9999, the last date there is."""
    try:
        return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).date()
    except (ValueError, OverflowError, OSError):
        return datetime.date.max


def first_page(
    events: Sequence[VerifiedEvent],
    device_members: Mapping[DeviceId, bytes],
    names: Mapping[bytes, str],
    *,
    since: int,
    as_of: int,
) -> FirstPage:
    """The first page for ``events`` (an export's revealed events, in their causal
    order) from ``since`` to ``as_of`` (ms)."""
    membership = membership_of(device_members, names)

    def name(member: bytes | None) -> str:
        return names.get(bytes(member), "a partner") if member is not None else "a partner"

    view = fold_agreements(events, membership, utc_date(as_of))
    return FirstPage(
        since=since,
        as_of=as_of,
        changes=_changes(view.agreements, since, name),
        reviews=_reviews(view.agreements, utc_date(as_of)),
        slips=_slips(events, membership, since, name),
        check_ins=_check_ins(events, membership, names, since),
        signals=[
            PageSignal(
                event=s.id.hex(),
                by=name(s.sender),
                level=s.level,  # type: ignore[arg-type]  # a SignalLevel, from the payload
                sent_at=s.sent_at,
                returns_at=s.until if s.level != "stop" else None,
                cleared_at=s.cleared_at,
            )
            for s in fold_signals(events, membership)[0]
            if s.sent_at >= since
        ],
        windows=_windows(events, membership, view.agreements, since, as_of, name),
        pacing=_pacing(events, membership, since),
    )


def _changes(agreements: list[Agreement], since: int, name: _Namer) -> list[PageChange]:
    out: list[tuple[int, int, PageChange]] = []

    def add(a: Agreement, v: AgreementVersion, at: int, what: ChangeKind, by: bytes) -> None:
        if at >= since:
            change = PageChange(at, a.id.hex(), v.title, a.kind, what, name(by))  # type: ignore[arg-type]
            out.append((at, len(out), change))

    for a in agreements:
        for v in a.versions:
            add(a, v, v.proposed_at, "revised" if v.revises else "proposed", v.proposer)
            for c in v.accepted_by:  # of a plan, the partner has read it (§10.3)
                add(a, v, c.at, "read" if a.kind == "recovery_plan" else "accepted", c.member)
            for c in v.declined_by:
                add(a, v, c.at, "declined", c.member)
            if v.withdrawn_by is not None:
                add(a, v, v.withdrawn_by.at, "withdrawn", v.withdrawn_by.member)
            for r in v.reviews:
                add(a, v, r.at, "reviewed", r.member)
    return [c for _, _, c in sorted(out, key=lambda t: (t[0], t[1]))]


def review_date(version: AgreementVersion) -> str | None:
    """The review date that stands, if any: the rule of §10.3, as the agreement fold's
    (a ``revise`` review without a new date makes it due from that review's day)."""
    due_on = version.review_on
    for review in version.reviews:
        if review.next_review_on is not None:
            due_on = review.next_review_on
        elif review.outcome == "revise":
            due_on = utc_date(review.at).isoformat()
        elif due_on is not None and utc_date(review.at).isoformat() >= due_on:
            due_on = None
    return due_on


def _reviews(agreements: list[Agreement], today: datetime.date) -> list[PageReview]:
    try:
        ahead = (today + datetime.timedelta(days=REVIEW_AHEAD_DAYS)).isoformat()
    except OverflowError:
        ahead = datetime.date.max.isoformat()
    out: list[PageReview] = []
    for a in agreements:
        version = a.current
        if a.status != "in_force" or a.kind != "agreement" or version is None or a.expired:
            continue
        on = review_date(version)
        if on is not None and on <= ahead:
            out.append(PageReview(a.id.hex(), a.title, on, a.review_due))
    return sorted(out, key=lambda r: (r.review_on, r.title))


def _slips(
    events: Sequence[VerifiedEvent], membership: Membership, since: int, name: _Namer
) -> list[PageSlip]:
    disclosures, _ = fold_disclosures(events, membership, {})
    out: list[PageSlip] = []
    for d in disclosures:
        if d.recorded_at < since or not (d.written_kind in SLIP_KINDS or d.kind == "risk"):
            continue
        report = d.slip
        out.append(
            PageSlip(
                event=d.id.hex(),
                by=name(d.author),
                kind=d.kind,  # type: ignore[arg-type]  # slip, relapse or risk: filtered above
                circle=report.circle if report is not None else None,
                occurred_at=d.occurred_at,
                disclosed_at=d.recorded_at,
                supports=list(report.support_contacted) if report is not None else [],
                next_steps=list(report.next_steps) if report is not None else [],
            )
        )
    return out


def _check_ins(
    events: Sequence[VerifiedEvent],
    membership: Membership,
    names: Mapping[bytes, str],
    since: int,
) -> list[PageCheckIns]:
    """Every member of the export, in the order they joined, with their count (0 too:
    each person is listed, so no one's absence reads as an omission)."""
    checkins = [c for c in fold_checkins(events, membership) if c.recorded_at >= since]
    out = []
    for member, member_name in names.items():
        own = [c.recorded_at for c in checkins if bytes(c.author) == member]
        out.append(PageCheckIns(member_name, len(own), max(own) if own else None))
    return out


def times_due(window: Window, start: int, end: int) -> int:
    """How many scheduled starts of ``window`` fall in ``[start, end)``: weekly, at its
    weekday and time with its written UTC offset. Arithmetic, not a loop, and no time
    zone database, so any period and any machine give the same count."""
    if end <= start:
        return 0
    hours, minutes = (int(x) for x in window.time.split(":"))
    day = (window.weekday - _EPOCH_WEEKDAY) % 7
    phase = (
        day * DAY_MS + (hours * 60 + minutes) * 60_000 - window.utc_offset_min * 60_000
    ) % WEEK_MS
    first = start + (phase - start) % WEEK_MS
    return 0 if first >= end else (end - 1 - first) // WEEK_MS + 1


def _windows(
    events: Sequence[VerifiedEvent],
    membership: Membership,
    agreements: list[Agreement],
    since: int,
    as_of: int,
    name: _Namer,
) -> list[PageWindow]:
    moved, _ = fold_postponements(events, membership)
    out: list[PageWindow] = []
    for a in agreements:
        if a.kind != "window":
            continue
        for v in a.versions:
            if v.window is None or v.in_force_since is None:
                continue
            end = v.withdrawn_by.at if v.withdrawn_by is not None else as_of
            if v.closed_by is not None and v is not a.current:
                end = min(end, _closed_at(a, v, as_of))
            start = max(since, v.in_force_since)
            postponed = [
                PagePostponed(occurrence, p.to, name(p.by))
                for (window_id, occurrence), p in sorted(moved.items(), key=lambda kv: kv[0][1])
                if window_id == v.id and start <= occurrence < min(end, as_of)
            ]
            due = times_due(v.window, start, min(end, as_of))
            if due or postponed:
                out.append(PageWindow(a.id.hex(), v.title, due, postponed))
    return out


def _closed_at(a: Agreement, v: AgreementVersion, as_of: int) -> int:
    """When a version stopped being in force because a later one came into force."""
    later = [w.in_force_since for w in a.versions if w.number > v.number and w.in_force_since]
    return min(later) if later else as_of


def _pacing(
    events: Sequence[VerifiedEvent], membership: Membership, since: int
) -> PagePacing | None:
    view = fold_pacing(events, membership)
    if view.plan is None and not view.versions:
        return None
    moves = [m for m in view.history if m.at >= since]
    plan = view.plan
    return PagePacing(
        step=None if view.stage is None or plan is None else view.stage + 1,
        steps=len(plan.stages) if plan is not None else 0,
        step_title=(
            plan.stages[view.stage].title
            if plan is not None and view.stage is not None and view.stage < len(plan.stages)
            else None
        ),
        forward=sum(1 for m in moves if m.kind == "forward"),
        step_backs=sum(1 for m in moves if m.kind == "back"),
    )
