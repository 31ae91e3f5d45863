"""The printable report of an export (docs/PROTOCOL.md "Exports", "The HTML report").

It opens with what a therapist reads first: that it is not a complete record, whom it
is for, why and until when, and where things stand as of the export (agreements with
their status, since when and who consented, the recovery plan's circles, the windows in
words, events that had no effect). The events follow, with fields in words and short
ids; full ids are in an appendix, and how to check the file is in the footer.
Every verified export carries the exporter's declaration (``export_consented``); there is
no layout for one without, since verification refuses it (``no_declaration``).

The report is a pure function of the verified export and its JSON, and embeds that
JSON unchanged. ``trellis verify-export`` checks an HTML report by verifying the
embedded JSON and then rendering it again: the file must be byte for byte what this
module writes, so the words on the page (or on paper) are the signed data's and nobody
else's. Nothing here may depend on the clock, the locale or the time zone.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from client.export import summary as export_summary
from client.export.consent import WORD_LABELS
from client.export.format import FORMAT_VERSION, HTML_SCRIPT_CLOSE, HTML_SCRIPT_OPEN
from client.export.verify import RevealedEvent, VerifiedExport, utc_text
from client.keys import crypto

_EVENT_REFERENCES = frozenset({"revises", "version", "entry", "disclosure", "signal"})
"""Payload fields that name another event by its id (schemas/practices.py)."""
_HIDDEN = frozenset(
    {"type", "box_key", "proof", "invite_id", "member_id", "verify_key", "utc_offset_min"}
)
"""Key material and ids of the join protocol: checked, but meaningless on paper."""

_STYLE = """
body { font: 11pt/1.5 Georgia, "Times New Roman", serif; color: #222; max-width: 46rem;
       margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0.2rem 0 0.6rem; }
h2 { font-size: 1.15rem; margin-top: 1.8rem; border-bottom: 1px solid #bbb; }
h3 { font-size: 1rem; margin: 1.2rem 0 0.3rem; }
.kicker { text-transform: uppercase; letter-spacing: 0.08em; font-size: 0.8rem; color: #555; }
.notice { border: 1px solid #999; padding: 0.5rem 0.8rem; margin: 0.6rem 0 1rem; }
.notice p { margin: 0.2rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
code { font: 0.85em/1.3 "DejaVu Sans Mono", Menlo, Consolas, monospace; word-break: break-all; }
code.id { white-space: nowrap; word-break: normal; }
ol.timeline { padding-left: 1.4rem; }
li.event { margin-bottom: 1rem; break-inside: avoid; }
.summary { font-weight: bold; margin: 0; }
.when, .meta { margin: 0.1rem 0; font-size: 0.9em; color: #444; }
dl.details { margin: 0.3rem 0 0.3rem 1rem; }
dl.details dt { font-style: italic; }
dl.details dd { margin: 0 0 0.3rem 1rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
tr { break-inside: avoid; }
footer { margin-top: 2.5rem; font-size: 0.9em; color: #333; }
@page { margin: 16mm 15mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  #appendix, footer { break-before: page; }
}
""".strip()


def render_report(verified: VerifiedExport, export_json: bytes) -> str:
    """The whole HTML file for a verified export whose canonical JSON is ``export_json``."""
    summary = export_summary.summarise(verified)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="Trellis export format {FORMAT_VERSION}">',
        f"<title>{_e(verified.title)} (Trellis export)</title>",
        f"<style>\n{_STYLE}\n</style>",
        "</head>",
        "<body>",
        *_header(verified),
        *_standing(verified, summary),
        *_timeline(verified, summary),
        *_appendix(verified),
        *_footer(verified),
        HTML_SCRIPT_OPEN.decode("ascii")
        + export_json.decode("utf-8")
        + HTML_SCRIPT_CLOSE.decode("ascii"),
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _utc(ms: int) -> str:
    return utc_text(ms)


def _short(data: bytes) -> str:
    return data.hex()[:8]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _header(v: VerifiedExport) -> list[str]:
    d = v.declaration
    exporter = _e(v.name_of(v.exporter))
    return [
        "<header>",
        '<p class="kicker">Trellis export</p>',
        f"<h1>{_e(v.title)}</h1>",
        '<div class="notice">',
        f"<p><strong>For</strong> {_e(d.recipient)}. <strong>Why:</strong> {_e(d.purpose)}. "
        f"<strong>To be used until</strong> {_utc(d.expires_at)}.</p>",
        f"<p>Prepared by {exporter} on {_utc(v.created_at)}. <strong>This is not a complete "
        f"record</strong>: it holds only the {_count(len(v.revealed), 'event')} {exporter} "
        f"chose to share, as {exporter}'s device held them then. What either partner wrote "
        "in their own words is here only with that partner's consent to this export.</p>",
        "</div>",
        "</header>",
    ]


def _standing(v: VerifiedExport, s: export_summary.Summary) -> list[str]:
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
                f'<tr><td>{_e(a.title)} <code class="id">{_short(a.agreement_id)}</code>'
                f"{_clauses(v, a.version)}</td><td>{_e(a.status)}</td><td>{a.since}</td>"
                f"<td>{_e(a.consented)}</td><td>{_e(a.review)}</td></tr>"
            )
        out += ["</tbody>", "</table>"]
    for plan in plans:
        who = _e(plan.consented)
        out += [f"<h3>Recovery plan: {_e(plan.title)} ({who}; {_e(plan.status)})</h3>"]
        circles = plan.version.circles if plan.version is not None else None
        if circles is not None:
            lists = export_summary.circle_lists(circles)
            out.append('<dl class="details">')
            for circle, label in (
                ("inner", "Inner circle (what the writer abstains from)"),
                ("middle", "Middle circle (warning signs)"),
                ("outer", "Outer circle (what helps)"),
            ):
                items = "".join(f"<li>{_e(t)}</li>" for t in lists[circle]) or "<li>none</li>"
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
            out.append(f"<li>{_e(words)}: {_e(w.status)} since {w.since}; {_e(w.consented)}</li>")
        out.append("</ul>")
    if not s.agreements:
        out.append("<p>This export holds no agreements.</p>")
    if s.no_effect:
        out += ["<h3>Events that had no effect</h3>", "<ul>"]
        out += [f"<li>{_e(line)}</li>" for line in s.no_effect]
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
            until_text = _utc(until) if isinstance(until, int) else "?"
            out.append(
                f"<li>{_e(v.name_of(e.author))} consented on {_utc(e.recorded_at)} to their own "
                f"words being shown to {_e(str(e.payload.get('recipient')))} for "
                f"{_e(str(e.payload.get('purpose')))}, until {until_text}.</li>"
            )
    partner = next((n for d_, n in v.members.items() if n != v.name_of(v.exporter)), None)
    for item in d.left_out:
        who = _e(partner or "The other partner")
        out.append(
            f"<li>Left out: {WORD_LABELS.get(item.kind, 'an event')} by {who} "
            f"(<code>{_short(item.event)}</code>), sealed in this file: {who} has not consented "
            "to share their own words for this export.</li>"
        )
    if len(out) == 2:
        out.append(
            "<li>Everything here was written by the exporter, or is a fact of the agreement "
            "timeline (who proposed, accepted, declined or withdrew, and when), which either "
            "partner may share.</li>"
        )
    return [*out, "</ul>"]


def _clauses(v: VerifiedExport, version: Any) -> str:
    if version is None or not version.clauses:
        return ""
    binds = list(version.binds)
    items = []
    for i, clause in enumerate(version.clauses):
        bound = _binds_words(v, version.proposer, binds[i]) if i < len(binds) else ""
        items.append(f"<li>{_e(clause)}{bound}</li>")
    return f"<ol>{''.join(items)}</ol>"


def _binds_words(v: VerifiedExport, proposer: bytes, binds: str) -> str:
    me = v.member_names.get(bytes(proposer), "the proposer")
    you = next((n for m, n in v.member_names.items() if m != bytes(proposer)), "the other")
    who = {"me": me, "you": you, "both": "both"}.get(binds, binds)
    return f" <em>(binds {_e(who)})</em>"


_FIELD_WORDS = {
    "review_on": "Review on",
    "expires_on": "Ends on",
    "next_review_on": "Next review on",
    "revises": "Revises",
    "version": "About",
    "reason": "Reason",
    "note": "Note",
    "recipient": "For",
    "purpose": "Why",
    "expires_at": "Until",
    "left_out": "Left out",
    "until": "Returns at",
    "occurrence": "Was due",
    "to": "Moved to",
    "outcome": "Outcome",
    "response": "Response",
    "mark": "Marked",
    "name": "Name",
}
_TIME_FIELDS = frozenset({"expires_at", "until", "occurrence", "to"})
_KIND_WORDS = {"agreement": "agreement", "recovery_plan": "recovery plan", "window": "window"}


def _timeline(v: VerifiedExport, s: export_summary.Summary) -> list[str]:
    by_id = {e.event_id.hex(): e for e in v.revealed}
    out = [
        '<section id="events">',
        "<h2>The events, in the order they happened</h2>",
        '<ol class="timeline">',
    ]
    for event in v.revealed:
        when = f"Recorded {_utc(event.recorded_at)}"
        if _utc(event.occurred_at) != _utc(event.recorded_at):
            when += f"; the author dated it {_utc(event.occurred_at)}"
        out += [
            f'<li class="event" id="event-{event.event_id.hex()}">',
            f'<p class="summary">{_e(event.summary)}</p>',
            f'<p class="when">{when}</p>',
            *_details(v, event, by_id, s),
            f'<p class="meta">Event {event.seq} of {_e(v.name_of(event.author))}\'s device '
            f"<code>{_short(event.author)}</code>; id <code>{_short(event.event_id)}</code></p>",
            "</li>",
        ]
    return [*out, "</ol>", "</section>"]


def _details(
    v: VerifiedExport,
    event: RevealedEvent,
    by_id: dict[str, RevealedEvent],
    s: export_summary.Summary,
) -> list[str]:
    payload = event.payload
    rows: list[str] = []
    for key, value in payload.items():
        if key in _HIDDEN or value in (None, [], "", {}):
            continue
        if key == "in_recovery" and value is not True:
            continue  # "In recovery" only where a partner said so
        if event.kind == "agreement_proposed":
            if key == "binds" or key == "title":
                continue
            if key == "clauses" and event.event_id in s.current_versions:
                rows.append("<dt>Clauses</dt><dd>as listed under Where things stand</dd>")
                continue
            if key == "clauses":
                version = _Version(event, v)
                rows.append(f"<dt>Clauses</dt><dd>{_clauses(v, version)}</dd>")
                continue
            if key == "kind":
                rows.append(f"<dt>Kind</dt><dd>{_KIND_WORDS.get(str(value), _e(str(value)))}</dd>")
                continue
            if key == "window" and isinstance(value, dict) and event.source is not None:
                window = getattr(event.source.payload, "window", None)
                if window is not None:
                    rows.append(f"<dt>When</dt><dd>{_e(export_summary.window_words(window))}</dd>")
                    continue
            if key == "circles" and event.source is not None:
                circles = getattr(event.source.payload, "circles", None)
                if circles is not None:
                    lists = export_summary.circle_lists(circles)
                    for circle in ("inner", "middle", "outer"):
                        items = "".join(f"<li>{_e(t)}</li>" for t in lists[circle])
                        if items:
                            rows.append(
                                f"<dt>{circle.capitalize()} circle</dt><dd><ul>{items}</ul></dd>"
                            )
                    continue
        label = _FIELD_WORDS.get(key, key.replace("_", " ").capitalize())
        rows.append(f"<dt>{_e(label)}</dt><dd>{_value(v, key, value, by_id)}</dd>")
    return ['<dl class="details">', *rows, "</dl>"] if rows else []


class _Version:
    """A proposal's clauses and binds, shaped as the summary's versions are."""

    def __init__(self, event: RevealedEvent, v: VerifiedExport) -> None:
        self.clauses = [str(c) for c in event.payload.get("clauses") or []]
        self.binds = [str(b) for b in event.payload.get("binds") or []]
        self.proposer = v.device_members.get(event.author, b"")


def _value(v: VerifiedExport, key: str, value: Any, by_id: dict[str, RevealedEvent]) -> str:
    if key in _EVENT_REFERENCES and isinstance(value, str):
        return _reference(value, by_id)
    if key in _TIME_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return _utc(value)
    if key == "left_out" and isinstance(value, list):
        items = "".join(
            f"<li>{WORD_LABELS.get(str(i.get('kind')), 'an event')} "
            f"(<code>{_e(str(i.get('event', ''))[:8])}</code>)</li>"
            for i in value
            if isinstance(i, dict)
        )
        return f"<ul>{items}</ul>"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        items = "".join(f"<li>{_value(v, '', item, by_id)}</li>" for item in value)
        return f"<ul>{items}</ul>"
    if isinstance(value, dict):
        rows = [
            f"<dt>{_e(_FIELD_WORDS.get(k, k.replace('_', ' ').capitalize()))}</dt>"
            f"<dd>{_value(v, k, x, by_id)}</dd>"
            for k, x in value.items()
            if k not in _HIDDEN and x not in (None, [], "", {})
        ]
        return "".join(['<dl class="details">', *rows, "</dl>"])
    return _e(str(value))


def _reference(event_id: str, by_id: dict[str, RevealedEvent]) -> str:
    target = by_id.get(event_id)
    if target is None:
        return f"an event not revealed here (<code>{_e(event_id[:8])}</code>)"
    title = target.payload.get("title")
    label = f"“{_e(str(title))}”, " if isinstance(title, str) else ""
    return (
        f'{label}<a href="#event-{event_id}">{_e(target.summary)}</a>, '
        f"recorded {_utc(target.recorded_at)}"
    )


def _ranges(seqs: Iterable[int]) -> str:
    spans: list[list[int]] = []
    for s in sorted(seqs):
        if spans and s == spans[-1][1] + 1:
            spans[-1][1] = s
        else:
            spans.append([s, s])
    if not spans:
        return "none"
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _appendix(v: VerifiedExport) -> list[str]:
    rows = [
        f"<tr><td><code>{_short(e.event_id)}</code></td><td>{_e(e.kind)}</td>"
        f"<td><code>{e.event_id.hex()}</code></td></tr>"
        for e in v.revealed
    ]
    return [
        '<section id="appendix">',
        "<h2>Appendix: full event ids</h2>",
        "<table>",
        "<thead><tr><th>Short id</th><th>Kind</th><th>Full id</th></tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
        "</section>",
    ]


def _footer(v: VerifiedExport) -> list[str]:
    exporter = _e(v.name_of(v.exporter))
    devices = sorted(v.members)
    chain_rows = []
    for chain in v.chains:
        sealed = set(range(1, chain.head_seq + 1)) - set(chain.revealed_seqs)
        chain_rows.append(
            f"<tr><td>{_e(v.name_of(chain.device))}<br><code>{chain.device.hex()}</code></td>"
            f"<td>1–{chain.head_seq}</td><td>{_ranges(chain.revealed_seqs)}</td>"
            f"<td>{_ranges(sealed)}</td></tr>"
        )
    return [
        '<footer id="verify">',
        "<h2>Checking this file</h2>",
        '<dl class="facts">',
        f"<dt>Exported by</dt><dd>{exporter}, from the device <code>{v.exporter.hex()}</code></dd>",
        f"<dt>Exported at</dt><dd>{_utc(v.created_at)}</dd>",
        f"<dt>Shared space</dt><dd><code>{v.space_id.hex()}</code></dd>",
        f"<dt>Safety number</dt><dd><code>{crypto.safety_number(v.space_id, devices)}</code></dd>",
        f"<dt>Readable here</dt><dd>{_count(len(v.revealed), 'event')}</dd>",
        f"<dt>Sealed here</dt><dd>{_count(v.sealed_count, 'event')}</dd>",
        "</dl>",
        f"<p>{_e(v.scope)}</p>",
        f"<p>The file holds the key to each readable event only, and carries "
        f"{_count(v.sealed_count, 'other event')} of the same devices sealed (encrypted), "
        "without their keys, so that anyone can check that no event was removed, reordered "
        "or slipped in among the ones shown. It cannot show events written after the export, "
        f"or that had not reached {exporter}'s device, or what the sealed events say. To be "
        "sure these devices are the partners' own, compare the safety number above with the "
        "one their Trellis apps show (<code>trellis safety-number</code>).</p>",
        "<table>",
        "<thead><tr><th>Device</th><th>Its events</th><th>Readable here</th>"
        "<th>Sealed here</th></tr></thead>",
        "<tbody>",
        *chain_rows,
        "</tbody>",
        "</table>",
        "<p>Anyone can check this file offline, with no account and no key: "
        "<code>trellis verify-export FILE</code>, where FILE is this page as saved or the JSON "
        "it was made from. The check confirms each event's signature, that each device's "
        "events are present and in order up to the last one here, that the keys open exactly "
        f"the events listed, that {exporter}'s device signed the export, and that the words "
        "on this page are exactly what the signed data says. Given an export made by each "
        "partner, <code>trellis verify-export A B</code> checks them against each other.</p>",
        "</footer>",
    ]
