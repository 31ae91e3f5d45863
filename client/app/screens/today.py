"""Today: what needs attention now, from the same views the CLI lists.

Active signals (with note and return time), agreements waiting for my answer, pacing
proposals waiting for my answer or my partner's (without the stages' words: Today is the
first page after unlocking, and the Intimacy page holds the details),
disclosures of my partner's that I have not marked yet, the next transparency window,
sober days, and the last check-ins.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from client.app.screen import App, Screen, page
from client.app.views_cache import current_views
from client.views import Moment
from client.views.present_signals import RETURN_DUE, signal_rows
from client.views.recovery.windows import next_occurrence, windows_in_force
from client.views.today import agreements_waiting_for, disclosures_unmarked_for, pacing_waiting

LAST_CHECKINS = 3


@get("/today")
async def today(app: App) -> Response[Any]:
    space = app.require()
    moment = Moment.now()
    views = current_views(space)
    me = space.me()
    mine = me.member_id if me else None
    waiting = agreements_waiting_for(views, mine)
    unmarked = disclosures_unmarked_for(views, mine)
    upcoming = next_occurrence(
        windows_in_force(views.agreements.agreements), moment.now_ms, views.postponements
    )
    signals = signal_rows(views.signals, space.member_name, mine, moment.now_ms)
    partner = next((m.name for m in space.members() if not m.is_me), "your partner")
    return page(
        app,
        "today/today.html",
        views=views,
        current="/today",
        signals=signals,
        return_due=RETURN_DUE,
        waiting=waiting,
        pacing=pacing_waiting(views, mine, moment.now_ms),
        partner=partner,
        unmarked=unmarked,
        upcoming=upcoming,
        sobriety=[(space.member_name(m), s) for m, s in views.sobriety.items()],
        checkins=list(reversed(views.checkins))[:LAST_CHECKINS],
        name_of=space.member_name,
    )


SCREEN = Screen(handlers=[today], nav_label="Today", nav_path="/today")
