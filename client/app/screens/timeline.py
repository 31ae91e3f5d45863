"""Timeline (every event in the order both partners see, with filters) and verify
(the whole local history checked, its findings in plain words). The summaries are
client/views/present.py's, the checks client/views/audit.py's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Response, get
from litestar.params import QueryParameter

from client.app.screen import App, Screen, page
from client.app.views_cache import current_events, current_views
from client.core.membership_rules import Membership
from client.views.present import event_summary, shown
from schemas.payloads import PAYLOAD_TYPES, payload_kind
from schemas.practices import SignalSent

TIMELINE_PAGE = 200
"""Events shown at once, newest first; the rest are one click away (a home holds
thousands)."""
KINDS = sorted({str(t.__struct_config__.tag) for t in PAYLOAD_TYPES})
Filter = Annotated[str, QueryParameter()]
Count = Annotated[int, QueryParameter(ge=1, le=100_000)]


def _since_ms(value: str) -> int | None:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return int(moment.astimezone().timestamp() * 1000)


@get("/timeline")
async def timeline(
    app: App, kind: Filter = "", since: Filter = "", who: Filter = "", limit: Count = TIMELINE_PAGE
) -> Response[Any]:
    space = app.require()
    views = current_views(space)
    since_ms = _since_ms(since) if since else None
    members = {m.hex(): space.member_name(m) for m in space.profiles()}
    membership = space.membership
    matching = [
        e
        for e in current_events(space)
        if shown(e)
        and (not kind or payload_kind(e.payload).startswith(kind))
        and (since_ms is None or e.body.recorded_at >= since_ms)
        and (not who or _member_of(membership, e.author) == who)
    ]
    me = space.me()
    mine = None if me is None else me.member_id.hex()
    undelivered = await space.undelivered()
    rows = [
        {
            "at": e.body.recorded_at,
            "id": e.event_id.hex()[:8],
            "summary": event_summary(
                e, space, you=mine is not None and _member_of(membership, e.author) == mine
            ),
            "signal": isinstance(e.payload, SignalSent),
            "had_effect": e.event_id not in views.without_effect,
            "undelivered": e.event_id in undelivered,
        }
        for e in reversed(matching[-limit:])
    ]
    return page(
        app,
        "timeline/timeline.html",
        views=views,
        current="/timeline",
        rows=rows,
        total=len(matching),
        more=len(matching) > limit,
        next_limit=limit + TIMELINE_PAGE,
        kinds=KINDS,
        kind=kind,
        since=since if since_ms is not None else "",
        bad_since=bool(since) and since_ms is None,
        who=who,
        members=members,
    )


def _member_of(membership: Membership, device: bytes) -> str | None:
    member = membership.member_of(device)
    return member.member_id.hex() if member is not None else None


@get("/verify")
async def verify(app: App) -> Response[Any]:
    space = app.require()
    report = await space.audit()
    broken = [p for p in report.problems if not p.not_applied]
    kept = [p for p in report.problems if p.not_applied]
    return page(
        app,
        "timeline/verify.html",
        current="/timeline",
        report=report,
        broken=broken,
        kept=kept,
        found=len(broken) + len(report.findings),
    )


SCREEN = Screen(handlers=[timeline, verify], nav_label="Timeline", nav_path="/timeline")
