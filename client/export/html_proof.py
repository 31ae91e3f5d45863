"""The report's appendix of full event ids and its footer: how to check the file,
with the chains, the safety number and what stays sealed (docs/PROTOCOL.md "Exports",
"The report a therapist reads", items 4-5)."""

from __future__ import annotations

from collections.abc import Iterable

from client.export.html_words import count, esc, short, utc
from client.export.verified import VerifiedExport
from client.keys import crypto


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


def appendix(v: VerifiedExport) -> list[str]:
    rows = [
        f"<tr><td><code>{short(e.event_id)}</code></td><td>{esc(e.kind)}</td>"
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


def footer(v: VerifiedExport) -> list[str]:
    exporter = esc(v.name_of(v.exporter))
    devices = sorted(v.members)
    chain_rows = []
    for chain in v.chains:
        sealed = set(range(1, chain.head_seq + 1)) - set(chain.revealed_seqs)
        chain_rows.append(
            f"<tr><td>{esc(v.name_of(chain.device))}<br><code>{chain.device.hex()}</code></td>"
            f"<td>1–{chain.head_seq}</td><td>{_ranges(chain.revealed_seqs)}</td>"
            f"<td>{_ranges(sealed)}</td></tr>"
        )
    return [
        '<footer id="verify">',
        "<h2>Checking this file</h2>",
        '<dl class="facts">',
        f"<dt>Exported by</dt><dd>{exporter}, from the device <code>{v.exporter.hex()}</code></dd>",
        f"<dt>Exported at</dt><dd>{utc(v.created_at)}</dd>",
        f"<dt>Shared space</dt><dd><code>{v.space_id.hex()}</code></dd>",
        f"<dt>Safety number</dt><dd><code>{crypto.safety_number(v.space_id, devices)}</code></dd>",
        f"<dt>Readable here</dt><dd>{count(len(v.revealed), 'event')}</dd>",
        f"<dt>Sealed here</dt><dd>{count(v.sealed_count, 'event')}</dd>",
        "</dl>",
        f"<p>{esc(v.scope)}</p>",
        f"<p>The file holds the key to each readable event only, and carries "
        f"{count(v.sealed_count, 'other event')} of the same devices sealed (encrypted), "
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
