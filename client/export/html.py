"""The printable report of an export (docs/PROTOCOL.md "Exports", "The HTML report").

It opens with what a therapist reads first: that it is not a complete record, whom it
is for, why and until when; for a version-2 export, the first page since a chosen date
(client/export/first_page_html.py); then where things stand as of the export
(client/export/html_standing.py: agreements with their status, since when and who
consented, the recovery plan's circles, the windows in words, events that had no
effect). The events follow (client/export/html_events.py), with fields in words and
short ids; full ids are in an appendix, and how to check the file is in the footer
(client/export/html_proof.py). This module puts the parts together.
Every verified export carries the exporter's declaration (``export_consented``); there is
no layout for one without, since verification refuses it (``no_declaration``).

The report is a pure function of the verified export and its JSON, and embeds that
JSON unchanged. ``trellis verify-export`` checks an HTML report by verifying the
embedded JSON and then rendering it again: the file must be byte for byte what this
module writes, so the words on the page (or on paper) are the signed data's and nobody
else's. Nothing here may depend on the clock, the locale or the time zone.
"""

from __future__ import annotations

from client.export import first_page_html
from client.export import summary as export_summary
from client.export.format import HTML_SCRIPT_CLOSE, HTML_SCRIPT_OPEN
from client.export.html_events import timeline
from client.export.html_proof import appendix, footer
from client.export.html_standing import standing
from client.export.html_words import count, esc, utc
from client.export.verified import VerifiedExport

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
    first = verified.first_page  # version 2; a version-1 export renders as it always did
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="Trellis export format {verified.version}">',
        f"<title>{esc(verified.title)} (Trellis export)</title>",
        f"<style>\n{_STYLE}{first_page_html.STYLE if first else ''}\n</style>",
        "</head>",
        "<body>",
        *_header(verified),
        *(first_page_html.render(verified, first) if first else []),
        *standing(verified, summary),
        *timeline(verified, summary),
        *appendix(verified),
        *footer(verified),
        HTML_SCRIPT_OPEN.decode("ascii")
        + export_json.decode("utf-8")
        + HTML_SCRIPT_CLOSE.decode("ascii"),
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _header(v: VerifiedExport) -> list[str]:
    d = v.declaration
    exporter = esc(v.name_of(v.exporter))
    return [
        "<header>",
        '<p class="kicker">Trellis export</p>',
        f"<h1>{esc(v.title)}</h1>",
        '<div class="notice">',
        f"<p><strong>For</strong> {esc(d.recipient)}. <strong>Why:</strong> {esc(d.purpose)}. "
        f"<strong>To be used until</strong> {utc(d.expires_at)}.</p>",
        f"<p>Prepared by {exporter} on {utc(v.created_at)}. <strong>This is not a complete "
        f"record</strong>: it holds only the {count(len(v.revealed), 'event')} {exporter} "
        f"chose to share, as {exporter}'s device held them then. What either partner wrote "
        "in their own words is here only with that partner's consent to this export.</p>",
        "</div>",
        "</header>",
    ]
