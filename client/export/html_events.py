"""The report's events, in the order they happened, each field in words, with short
ids (docs/PROTOCOL.md "Exports", "The report a therapist reads", item 3)."""

from __future__ import annotations

from typing import Any

from client.export import summary as export_summary
from client.export.consent import left_out_label
from client.export.html_labels import HIDDEN, field_words
from client.export.html_standing import clauses
from client.export.html_words import esc, short, utc
from client.export.verified import RevealedEvent, VerifiedExport

_EVENT_REFERENCES = frozenset({"revises", "version", "entry", "disclosure", "signal"})
"""Payload fields that name another event by its id (schemas/practices.py)."""
_TIME_FIELDS = frozenset({"expires_at", "until", "occurrence", "to"})
_KIND_WORDS = {"agreement": "agreement", "recovery_plan": "recovery plan", "window": "window"}


def timeline(v: VerifiedExport, s: export_summary.Summary) -> list[str]:
    by_id = {e.event_id.hex(): e for e in v.revealed}
    out = [
        '<section id="events">',
        "<h2>The events, in the order they happened</h2>",
        '<ol class="timeline">',
    ]
    for event in v.revealed:
        when = f"Recorded {utc(event.recorded_at)}"
        if utc(event.occurred_at) != utc(event.recorded_at):
            when += f"; the author dated it {utc(event.occurred_at)}"
        out += [
            f'<li class="event" id="event-{event.event_id.hex()}">',
            f'<p class="summary">{esc(event.summary)}</p>',
            f'<p class="when">{when}</p>',
            *_details(v, event, by_id, s),
            f'<p class="meta">Event {event.seq} of {esc(v.name_of(event.author))}\'s device '
            f"<code>{short(event.author)}</code>; id <code>{short(event.event_id)}</code></p>",
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
        if key in HIDDEN or value in (None, [], "", {}):
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
                rows.append(f"<dt>Clauses</dt><dd>{clauses(v, version)}</dd>")
                continue
            if key == "kind":
                rows.append(f"<dt>Kind</dt><dd>{_KIND_WORDS.get(str(value), esc(str(value)))}</dd>")
                continue
            if key == "window" and isinstance(value, dict) and event.source is not None:
                window = getattr(event.source.payload, "window", None)
                if window is not None:
                    rows.append(f"<dt>When</dt><dd>{esc(export_summary.window_words(window))}</dd>")
                    continue
            if key == "circles" and event.source is not None:
                circles = getattr(event.source.payload, "circles", None)
                if circles is not None:
                    lists = export_summary.circle_lists(circles)
                    for circle in ("inner", "middle", "outer"):
                        items = "".join(f"<li>{esc(t)}</li>" for t in lists[circle])
                        if items:
                            rows.append(
                                f"<dt>{circle.capitalize()} circle</dt><dd><ul>{items}</ul></dd>"
                            )
                    continue
        label = field_words(key)
        rows.append(f"<dt>{esc(label)}</dt><dd>{_value(v, key, value, by_id)}</dd>")
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
        return utc(value)
    if key == "left_out" and isinstance(value, list):
        items = "".join(
            f"<li>{left_out_label(str(i.get('kind')), _about(i))} "
            f"(<code>{esc(str(i.get('event', ''))[:8])}</code>)</li>"
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
            f"<dt>{esc(field_words(k))}</dt><dd>{_value(v, k, x, by_id)}</dd>"
            for k, x in value.items()
            if k not in HIDDEN and x not in (None, [], "", {})
        ]
        return "".join(['<dl class="details">', *rows, "</dl>"])
    return esc(str(value))


def _reference(event_id: str, by_id: dict[str, RevealedEvent]) -> str:
    target = by_id.get(event_id)
    if target is None:
        return f"an event not revealed here (<code>{esc(event_id[:8])}</code>)"
    title = target.payload.get("title")
    label = f"“{esc(str(title))}”, " if isinstance(title, str) else ""
    return (
        f'{label}<a href="#event-{event_id}">{esc(target.summary)}</a>, '
        f"recorded {utc(target.recorded_at)}"
    )


def _about(item: dict[str, Any]) -> bytes | None:
    """A left-out item's ``about`` (hex in the revealed payload), for its label."""
    about = item.get("about")
    return bytes.fromhex(about) if isinstance(about, str) and len(about) == 64 else None
