"""``trellis agreement``, ``trellis plan`` and ``trellis windows``: agreements both
partners consent to, the three-circles recovery plan, and agreed times for hard
conversations. All three are versioned agreements underneath (docs/PROTOCOL.md §10)."""

from __future__ import annotations

import argparse
from typing import Any

from client.agreements import Agreement, AgreementVersion
from client.cli_common import (
    UsageError,
    open_space,
    parse_date,
    print_json,
    read_optional,
)
from client.errors import ClientErrorCode, TrellisError
from client.present import iso_utc, local_time
from client.recovery import describe_window, next_window
from client.space import Space
from client.views import Moment
from schemas.ids import EventId
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
    ThreeCircles,
    Window,
)

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

SAVED = "It is shared at the next 'trellis sync'."


def _find(space: Space, ident: str) -> tuple[Agreement, AgreementVersion | None]:
    view = space.views().agreements
    try:
        found = view.find(ident)
    except LookupError as exc:
        raise TrellisError(str(exc), code=ClientErrorCode.NOT_FOUND) from None
    if isinstance(found, AgreementVersion):
        agreement = next(a for a in view.agreements if a.id == found.agreement_id)
        return agreement, found
    return found, None


def _open_version(space: Space, ident: str) -> AgreementVersion:
    """The version an accept/decline applies to: named, or the only open proposal."""
    agreement, version = _find(space, ident)
    if version is not None:
        return version
    open_versions = [v for v in agreement.versions if v.status == "proposed"]
    if len(open_versions) == 1:
        return open_versions[0]
    if not open_versions:
        raise TrellisError(
            f"'{agreement.title}' has no proposal waiting for an answer.",
            code=ClientErrorCode.NOTHING_OPEN,
        )
    raise TrellisError(
        f"'{agreement.title}' has {len(open_versions)} open proposals; name one by its "
        "version id (see 'trellis agreement show').",
        code=ClientErrorCode.AMBIGUOUS_ID,
    )


def _active_version(space: Space, ident: str) -> AgreementVersion:
    """The version a withdrawal or review applies to: named, or the one in force."""
    agreement, version = _find(space, ident)
    if version is not None:
        return version
    if agreement.current is not None and agreement.current.status in ("in_force", "expired"):
        return agreement.current
    open_versions = [v for v in agreement.versions if v.status == "proposed"]
    if len(open_versions) == 1:
        return open_versions[0]
    raise TrellisError(
        f"'{agreement.title}' has nothing in force to withdraw from; name a version id.",
        code=ClientErrorCode.NOTHING_OPEN,
    )


def version_json(space: Space, v: AgreementVersion) -> dict[str, Any]:
    def consent(c: Any) -> dict[str, Any]:
        out = {
            "member": space.member_name(c.member),
            "at": iso_utc(c.at),
            "event": c.event_id.hex(),
        }
        note = getattr(c, "note", None)
        if note:
            out["note"] = note
        return out

    return {
        "id": v.id.hex(),
        "number": v.number,
        "status": v.status,
        "title": v.title,
        "clauses": list(v.clauses),
        "kind": v.kind,
        "proposed_by": space.member_name(v.proposer),
        "proposed_at": iso_utc(v.proposed_at),
        "revises": v.revises.hex() if v.revises else None,
        "review_on": v.review_on,
        "expires_on": v.expires_on,
        "narrowing": v.narrowing,
        "in_force_since": iso_utc(v.in_force_since) if v.in_force_since else None,
        "accepted_by": [consent(c) for c in v.accepted_by],
        "declined_by": [consent(c) for c in v.declined_by],
        "withdrawn_by": consent(v.withdrawn_by) if v.withdrawn_by else None,
        "reviews": [
            {
                "member": space.member_name(r.member),
                "at": iso_utc(r.at),
                "outcome": r.outcome,
                "note": r.note,
                "next_review_on": r.next_review_on,
            }
            for r in v.reviews
        ],
        "circles": (
            {"inner": v.circles.inner, "middle": v.circles.middle, "outer": v.circles.outer}
            if v.circles
            else None
        ),
        "window": describe_window(v.window) if v.window else None,
    }


def agreement_json(space: Space, a: Agreement, *, versions: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id.hex(),
        "title": a.title,
        "kind": a.kind,
        "status": a.status,
        "review_due": a.review_due,
        "expired": a.expired,
        "current_version": a.current.id.hex() if a.current else None,
    }
    if versions:
        out["versions"] = [version_json(space, v) for v in a.versions]
    return out


_STATUS_WORDS = {
    "proposed": "waiting for an answer",
    "in_force": "in force",
    "declined": "declined",
    "withdrawn": "consent withdrawn",
    "superseded": "replaced by a newer version",
    "expired": "expired: talk about renewing it",
}


def _status_line(a: Agreement) -> str:
    flags = " (review due)" if a.review_due and a.status == "in_force" else ""
    return f"[{a.id.hex()[:8]}] {a.title}: {_STATUS_WORDS.get(a.status, a.status)}{flags}"


async def cmd_list(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        kinds = {"plan": "recovery_plan", "windows": "window"}
        kind = kinds.get(getattr(args, "family", ""), "agreement")
        agreements = [a for a in space.views().agreements.agreements if a.kind == kind]
        if args.json:
            print_json([agreement_json(space, a, versions=False) for a in agreements])
            return 0
        if not agreements:
            print("Nothing here yet.")
        for a in agreements:
            print(_status_line(a))
    return 0


async def cmd_show(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        agreement, _ = _find(space, args.id)
        if args.json:
            print_json(agreement_json(space, agreement, versions=True))
            return 0
        print(_status_line(agreement))
        for v in agreement.versions:
            print(
                f"\nVersion {v.number} [{v.id.hex()[:8]}]: {_STATUS_WORDS.get(v.status, v.status)}"
            )
            print(f"  proposed by {space.member_name(v.proposer)} on {local_time(v.proposed_at)}")
            for clause in v.clauses:
                print(f"  - {clause}")
            if v.circles:
                for name in ("inner", "middle", "outer"):
                    items = getattr(v.circles, name)
                    if items:
                        print(f"  {name} circle: {', '.join(items)}")
            if v.window:
                print(f"  {describe_window(v.window)}")
            if v.review_on:
                print(f"  review on {v.review_on}")
            if v.expires_on:
                print(f"  expires on {v.expires_on}")
            for c in v.accepted_by:
                print(f"  accepted by {space.member_name(c.member)} on {local_time(c.at)}")
            for c in v.declined_by:
                print(f"  declined by {space.member_name(c.member)} on {local_time(c.at)}")
            if v.withdrawn_by:
                who = space.member_name(v.withdrawn_by.member)
                print(f"  consent withdrawn by {who} on {local_time(v.withdrawn_by.at)}")
            for r in v.reviews:
                print(
                    f"  reviewed by {space.member_name(r.member)} on {local_time(r.at)}: "
                    f"{r.outcome}"
                )
    return 0


async def _propose(args: argparse.Namespace, payload_for: Any) -> int:
    async with await open_space(args) as space:
        revises: EventId | None = None
        if args.revises:
            agreement, version = _find(space, args.revises)
            base = version or agreement.current
            if base is None:
                raise TrellisError(
                    "That agreement has no version to revise.", code=ClientErrorCode.NOT_FOUND
                )
            revises = base.id
        event = await space.append(payload_for(revises))
        print(
            f"Proposed ({event.event_id.hex()[:8]}). Your partner can accept or decline it. {SAVED}"
        )
    return 0


async def cmd_propose(args: argparse.Namespace) -> int:
    clauses = [c.strip() for c in args.clause or [] if c.strip()]
    if not clauses:
        raise UsageError("An agreement needs at least one --clause.")
    return await _propose(
        args,
        lambda revises: AgreementProposed(
            title=args.title.strip(),
            clauses=clauses,
            revises=revises,
            review_on=parse_date(args.review_on),
            expires_on=parse_date(args.expires_on),
        ),
    )


async def cmd_plan_propose(args: argparse.Namespace) -> int:
    circles = ThreeCircles(
        inner=list(args.inner or []), middle=list(args.middle or []), outer=list(args.outer or [])
    )
    if not (circles.inner or circles.middle or circles.outer):
        raise UsageError("A recovery plan needs at least one --inner, --middle or --outer item.")
    clauses = [f"Inner circle: {i}" for i in circles.inner]
    return await _propose(
        args,
        lambda revises: AgreementProposed(
            title=args.title,
            clauses=clauses,
            revises=revises,
            kind="recovery_plan",
            circles=circles,
            review_on=parse_date(args.review_on),
        ),
    )


def _parse_offset(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    try:
        hours, _, minutes = text.lstrip("+-").partition(":")
        return sign * (int(hours) * 60 + int(minutes or 0))
    except ValueError:
        raise UsageError(f"'{text}' is not a UTC offset; use a form like +01:00.") from None


async def cmd_window_propose(args: argparse.Namespace) -> int:
    day = args.weekday.strip().lower()[:3]
    if day not in _WEEKDAYS:
        raise UsageError("--weekday takes a day name, e.g. sunday or sun.")
    offset = _parse_offset(args.utc_offset) if args.utc_offset else _local_offset_min()
    window = Window(
        weekday=_WEEKDAYS.index(day),
        time=args.time,
        utc_offset_min=offset,
        duration_min=args.duration,
        topic=args.topic or "",
    )
    title = f"Transparency window: {args.topic}" if args.topic else "Transparency window"
    return await _propose(
        args,
        lambda revises: AgreementProposed(
            title=title,
            clauses=[describe_window(window)],
            revises=revises,
            kind="window",
            window=window,
        ),
    )


def _local_offset_min() -> int:
    from datetime import datetime

    offset = datetime.now().astimezone().utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


async def cmd_windows_list(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        moment = Moment.now()
        views = space.views(moment)
        windows = [a for a in views.agreements.agreements if a.kind == "window"]
        in_force = [
            a.current.window
            for a in windows
            if a.current is not None and a.status == "in_force" and a.current.window
        ]
        upcoming = next_window(in_force, moment.now_ms)
        if args.json:
            print_json(
                {
                    "windows": [agreement_json(space, a, versions=False) for a in windows],
                    "next": (
                        {"starts_at": iso_utc(upcoming[1]), "window": describe_window(upcoming[0])}
                        if upcoming
                        else None
                    ),
                }
            )
            return 0
        for a in windows:
            print(_status_line(a))
        if upcoming:
            print(f"Next: {local_time(upcoming[1])}, {describe_window(upcoming[0])}")
        elif not windows:
            print("No windows agreed yet.")
    return 0


async def _answer(args: argparse.Namespace, make: Any, done: str) -> int:
    async with await open_space(args) as space:
        version = make[0](space, args.id)
        await space.append(make[1](version.id, args))
        print(f"{done} {SAVED}")
    return 0


def _partners_proposal(space: Space, ident: str) -> AgreementVersion:
    version = _open_version(space, ident)
    me = space.me()
    if me is not None and version.proposer == me.member_id:
        raise TrellisError(
            "You proposed this one; it comes into force when your partner accepts it.",
            code=ClientErrorCode.OWN_PROPOSAL,
        )
    return version


async def cmd_accept(args: argparse.Namespace) -> int:
    return await _answer(
        args,
        (_partners_proposal, lambda v, a: AgreementAccepted(version=v, note=read_optional(a.note))),
        "Accepted. It is in force once every partner has accepted it.",
    )


async def cmd_decline(args: argparse.Namespace) -> int:
    return await _answer(
        args,
        (
            _partners_proposal,
            lambda v, a: AgreementDeclined(version=v, reason=read_optional(a.reason)),
        ),
        "Declined.",
    )


async def cmd_withdraw(args: argparse.Namespace) -> int:
    return await _answer(
        args,
        (
            _active_version,
            lambda v, a: AgreementWithdrawn(version=v, reason=read_optional(a.reason)),
        ),
        "Consent withdrawn. This takes effect now.",
    )


async def cmd_review(args: argparse.Namespace) -> int:
    return await _answer(
        args,
        (
            _active_version,
            lambda v, a: AgreementReviewed(
                version=v,
                outcome="revise" if a.revise else "keep",
                note=read_optional(a.note),
                next_review_on=parse_date(a.next_review_on),
            ),
        ),
        "Review recorded.",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agreement = sub.add_parser("agreement", help="agreements you both consent to").add_subparsers(
        dest="agreement_command", required=True, metavar="ACTION"
    )
    p = agreement.add_parser("propose", help="propose an agreement, or a revision of one")
    p.add_argument("--title", required=True)
    p.add_argument("--clause", action="append", help="one clause; repeat for more")
    p.add_argument("--review-on", metavar="DATE", help="a date to review it together")
    p.add_argument("--expires-on", metavar="DATE", help="a date after which it no longer holds")
    p.add_argument("--revises", metavar="ID", help="the agreement (or version) this revises")
    p.set_defaults(handler=cmd_propose)
    for name, handler, text in (
        ("accept", cmd_accept, "accept a proposal"),
        ("decline", cmd_decline, "decline a proposal"),
        ("withdraw", cmd_withdraw, "withdraw your consent (takes effect at once)"),
    ):
        p = agreement.add_parser(name, help=text)
        p.add_argument("id", help="agreement or version id, or its first characters")
        if name == "accept":
            p.add_argument("--note")
        else:
            p.add_argument("--reason", help="optional; never required")
        p.set_defaults(handler=handler)
    p = agreement.add_parser("review", help="record a review of an agreement in force")
    p.add_argument("id")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--keep", action="store_true", help="keep it as it is (default)")
    group.add_argument("--revise", action="store_true", help="it needs a new version")
    p.add_argument("--note")
    p.add_argument("--next-review-on", metavar="DATE")
    p.set_defaults(handler=cmd_review)
    p = agreement.add_parser("list", help="every agreement and its status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list, family="agreement")
    p = agreement.add_parser("show", help="the full, verified history of one agreement")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)

    plan = sub.add_parser("plan", help="the three-circles recovery plan").add_subparsers(
        dest="plan_command", required=True, metavar="ACTION"
    )
    p = plan.add_parser("propose", help="propose the plan, or a new version of it")
    p.add_argument("--title", default="Recovery plan")
    p.add_argument("--inner", action="append", help="a behaviour abstained from")
    p.add_argument("--middle", action="append", help="a warning sign or risk")
    p.add_argument("--outer", action="append", help="a healthy behaviour")
    p.add_argument("--review-on", metavar="DATE")
    p.add_argument("--revises", metavar="ID")
    p.set_defaults(handler=cmd_plan_propose)
    p = plan.add_parser("list", help="recovery plans and their status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list, family="plan")

    windows = sub.add_parser("windows", help="agreed times for hard conversations").add_subparsers(
        dest="windows_command", required=True, metavar="ACTION"
    )
    p = windows.add_parser("propose", help="propose a recurring time")
    p.add_argument("--weekday", required=True, help="e.g. sunday")
    p.add_argument("--time", required=True, help="local time, HH:MM")
    p.add_argument("--duration", type=int, default=60, help="minutes (default 60)")
    p.add_argument("--topic", help="what the time is for")
    p.add_argument("--utc-offset", help="e.g. +01:00 (default: this device's)")
    p.add_argument("--revises", metavar="ID")
    p.set_defaults(handler=cmd_window_propose)
    p = windows.add_parser("list", help="agreed windows and the next one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_windows_list)
