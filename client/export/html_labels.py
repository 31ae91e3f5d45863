"""The words the report puts before each field of an event (docs/PROTOCOL.md "Exports",
"The report a therapist reads", item 3).

One entry for every field any payload (and every structure inside one) has, but the
key material and join-protocol ids the report hides (``HIDDEN``):
tests/client/test_export_labels.py fails when a payload gains a field without one, so
nothing reaches a therapist as a programmer's name. The words are part of the signed
rendering: a report made earlier is verified by rendering it again, so an entry, once
shown, keeps its words (a new wording would be a new document ``version``). Those of
fields that had no entry before are the words the report always derived from the name
("I will", "Min days"), kept for that reason.
"""

from __future__ import annotations

from typing import Final

HIDDEN: Final = frozenset(
    {"type", "box_key", "proof", "invite_id", "member_id", "verify_key", "utc_offset_min"}
)
"""Key material and ids of the join protocol: checked, but meaningless on paper."""

FIELD_WORDS: Final[dict[str, str]] = {
    "about": "About",
    "affirmation": "Affirmation",
    "answered": "Answered",
    "area": "Area",
    "arousal": "Arousal",
    "binds": "Binds",
    "circle": "Circle",
    "circles": "Circles",
    "clauses": "Clauses",
    "comfort": "Comfort",
    "coping_tried": "Coping tried",
    "date": "Date",
    "definition": "Definition",
    "desire": "Desire",
    "detail_wanted": "Detail wanted",
    "details": "Details",
    "device_id": "Device id",
    "disclosure": "Disclosure",
    "duration_min": "Duration min",
    "entry": "Entry",
    "epoch": "Epoch",
    "event": "Event",
    "excludes": "Excludes",
    "expires_at": "Until",
    "expires_on": "Ends on",
    "fatigue": "Fatigue",
    "feelings": "Feelings",
    "for_member": "For member",
    "from_stage": "From stage",
    "gesture": "Gesture",
    "halt": "Halt",
    "i_will": "I will",
    "in_recovery": "In recovery",
    "includes": "Includes",
    "index": "Index",
    "inner": "Inner",
    "items": "Items",
    "kind": "Kind",
    "label": "Label",
    "last_seq": "Last seq",
    "left_out": "Left out",
    "level": "Level",
    "mark": "Marked",
    "marks": "Marks",
    "meaning": "Meaning",
    "middle": "Middle",
    "min_days": "Min days",
    "mood": "Mood",
    "name": "Name",
    "needs": "Needs",
    "next_review_on": "Next review on",
    "next_steps": "Next steps",
    "non_negotiable": "Non negotiable",
    "note": "Note",
    "occurrence": "Was due",
    "offer": "Offer",
    "outcome": "Outcome",
    "outer": "Outer",
    "ownership": "Ownership",
    "place": "Place",
    "preparation": "Preparation",
    "preset": "Preset",
    "purpose": "Why",
    "questions": "Questions",
    "reason": "Reason",
    "recipient": "For",
    "response": "Response",
    "review_on": "Review on",
    "reviewed_with": "Reviewed with",
    "revises": "Revises",
    "safety_needs": "Safety needs",
    "sealed": "Sealed",
    "sealed_keys": "Sealed keys",
    "shared_as": "Shared as",
    "signal": "Signal",
    "slip": "Slip",
    "sobriety": "Sobriety",
    "stages": "Stages",
    "summary": "Summary",
    "support_contacted": "Support contacted",
    "support_plan": "Support plan",
    "tags": "Tags",
    "term": "Term",
    "text": "Text",
    "time": "Time",
    "title": "Title",
    "to": "Moved to",
    "to_stage": "To stage",
    "topic": "Topic",
    "topics_not_to_hear": "Topics not to hear",
    "triggers": "Triggers",
    "tz": "Tz",
    "until": "Returns at",
    "version": "About",
    "warning_signs": "Warning signs",
    "weekday": "Weekday",
    "when": "When",
    "why": "Why",
    "window": "Window",
}


def field_words(key: str) -> str:
    """The label of field ``key``; a field this version does not know (from a newer
    app's payload) by its name, as the report always showed one."""
    return FIELD_WORDS.get(key, key.replace("_", " ").capitalize())
