"""The report's first page: what a therapist asks for, since a chosen date
(docs/PROTOCOL.md "Exports", "The first page"; DOMAIN.md §2).

It renders the signed ``summary`` of a version-2 export, which verification has already
computed again from the revealed events, in plain, calm words: agreements and their
changes, reviews due, slips with their circle and time to disclose, check-ins per
person, signals and whether a time-out's return happened, windows kept, and the pacing
step. An item with nothing in the period says so in one line. Like the rest of the
report it depends on nothing but the document.
"""

from __future__ import annotations

from client.export.first_page_doc import (
    FirstPage,
    PageChange,
    PagePacing,
    PageSignal,
    PageSlip,
    PageWindow,
)
from client.export.html_words import count, esc, utc
from client.export.verified import VerifiedExport

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

STYLE = """
#first-page p.lead { margin: 0.2rem 0 0.8rem; }
#first-page ul { margin: 0.2rem 0 0.6rem; padding-left: 1.3rem; }
#first-page p.none { margin: 0.2rem 0 0.6rem; color: #444; }
@media print {
  #first-page { line-height: 1.35; }
  #first-page h2 { margin-top: 1rem; }
  #first-page h3 { margin: 0.7rem 0 0.1rem; }
  #first-page ul, #first-page p.none, #first-page p.lead { margin: 0.1rem 0 0.3rem; }
  #summary { break-before: page; }
}""".rstrip()
"""Added to the report's style sheet for version 2: the first page prints on its own."""

_WHAT = {
    "proposed": "proposed",
    "revised": "proposed a revision of",
    "accepted": "accepted",
    "read": "read",
    "declined": "declined",
    "withdrawn": "withdrew from",
    "reviewed": "reviewed",
}
_KIND = {"agreement": "", "recovery_plan": "the recovery plan ", "window": "the window "}
_CIRCLE = {
    "inner": "inner circle",
    "middle": "middle circle (a risk report)",
    "outer": "outer circle",
}


def render(v: VerifiedExport, page: FirstPage) -> list[str]:
    start = utc(page.since)
    if v.revealed and page.since <= min(e.recorded_at for e in v.revealed):
        start += " (the start of this export)"
    return [
        '<section id="first-page">',
        f"<h2>Since {start}</h2>",
        f'<p class="lead">What this export holds from then until {utc(page.as_of)}, in the '
        "order a therapist usually asks for it. Only the events in this export are counted: "
        "it is not a complete record.</p>",
        *_agreements(page),
        *_slips(page.slips),
        *_check_ins(page),
        *_signals(page.signals, page.as_of),
        *_windows(page.windows),
        *_pacing(page.pacing),
        "</section>",
    ]


def _list(title: str, items: list[str], none: str) -> list[str]:
    if not items:
        return [f"<h3>{title}</h3>", f'<p class="none">{none}</p>']
    return [f"<h3>{title}</h3>", "<ul>", *(f"<li>{i}</li>" for i in items), "</ul>"]


def _change(c: PageChange) -> str:
    what = _WHAT[c.what]
    if c.kind == "recovery_plan":  # the writer's own plan: written, not proposed
        what = {"proposed": "wrote", "revised": "revised"}.get(c.what, what)
    return f"{utc(c.at)}: {esc(c.by)} {what} {_KIND[c.kind]}“{esc(c.title)}”"


def _agreements(page: FirstPage) -> list[str]:
    reviews = [
        f"“{esc(r.title)}”: review due (since {r.review_on})"
        if r.due
        else f"“{esc(r.title)}”: review on {r.review_on}"
        for r in page.reviews
    ]
    return [
        *_list(
            "Agreements: what changed",
            [_change(c) for c in page.changes],
            "No agreement was proposed, accepted, declined, withdrawn or reviewed in this period.",
        ),
        *_list("Reviews due", reviews, "No review is due, or due in the next four weeks."),
    ]


def told_after(ms: int) -> str:
    """The time from a slip to its disclosure, in words."""
    if ms < 0:
        return "dated after it was told"
    if ms < HOUR_MS:
        return "within the hour"
    if ms < 2 * DAY_MS:
        return count(ms // HOUR_MS, "hour") + " later"
    return count(ms // DAY_MS, "day") + " later"


def _slip(s: PageSlip) -> str:
    kind = {"slip": "A slip", "relapse": "A relapse", "risk": "A risk report"}[s.kind]
    circle = f" in the {_CIRCLE[s.circle]}" if s.circle and s.kind != "risk" else ""
    if s.kind == "risk" and s.circle == "middle":
        circle = " in the middle circle"
    text = (
        f"{kind}{circle} on {utc(s.occurred_at)}, shared by {esc(s.by)} "
        f"{told_after(s.disclosed_at - s.occurred_at)} ({utc(s.disclosed_at)})."
    )
    if s.supports:
        text += " Support: " + "; ".join(esc(x) for x in s.supports) + "."
    if s.next_steps:
        text += " Next steps: " + "; ".join(esc(x) for x in s.next_steps) + "."
    return text


def _slips(slips: list[PageSlip]) -> list[str]:
    return _list(
        "Slips and risk reports, and the time to tell",
        [_slip(s) for s in slips],
        "No slip, relapse or risk report is in this export for this period.",
    )


def _check_ins(page: FirstPage) -> list[str]:
    items = [
        f"{esc(c.by)}: {count(c.count, 'check-in')}, the last on {utc(c.last_at)}"
        if c.last_at is not None
        else f"{esc(c.by)}: none in this export"
        for c in page.check_ins
    ]
    return _list("Check-ins", items, "No partner is named in this export.")


def _signal(s: PageSignal, as_of: int) -> str:
    when = f"{utc(s.sent_at)}: {esc(s.by)}"
    if s.level == "stop":
        after = (
            f" {esc(s.by)} cleared it on {utc(s.cleared_at)}." if s.cleared_at is not None else ""
        )
        return f"{when} asked to stop. A stop owes no return.{after}"
    if s.level == "slow":
        after = f" Cleared on {utc(s.cleared_at)}." if s.cleared_at is not None else ""
        return f"{when} asked to slow down.{after}"
    planned = f", to return at {utc(s.returns_at)}" if s.returns_at is not None else ""
    if s.cleared_at is not None:
        return f"{when} took a time-out{planned}. {esc(s.by)} came back on {utc(s.cleared_at)}."
    if s.returns_at is not None and s.returns_at > as_of:
        return f"{when} took a time-out{planned}; that time had not come when this was made."
    return (
        f"{when} took a time-out{planned}. This export does not show the return: "
        f"{esc(s.by)} has not cleared it here."
    )


def _signals(signals: list[PageSignal], as_of: int) -> list[str]:
    return _list(
        "Signals, and whether a time-out's return happened",
        [_signal(s, as_of) for s in signals],
        "No signal was sent in this period, as far as this export shows.",
    )


def _window(w: PageWindow) -> str:
    text = f"“{esc(w.title)}”: due {count(w.times_due, 'time')}"
    if not w.postponed:
        return text + ", none postponed."
    moved = "; ".join(
        f"the time on {utc(p.occurrence)} was moved to {utc(p.to)} by {esc(p.by)}"
        for p in w.postponed
    )
    return f"{text}; {moved}."


def _windows(windows: list[PageWindow]) -> list[str]:
    out = _list(
        "Transparency windows kept",
        [_window(w) for w in windows],
        "No transparency window was in force in this period.",
    )
    if windows:
        out.append(
            '<p class="none">Trellis records when a window falls due and any postponement, '
            "not whether the conversation took place.</p>"
        )
    return out


def _pacing(pacing: PagePacing | None) -> list[str]:
    if pacing is None:
        return []
    if pacing.step is None:
        where = "No pacing plan is in use yet (one is proposed)."
    else:
        title = f": “{esc(pacing.step_title)}”" if pacing.step_title else ""
        where = f"Step {pacing.step} of {pacing.steps}{title}."
    moves = (
        f" In this period: {count(pacing.forward, 'step')} forward, "
        f"{count(pacing.step_backs, 'step back')} (a step back needs no reason)."
    )
    return ["<h3>Pacing</h3>", f"<p>{where}{moves}</p>"]
