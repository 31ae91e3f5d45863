"""``trellis agreement``, ``trellis plan`` and ``trellis windows``: agreements both
partners consent to, the three-circles recovery plan, and agreed times for hard
conversations. All three are versioned agreements underneath (docs/PROTOCOL.md §10),
but the recovery plan is not mutual: it belongs to the partner who writes it, and the
other partner reads it. What is mutual is an ordinary agreement about what is told,
and when."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from client.cli.common import (
    UsageError,
    deliver,
    open_space,
    parse_date,
    parse_review_date,
    parse_when,
    print_json,
    read_optional,
    tell_delivery,
)
from client.errors import ClientErrorCode, TrellisError
from client.space import Space
from client.views import Moment
from client.views.agreements import Agreement, AgreementVersion
from client.views.present import (
    accepted_sentence,
    delivery_sentence,
    iso_utc,
    local_time,
    without_effect_sentence,
)
from client.views.recovery import describe_window, known_zone, next_occurrence
from client.views.recovery_windows import windows_in_force
from schemas.ids import EventId
from schemas.practices import (
    MAX_POSTPONE_MIN,
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
    Binds,
    CircleItem,
    MiddleType,
    ReviewedWith,
    ThreeCircles,
    Window,
    WindowPostponed,
)

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_CIRCLES = ("inner", "middle", "outer")


class _AddItem(argparse.Action):
    """``--clause TEXT``, ``--inner TEXT``...: adds an item; the options right after it
    (``--binds``, ``--definition``, ``--type``, ``--reviewed-with``) describe it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        items: list[dict[str, Any]] = list(getattr(namespace, "items", None) or [])
        items.append({"kind": self.const, "text": str(values).strip()})
        namespace.items = items


class _Describe(argparse.Action):
    """Describes the item given just before it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        items: list[dict[str, Any]] = getattr(namespace, "items", None) or []
        if not items:
            parser.error(f"{option_string} describes the item given before it; give that first.")
        if self.dest == "reviewed_with":
            items[-1].setdefault("reviewed_with", []).append(values)
        else:
            items[-1][self.dest] = values


def _items(args: argparse.Namespace, *kinds: str) -> list[dict[str, Any]]:
    return [i for i in getattr(args, "items", None) or [] if i["kind"] in kinds and i["text"]]


def _binds_words(space: Space, v: AgreementVersion, index: int) -> str | None:
    """Whom clause ``index`` binds, in names: the proposer's "me" is the proposer."""
    if index >= len(v.binds):
        return None
    binds = v.binds[index]
    if binds == "both":
        return "both of you"
    proposer = space.member_name(v.proposer)
    others = [m for m in space.profiles() if m != v.proposer]
    partner = space.member_name(others[0]) if others else "the partner"
    return proposer if binds == "me" else partner


def _plan_not_yours(space: Space, version: AgreementVersion) -> None:
    me = space.me()
    if version.kind == "recovery_plan" and me is not None and version.proposer != me.member_id:
        owner = space.member_name(version.proposer)
        raise TrellisError(
            f"This recovery plan is {owner}'s: they write and revise it, and you can read it "
            "with 'trellis plan show'. What you tell each other, and when, is an agreement "
            "you make together: 'trellis agreement propose'.",
            code=ClientErrorCode.NOT_YOURS,
        )


def _hh_mm(value: str) -> str:
    """A window's local time as the payload needs it (HH:MM, 24-hour)."""
    try:
        moment = datetime.strptime(value.strip(), "%H:%M")
    except ValueError:
        raise UsageError(
            f"'{value}' is not a time of day; use 24-hour HH:MM, e.g. 19:00 for 7 pm."
        ) from None
    return moment.strftime("%H:%M")


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
        "binds": list(v.binds),
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
        "without_effect": [
            {
                "member": space.member_name(w.member),
                "action": w.action,
                "at": iso_utc(w.at),
                "event": w.event_id.hex(),
                "summary": without_effect_sentence(w, space),
            }
            for w in v.without_effect
        ],
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
            {
                "inner": v.circles.inner,
                "middle": v.circles.middle,
                "outer": v.circles.outer,
                "items": [
                    {
                        "circle": i.circle,
                        "text": i.text,
                        "definition": i.definition,
                        "type": i.type,
                        "reviewed_with": list(i.reviewed_with),
                    }
                    for i in v.circles.items
                ],
            }
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
        "review_on": a.current.review_on if a.current else None,
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


_PLAN_STATUS_WORDS = {"in_force": "current", "withdrawn": "retired by its writer"}


def _status_line(a: Agreement) -> str:
    flags = " (review due)" if a.review_due and a.status == "in_force" else ""
    if a.kind == "agreement" and a.status == "in_force" and a.current and not a.current.review_on:
        flags += " (no review date yet: agree one when you next talk)"
    words = _PLAN_STATUS_WORDS if a.kind == "recovery_plan" else {}
    status = words.get(a.status) or _STATUS_WORDS.get(a.status, a.status)
    return f"[{a.id.hex()[:8]}] {a.title}: {status}{flags}"


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
            verb = "written" if v.kind == "recovery_plan" else "proposed"
            print(f"  {verb} by {space.member_name(v.proposer)} on {local_time(v.proposed_at)}")
            for index, clause in enumerate(v.clauses):
                binds = _binds_words(space, v, index)
                print(f"  - {clause}" + (f" (binds {binds})" if binds else ""))
            if v.circles and v.circles.items:
                for item in v.circles.items:
                    kind = f", {item.type.replace('_', ' ')}" if item.type else ""
                    print(f"  {item.circle} circle{kind}: {item.text}")
                    if item.definition:
                        print(f"      what counts: {item.definition}")
                    if item.reviewed_with:
                        print(f"      reviewed with: {', '.join(item.reviewed_with)}")
            elif v.circles:
                for name in _CIRCLES:
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
                verb = "read" if v.kind == "recovery_plan" else "accepted"
                print(f"  {verb} by {space.member_name(c.member)} on {local_time(c.at)}")
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
            for w in v.without_effect:
                print(f"  {without_effect_sentence(w, space)} ({local_time(w.at)})")
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
        await tell_delivery(
            space,
            args,
            f"Proposed ({event.event_id.hex()[:8]}). Your partner can accept or decline it.",
        )
    return 0


async def cmd_propose(args: argparse.Namespace) -> int:
    clauses = _items(args, "clause")
    if not clauses:
        raise UsageError("An agreement needs at least one --clause.")
    if not args.review_on:
        raise UsageError(
            "An agreement needs a date to review it together (--review-on DATE): "
            "trust-building steps are meant to be revisited, not to last for ever."
        )
    binds = [cast(Binds, c.get("binds", "both")) for c in clauses]
    return await _propose(
        args,
        lambda revises: AgreementProposed(
            title=args.title.strip(),
            clauses=[c["text"] for c in clauses],
            revises=revises,
            review_on=parse_review_date(args.review_on),
            expires_on=parse_date(args.expires_on),
            binds=binds,
        ),
    )


def _circle_item(item: dict[str, Any]) -> CircleItem:
    if item.get("type") and item["kind"] != "middle":
        raise UsageError("--type describes a middle-circle item (after --middle).")
    return CircleItem(
        circle=item["kind"],
        text=item["text"],
        definition=(item.get("definition") or "").strip() or None,
        type=cast(MiddleType | None, item.get("type")),
        reviewed_with=cast(list[ReviewedWith], sorted(set(item.get("reviewed_with", [])))),
    )


async def cmd_plan_write(args: argparse.Namespace) -> int:
    items = [_circle_item(i) for i in _items(args, *_CIRCLES)]
    if not items:
        raise UsageError("A recovery plan needs at least one --inner, --middle or --outer item.")
    circles = ThreeCircles(
        inner=[i.text for i in items if i.circle == "inner"],
        middle=[i.text for i in items if i.circle == "middle"],
        outer=[i.text for i in items if i.circle == "outer"],
        items=items,
    )
    clauses = [f"Inner circle: {i}" for i in circles.inner] or ["Recovery plan"]
    async with await open_space(args) as space:
        me = space.me()
        view = space.views().agreements
        base: AgreementVersion | None = None
        if args.revises:
            agreement, version = _find(space, args.revises)
            base = version or agreement.current
            if base is None or base.kind != "recovery_plan":
                raise TrellisError("That is not a recovery plan.", code=ClientErrorCode.NOT_FOUND)
            _plan_not_yours(space, base)
        elif me is not None:
            # Writing again revises one's own current plan: one plan, versioned.
            mine = [
                a
                for a in view.agreements
                if a.kind == "recovery_plan"
                and a.status == "in_force"
                and a.current is not None
                and a.current.proposer == me.member_id
            ]
            base = mine[-1].current if mine else None
        event = await space.append(
            AgreementProposed(
                title=args.title,
                clauses=clauses,
                revises=base.id if base else None,
                kind="recovery_plan",
                circles=circles,
                review_on=parse_review_date(args.review_on),
            )
        )
        number = base.number + 1 if base else 1
        await tell_delivery(
            space,
            args,
            f"Saved version {number} of your recovery plan ({event.event_id.hex()[:8]}). It is "
            f"yours: your partner can read it, and cannot change or end it.",
        )
    return 0


def _parse_offset(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    try:
        hours, _, minutes = text.lstrip("+-").partition(":")
        return sign * (int(hours) * 60 + int(minutes or 0))
    except ValueError:
        raise UsageError(f"'{text}' is not a UTC offset; use a form like +01:00.") from None


def _local_zone_name() -> str | None:
    """This device's IANA time-zone name, if it has one we can read."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name and known_zone(name):
        return name
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        target = ""
    _, found, tail = target.partition("zoneinfo/")
    if found and known_zone(tail):
        return tail
    return None


async def cmd_window_propose(args: argparse.Namespace) -> int:
    day = args.weekday.strip().lower()[:3]
    if day not in _WEEKDAYS:
        raise UsageError("--weekday takes a day name, e.g. sunday or sun.")
    tz = args.tz.strip() if args.tz else None
    if tz is not None and not known_zone(tz):
        raise UsageError(
            f"'{tz}' is not a time-zone name this device knows; use a name like "
            "Europe/London or America/New_York."
        )
    if tz is None and not args.utc_offset:
        tz = _local_zone_name()
    offset = _parse_offset(args.utc_offset) if args.utc_offset else _offset_min(tz)
    window = Window(
        weekday=_WEEKDAYS.index(day),
        time=_hh_mm(args.time),
        utc_offset_min=offset,
        duration_min=args.duration,
        topic=args.topic or "",
        tz=tz,
    )
    title = f"Transparency window: {args.topic}" if args.topic else "Transparency window"
    if tz is None:
        print(
            "Note: this window keeps a fixed UTC offset, which drifts at daylight saving; "
            "give --tz (e.g. Europe/London) to follow your clock."
        )
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


def _offset_min(tz: str | None) -> int:
    """The UTC offset now in ``tz`` (or on this device): kept as the fallback."""
    zone = ZoneInfo(tz) if tz else None
    offset = datetime.now(zone).astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


async def cmd_windows_list(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        moment = Moment.now()
        views = space.views(moment)
        windows = [a for a in views.agreements.agreements if a.kind == "window"]
        upcoming = next_occurrence(windows_in_force(windows), moment.now_ms, views.postponements)
        if args.json:
            print_json(
                {
                    "windows": [agreement_json(space, a, versions=False) for a in windows],
                    "next": (
                        {
                            "starts_at": iso_utc(upcoming.start),
                            "scheduled_at": iso_utc(upcoming.scheduled),
                            "postponed": upcoming.start != upcoming.scheduled,
                            "window": describe_window(upcoming.window),
                        }
                        if upcoming
                        else None
                    ),
                }
            )
            return 0
        for a in windows:
            print(_status_line(a))
        if upcoming:
            moved = (
                f" (postponed once from {local_time(upcoming.scheduled)})"
                if upcoming.start != upcoming.scheduled
                else ""
            )
            print(f"Next: {local_time(upcoming.start)}, {describe_window(upcoming.window)}{moved}")
        elif not windows:
            print("No windows agreed yet.")
    return 0


async def cmd_window_postpone(args: argparse.Namespace) -> int:
    to = parse_when(args.to)
    if to is None:
        raise UsageError("Say when to meet instead: --to, e.g. 2026-11-30T19:00.")
    async with await open_space(args) as space:
        moment = Moment.now()
        views = space.views(moment)
        agreement, _ = _find(space, args.id)
        current = agreement.current
        if agreement.kind != "window" or agreement.status != "in_force" or current is None:
            raise TrellisError("That is not a window in force.", code=ClientErrorCode.NOTHING_OPEN)
        assert current.window is not None  # a window agreement always carries one
        coming = next_occurrence([(current.id, current.window)], moment.now_ms, views.postponements)
        if coming is None:
            raise TrellisError("That window has no coming time.", code=ClientErrorCode.NOTHING_OPEN)
        if coming.start != coming.scheduled:
            raise TrellisError(
                f"The time on {local_time(coming.scheduled)} was already postponed once, to "
                f"{local_time(coming.start)}; a time can be postponed only once.",
                code=ClientErrorCode.ALREADY_POSTPONED,
            )
        if not 0 < to - coming.scheduled <= MAX_POSTPONE_MIN * 60_000:
            raise UsageError(
                f"Choose a time after {local_time(coming.scheduled)} and at most a week later."
            )
        await space.append(
            WindowPostponed(
                window=current.id,
                occurrence=coming.scheduled,
                to=to,
                note=read_optional(args.note),
            )
        )
        await tell_delivery(
            space,
            args,
            f"Postponed from {local_time(coming.scheduled)} to {local_time(to)}. A time can "
            f"be postponed once, by either of you.",
        )
    return 0


async def _answer(args: argparse.Namespace, make: Any, done: str) -> int:
    async with await open_space(args) as space:
        agreement, named = _find(space, args.id)
        _plan_not_yours(space, named or agreement.current or agreement.versions[-1])
        version = make[0](space, args.id)
        await space.append(make[1](version.id, args))
        if done == _ACCEPTED:
            # Delivery syncs, which may bring the partner's own news: say the state after.
            outcome = await deliver(space)
            print(
                f"{accepted_sentence(_status_of(space, version.id))} {delivery_sentence(outcome)}"
            )
            if not outcome.delivered:
                args.not_delivered = True
        else:
            await tell_delivery(space, args, done)
    return 0


_ACCEPTED = "accepted"


def _status_of(space: Space, version_id: EventId) -> str:
    """A version's status on this device now ("in_force", "proposed", ...)."""
    for agreement in space.views().agreements.agreements:
        for version in agreement.versions:
            if version.id == version_id:
                return str(version.status)
    return "proposed"


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
        _ACCEPTED,
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
                next_review_on=parse_review_date(a.next_review_on),
            ),
        ),
        "Review recorded.",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agreement = sub.add_parser("agreement", help="agreements you both consent to").add_subparsers(
        dest="agreement_command", required=True, metavar="ACTION"
    )
    p = agreement.add_parser(
        "propose",
        help="propose an agreement, or a revision of one",
        description="Propose an agreement. Each --clause may be followed by --binds me, "
        "you or both (default both): whom it asks something of. Every agreement needs a "
        "--review-on date: trust-building steps are meant to be revisited.",
    )
    p.add_argument("--title", required=True)
    p.add_argument(
        "--clause", action=_AddItem, const="clause", dest="items", help="one clause; repeat"
    )
    p.add_argument(
        "--binds",
        action=_Describe,
        choices=("me", "you", "both"),
        help="whom the clause before it binds (default both)",
    )
    p.add_argument("--review-on", metavar="DATE", help="required: a date to review it together")
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

    plan = sub.add_parser(
        "plan", help="your three-circles recovery plan (yours to write; your partner reads it)"
    ).add_subparsers(dest="plan_command", required=True, metavar="ACTION")
    p = plan.add_parser(
        "write",
        aliases=["propose"],
        help="write your plan, or a new version of it",
        description="Write your three-circles plan. It is yours: each version is in use "
        "at once, your partner can read it and cannot change or end it. After an item, "
        "--definition says what exactly counts, --type (middle circle) what kind of "
        "risk it is, --reviewed-with sponsor or therapist who you went over it with.",
    )
    p.add_argument("--title", default="Recovery plan")
    for circle, text in (
        ("inner", "a behaviour you abstain from (it ends the sober run)"),
        ("middle", "a risk or warning sign (never ends the run)"),
        ("outer", "a healthy behaviour"),
    ):
        p.add_argument(f"--{circle}", action=_AddItem, const=circle, dest="items", help=text)
    p.add_argument("--definition", action=_Describe, help="what exactly counts, for the item")
    p.add_argument(
        "--type",
        action=_Describe,
        choices=("trigger", "warning_sign", "risky_behaviour", "other"),
        help="for a middle-circle item",
    )
    p.add_argument(
        "--reviewed-with",
        action=_Describe,
        choices=("sponsor", "therapist"),
        help="who you went over the item with (repeat for both)",
    )
    p.add_argument("--review-on", metavar="DATE", help="when you mean to look at it again")
    p.add_argument("--revises", metavar="ID", help="default: your current plan")
    p.set_defaults(handler=cmd_plan_write)
    p = plan.add_parser("list", help="recovery plans and their status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list, family="plan")
    p = plan.add_parser("show", help="a plan with every version and item")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)

    windows = sub.add_parser("windows", help="agreed times for hard conversations").add_subparsers(
        dest="windows_command", required=True, metavar="ACTION"
    )
    p = windows.add_parser("propose", help="propose a recurring time")
    p.add_argument("--weekday", required=True, help="e.g. sunday")
    p.add_argument("--time", required=True, help="local time, HH:MM")
    p.add_argument("--duration", type=int, default=60, help="minutes (default 60)")
    p.add_argument("--topic", help="what the time is for")
    p.add_argument(
        "--tz", metavar="ZONE", help="time-zone name, e.g. Europe/London (default: this device's)"
    )
    p.add_argument("--utc-offset", help="a fixed offset instead of a zone, e.g. +01:00")
    p.add_argument("--revises", metavar="ID")
    p.set_defaults(handler=cmd_window_propose)
    p = windows.add_parser("list", help="agreed windows and the next one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_windows_list)
    p = windows.add_parser(
        "postpone", help="move the next time of a window, once (either of you can)"
    )
    p.add_argument("id", help="the window's id, or its first characters")
    p.add_argument("--to", required=True, metavar="TIME", help="e.g. 2026-11-30T19:00")
    p.add_argument("--note", help="optional")
    p.set_defaults(handler=cmd_window_postpone)
