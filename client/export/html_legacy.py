"""The printable report of an export that does not declare whom it is for: the layout
of exports made before exports carried the exporter's ``export_consented``
(docs/PROTOCOL.md "Exports", "The HTML report"). Frozen: such reports must keep
verifying byte for byte, so this module never changes.

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

from client.export.format import FORMAT_VERSION, HTML_SCRIPT_CLOSE, HTML_SCRIPT_OPEN
from client.export.verify import RevealedEvent, VerifiedExport, utc_text
from client.keys import crypto

_EVENT_REFERENCES = frozenset({"revises", "version", "entry", "disclosure", "signal"})
"""Payload fields that name another event by its id (schemas/practices.py)."""
_HIDDEN = frozenset({"type", "box_key", "proof", "invite_id", "member_id", "verify_key"})
"""Key material and ids of the join protocol: checked, but meaningless on paper."""

_STYLE = """
body { font: 11pt/1.5 Georgia, "Times New Roman", serif; color: #222; max-width: 46rem;
       margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0.2rem 0 1rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #bbb; }
.kicker { text-transform: uppercase; letter-spacing: 0.08em; font-size: 0.8rem; color: #555; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
code { font: 0.85em/1.3 "DejaVu Sans Mono", Menlo, Consolas, monospace; word-break: break-all; }
ol.timeline { padding-left: 1.4rem; }
li.event { margin-bottom: 1.1rem; break-inside: avoid; }
.summary { font-weight: bold; margin: 0; }
.when, .meta { margin: 0.1rem 0; font-size: 0.9em; color: #444; }
dl.details { margin: 0.3rem 0 0.3rem 1rem; }
dl.details dt { font-style: italic; }
dl.details dd { margin: 0 0 0.3rem 1rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } }
""".strip()


def render_report(verified: VerifiedExport, export_json: bytes) -> str:
    """The whole HTML file for a verified export whose canonical JSON is ``export_json``."""
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
        *_about(verified),
        *_timeline(verified),
        *_chains(verified),
        *_how_to_verify(verified),
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


def _header(v: VerifiedExport) -> list[str]:
    devices = sorted(v.members)
    return [
        "<header>",
        '<p class="kicker">Trellis export: a signed record from a shared space</p>',
        f"<h1>{_e(v.title)}</h1>",
        '<dl class="facts">',
        f"<dt>Exported by</dt><dd>{_e(v.name_of(v.exporter))}, from the device "
        f"<code>{v.exporter.hex()}</code></dd>",
        f"<dt>Exported at</dt><dd>{_utc(v.created_at)}</dd>",
        f"<dt>Shared space</dt><dd><code>{v.space_id.hex()}</code></dd>",
        f"<dt>Safety number</dt><dd><code>{crypto.safety_number(v.space_id, devices)}</code></dd>",
        f"<dt>Readable here</dt><dd>{_count(len(v.revealed), 'event')}</dd>",
        f"<dt>Sealed here</dt><dd>{_count(v.sealed_count, 'event')}</dd>",
        "</dl>",
        "</header>",
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _about(v: VerifiedExport) -> list[str]:
    exporter = _e(v.name_of(v.exporter))
    return [
        '<section id="about">',
        "<h2>What you can and cannot read</h2>",
        f"<p>You can read the {_count(len(v.revealed), 'event')} listed below, and nothing "
        "else. This file holds the key to each of those events only. It holds no key to the "
        "shared space, and no key to any other event.</p>",
        f"<p>The file also carries {_count(v.sealed_count, 'other event')} written by the "
        "same devices, sealed (encrypted) and without their keys. Nobody can read them from "
        "this file. They are there so that anyone can check that no event was removed, "
        "reordered or slipped in among the ones shown. The table of devices below shows "
        "where they sit.</p>",
        f"<p><strong>{_e(v.scope)}</strong></p>",
        "<p>What this file cannot show: events written after the export, or that had not "
        f"reached {exporter}'s device by then, or that it chose to leave out; what the "
        "sealed events say. Each device's events are complete up to the last one this file "
        "carries, but a device's later events (its partner's withdrawal of consent, say) "
        "may exist and are not here. The names come from how each device joined the space, "
        "by the same signed invites the partners' apps use. To be sure these devices are "
        "the partners' own, compare the safety number above with the one their Trellis "
        "apps show (<code>trellis safety-number</code>).</p>",
        "</section>",
    ]


def _timeline(v: VerifiedExport) -> list[str]:
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
            *_details(event.payload, by_id),
            f'<p class="meta">{_e(event.kind)}, event {event.seq} of '
            f"{_e(v.name_of(event.author))}'s device <code>{_short(event.author)}</code>; "
            f"id <code>{event.event_id.hex()}</code></p>",
            "</li>",
        ]
    return [*out, "</ol>", "</section>"]


def _details(payload: dict[str, Any], by_id: dict[str, RevealedEvent]) -> list[str]:
    rows = [
        f"<dt>{_e(key.replace('_', ' ').capitalize())}</dt><dd>{_value(key, value, by_id)}</dd>"
        for key, value in payload.items()
        if key not in _HIDDEN and value not in (None, [], "")
    ]
    return ['<dl class="details">', *rows, "</dl>"] if rows else []


def _value(key: str, value: Any, by_id: dict[str, RevealedEvent]) -> str:
    if key in _EVENT_REFERENCES and isinstance(value, str):
        return _reference(value, by_id)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        tag = "ol" if key == "clauses" else "ul"
        items = "".join(f"<li>{_value('', item, by_id)}</li>" for item in value)
        return f"<{tag}>{items}</{tag}>"
    if isinstance(value, dict):
        inner = _details(value, by_id)
        return "".join(inner)
    return _e(str(value))


def _reference(event_id: str, by_id: dict[str, RevealedEvent]) -> str:
    target = by_id.get(event_id)
    if target is None:
        return f"an event not revealed here (id <code>{_e(event_id[:8])}</code>)"
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


def _chains(v: VerifiedExport) -> list[str]:
    rows = []
    for chain in v.chains:
        sealed = set(range(1, chain.head_seq + 1)) - set(chain.revealed_seqs)
        rows.append(
            f"<tr><td>{_e(v.name_of(chain.device))}<br><code>{chain.device.hex()}</code></td>"
            f"<td>1–{chain.head_seq}</td><td>{_ranges(chain.revealed_seqs)}</td>"
            f"<td>{_ranges(sealed)}</td></tr>"
        )
    return [
        '<section id="devices">',
        "<h2>Each device's events</h2>",
        "<p>Every device numbers its events 1, 2, 3… and each event names the one before "
        "it. This file carries every event of each device below up to its last one, so the "
        "numbering has no gaps.</p>",
        "<table>",
        "<thead><tr><th>Device</th><th>Its events</th><th>Readable here</th>"
        "<th>Sealed here</th></tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
        "</section>",
    ]


def _how_to_verify(v: VerifiedExport) -> list[str]:
    exporter = _e(v.name_of(v.exporter))
    return [
        '<section id="verify">',
        "<h2>How to check this file</h2>",
        "<p>Anyone can check it, offline, with no account and no key: install Trellis and run</p>",
        "<p><code>trellis verify-export FILE</code></p>",
        "<p>where FILE is this page as saved, or the JSON export it was made from. The check "
        "confirms that each event was signed by the device shown; that each device's events "
        "are all present and in order up to the last one this file carries (later ones "
        "may exist); that the keys in the file open exactly the events "
        f"listed here; that {exporter}'s device signed the export; and that the words on this "
        "page are exactly what the signed data says. If any byte of the file was changed, "
        "the check fails and says where.</p>",
        "<p>Given an export made by each partner, <code>trellis verify-export A B</code> "
        "checks them against each other: it reports any event one of them holds that the "
        "other leaves out, and any device whose events differ between the two.</p>",
        "<p>The signed data itself is inside this file, in machine-readable form, after this "
        "text.</p>",
        "</section>",
    ]
