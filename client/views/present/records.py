"""Folded records in words: a journal entry (lines and JSON), a transition that had no
effect, and the details of a disclosure."""

from __future__ import annotations

from typing import Any

from client.views.agreements import WithoutEffect
from client.views.fold import JournalItem
from client.views.present.events import Names
from client.views.present.times import iso_utc, local_time


def journal_json(item: JournalItem, names: Names) -> dict[str, Any]:
    return {
        "id": item.id.hex(),
        "author": names.member_name(item.author),
        "text": item.text,
        "mood": item.mood,
        "tags": list(item.tags),
        "recorded_at": iso_utc(item.recorded_at),
        "occurred_at": iso_utc(item.occurred_at),
        "amended": item.amended,
        "retracted": item.retracted,
        "history": [
            {"id": v.event_id.hex(), "text": v.text, "recorded_at": iso_utc(v.recorded_at)}
            for v in item.history
        ],
    }


def journal_lines(item: JournalItem, names: Names) -> list[str]:
    flags = []
    if item.amended:
        flags.append("updated")
    if item.retracted:
        flags.append("withdrawn")
    suffix = f" ({', '.join(flags)})" if flags else ""
    mood = f"  mood {item.mood}/5" if item.mood is not None else ""
    tags = f"  #{' #'.join(item.tags)}" if item.tags else ""
    head = (
        f"{local_time(item.recorded_at)}  {names.member_name(item.author)}"
        f"  [{item.id.hex()[:8]}]{suffix}{mood}{tags}"
    )
    return [head, *("    " + line for line in item.text.splitlines() or [""])]


_ACTION_PAST = {
    "accept": "accepted",
    "decline": "declined",
    "withdraw": "withdrew consent",
    "review": "reviewed it",
}


def without_effect_sentence(note: WithoutEffect, names: Names) -> str:
    """An honest event written concurrently with what made it void (§10.5), in words:
    "Alex accepted after Sam had withdrawn; it had no effect"."""
    who = names.member_name(note.member)
    did = _ACTION_PAST.get(note.action, note.action)
    if note.after == "accepted":
        return f"{who} {did} again from another device; it had no effect"
    if note.after == "in_force":
        return f"{who} {did} after it had come into force; it had no effect"
    if note.after == "superseded" or note.after_member is None:
        return f"{who} {did} after another version had come into force; it had no effect"
    first = names.member_name(note.after_member)
    return f"{who} {did} after {first} had {note.after}; it had no effect"


_SLIP_FIELDS = (
    ("circle", "circle"),
    ("place", "where"),
    ("mood", "mood (1-5)"),
    ("halt", "hungry, angry, lonely, tired"),
    ("triggers", "triggers"),
    ("warning_signs", "warning signs"),
    ("coping_tried", "what was tried"),
    ("support_contacted", "who was reached"),
    ("next_steps", "next steps"),
)


def disclosure_detail_lines(d: Any, member_name: Any) -> list[str]:
    """Every field of a disclosure beyond its summary, and each response to it."""
    lines = [f"details: {d.details}"] if d.details else []
    if d.slip is not None:
        for name, label in _SLIP_FIELDS:
            value = getattr(d.slip, name)
            if value in (None, [], ()):
                continue
            shown_value = ", ".join(str(v) for v in value) if isinstance(value, list) else value
            lines.append(f"{label}: {shown_value}")
    for ack in d.acknowledgements:
        if ack.response:
            lines.append(f"{member_name(ack.member)} answered: {ack.response}")
    return lines
