"""The report's "Where things stand": each agreement with its clauses and status in
words, the recovery plan's circles, the windows, events without effect, and the consents
to the export (docs/PROTOCOL.md "Exports", "The report a therapist reads", item 2)."""

from __future__ import annotations

from typing import Any

from client.export import summary as export_summary
from client.export.consent import left_out_label
from client.export.html_words import esc, short, utc
from client.export.verified import VerifiedExport


def standing(v: VerifiedExport, s: export_summary.Summary) -> list[str]:
    out = ['<section id="summary">', f"<h2>Where things stand, as of {s.as_of}</h2>"]
    agreements = [a for a in s.agreements if a.kind == "agreement"]
    plans = [a for a in s.agreements if a.kind == "recovery_plan"]
    windows = [a for a in s.agreements if a.kind == "window"]
    if agreements:
        out += [
            "<h3>Agreements</h3>",
            "<table>",
            "<thead><tr><th>Agreement</th><th>Status</th><th>Since</th><th>Who consented</th>"
            "<th>Review</th></tr></thead>",
            "<tbody>",
        ]
        for a in agreements:
            out.append(
                f'<tr><td>{esc(a.title)} <code class="id">{short(a.agreement_id)}</code>'
                f"{clauses(v, a.version)}</td><td>{esc(a.status)}</td><td>{a.since}</td>"
                f"<td>{esc(a.consented)}</td><td>{esc(a.review)}</td></tr>"
            )
        out += ["</tbody>", "</table>"]
    for plan in plans:
        who = esc(plan.consented)
        out += [f"<h3>Recovery plan: {esc(plan.title)} ({who}; {esc(plan.status)})</h3>"]
        circles = plan.version.circles if plan.version is not None else None
        if circles is not None:
            lists = export_summary.circle_lists(circles)
            out.append('<dl class="details">')
            for circle, label in (
                ("inner", "Inner circle (what the writer abstains from)"),
                ("middle", "Middle circle (warning signs)"),
                ("outer", "Outer circle (what helps)"),
            ):
                items = "".join(f"<li>{esc(t)}</li>" for t in lists[circle]) or "<li>none</li>"
                out.append(f"<dt>{label}</dt><dd><ul>{items}</ul></dd>")
            out.append("</dl>")
    if windows:
        out += ["<h3>Transparency windows</h3>", "<ul>"]
        for w in windows:
            words = (
                export_summary.window_words(w.version.window)
                if w.version is not None and w.version.window is not None
                else w.title
            )
            out.append(
                f"<li>{esc(words)}: {esc(w.status)} since {w.since}; {esc(w.consented)}</li>"
            )
        out.append("</ul>")
    if not s.agreements:
        out.append("<p>This export holds no agreements.</p>")
    if s.no_effect:
        out += ["<h3>Events that had no effect</h3>", "<ul>"]
        out += [f"<li>{esc(line)}</li>" for line in s.no_effect]
        out.append("</ul>")
    out += _consents(v)
    out.append("</section>")
    return out


def _consents(v: VerifiedExport) -> list[str]:
    d = v.declaration
    if d is None:
        return []
    out = ["<h3>Consent to this export</h3>", "<ul>"]
    for e in v.revealed:
        if e.kind == "export_consented" and e.author != v.exporter:
            until = e.payload.get("expires_at")
            until_text = utc(until) if isinstance(until, int) else "?"
            out.append(
                f"<li>{esc(v.name_of(e.author))} consented on {utc(e.recorded_at)} to their own "
                f"words being shown to {esc(str(e.payload.get('recipient')))} for "
                f"{esc(str(e.payload.get('purpose')))}, until {until_text}.</li>"
            )
    partner = next((n for d_, n in v.members.items() if n != v.name_of(v.exporter)), None)
    for item in d.left_out:
        who = esc(partner or "The other partner")
        out.append(
            f"<li>Left out: {left_out_label(item.kind, item.about)} by {who} "
            f"(<code>{short(item.event)}</code>), sealed in this file: {who} has not consented "
            "to share their own words for this export.</li>"
        )
    if len(out) == 2:
        out.append(
            "<li>Everything here was written by the exporter, or is a fact of the agreement "
            "timeline (who proposed, accepted, declined or withdrew, and when), which either "
            "partner may share.</li>"
        )
    return [*out, "</ul>"]


def clauses(v: VerifiedExport, version: Any) -> str:
    if version is None or not version.clauses:
        return ""
    binds = list(version.binds)
    items = []
    for i, clause in enumerate(version.clauses):
        bound = _binds_words(v, version.proposer, binds[i]) if i < len(binds) else ""
        items.append(f"<li>{esc(clause)}{bound}</li>")
    return f"<ol>{''.join(items)}</ol>"


def _binds_words(v: VerifiedExport, proposer: bytes, binds: str) -> str:
    me = v.member_names.get(bytes(proposer), "the proposer")
    you = next((n for m, n in v.member_names.items() if m != bytes(proposer)), "the other")
    who = {"me": me, "you": you, "both": "both"}.get(binds, binds)
    return f" <em>(binds {esc(who)})</em>"
