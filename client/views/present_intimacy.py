"""Words for the intimacy practices, for the terminal and for JSON (docs/PROTOCOL.md
§5.11-§5.16). One place, so the CLI, the timeline and later the app say the same calm
thing. A step back is a move like any other, never a failure; a check-in is
information, never a request; arousal is not a yes."""

from __future__ import annotations

from typing import Any, Protocol

from client.views.intimacy import (
    ALWAYS_STOP,
    SIGNAL_TERM_KINDS,
    BoundaryView,
    IntimacyCheckInView,
    PacingView,
    PreparationView,
    TermView,
    terms_for_signal,
)
from client.views.present import iso_utc, local_time
from schemas.intimacy import (
    PacingStage,
)

CHECKIN_REMINDER = "A check-in is information, not a request."
AROUSAL_NOTE = "Arousal is not a yes."
NO_OBLIGATION = "Nothing here obliges either of you to anything."
FORWARD_WORDS = "Move forward (needs both of you)"
BACK_WORDS = "Step back (just you; no explanation owed)"

LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "comfort": ("very uneasy", "uneasy", "okay", "comfortable", "very comfortable"),
    "arousal": ("none", "a little", "some", "quite a lot", "a lot"),
    "fatigue": ("rested", "a little tired", "tired", "very tired", "exhausted"),
}
"""The five worded levels, 0 to 4, of the scaled check-in fields."""

DEFAULT_STAGES: tuple[PacingStage, ...] = (
    PacingStage(
        title="Non-sexual closeness",
        includes=["holding hands", "hugs", "sitting close", "non-sexual touch"],
        excludes=["sexual touch"],
    ),
    PacingStage(
        title="Gentle touch without expectations",
        includes=["sensate focus without breasts or genitals"],
        excludes=["sexual touch", "orgasm as a goal"],
    ),
    PacingStage(
        title="Sensual touch, nothing expected",
        includes=["sensate focus including breasts and genitals"],
        excludes=["intercourse", "orgasm as a goal"],
    ),
    PacingStage(
        title="Sexual intimacy when both want it",
        includes=["what you both want, at the time"],
    ),
)
"""Offered when a couple starts a plan; the wording is theirs to change."""


class Names(Protocol):
    def member_name(self, member_id: bytes) -> str: ...


# --- pacing ----------------------------------------------------------------------


def stage_name(view: PacingView, index: int | None) -> str:
    if view.plan is None or index is None:
        return "no plan in use"
    return f"stage {index + 1} of {len(view.plan.stages)}: {view.plan.stages[index].title}"


def pacing_json(view: PacingView, names: Names, now_ms: int) -> dict[str, Any]:
    plan = view.plan
    return {
        "plan": None
        if plan is None
        else {
            "id": plan.id.hex(),
            "stages": [
                {
                    "title": s.title,
                    "includes": list(s.includes),
                    "excludes": list(s.excludes),
                    "min_days": s.min_days,
                }
                for s in plan.stages
            ],
        },
        "stage": view.stage,
        "stage_title": None
        if plan is None or view.stage is None
        else plan.stages[view.stage].title,
        "pending_versions": [
            {
                "id": v.id.hex(),
                "proposed_by": names.member_name(v.proposer),
                "accepted_by": sorted(names.member_name(m) for m in v.accepted_by),
                "stages": [s.title for s in v.stages],
            }
            for v in view.pending_versions()
        ],
        "open_offers": [
            {"id": o.id.hex(), "by": names.member_name(o.member), "at": iso_utc(o.at)}
            for o in view.open_offers(now_ms)
        ],
        "step_backs": view.step_backs,
        "history": [
            {
                "move": m.kind,
                "by": names.member_name(m.member),
                "at": iso_utc(m.at),
                "stage": m.stage,
                "event": m.event_id.hex(),
            }
            for m in view.history
        ],
    }


_MOVE_WORDS = {
    "plan_in_use": "accepted the plan; it came into use (both agreed)",
    "offered": "offered to move forward",
    "forward": "agreed; you moved forward together",
    "declined": "chose not to move forward now",
    "back": "stepped back",
}


def pacing_lines(view: PacingView, names: Names, now_ms: int) -> list[str]:
    if view.plan is None:
        lines = ["No pacing plan is in use yet."]
        for v in view.pending_versions():
            lines.append(
                f"  Proposed by {names.member_name(v.proposer)} [{v.id.hex()[:8]}]: "
                + " > ".join(s.title for s in v.stages)
            )
        return [*lines, NO_OBLIGATION]
    lines = [f"Where you are: {stage_name(view, view.stage)}"]
    for i, s in enumerate(view.plan.stages):
        mark = ">" if i == view.stage else " "
        extra = f" (includes: {', '.join(s.includes)})" if s.includes else ""
        lines.append(f" {mark} {i + 1}. {s.title}{extra}")
    for o in view.open_offers(now_ms):
        lines.append(f"{names.member_name(o.member)} offered to move forward [{o.id.hex()[:8]}].")
    for v in view.pending_versions():
        lines.append(f"A new version of the plan is proposed [{v.id.hex()[:8]}].")
    lines.append("History:")
    for m in view.history:
        where = "" if m.stage is None else f" (now stage {m.stage + 1})"
        lines.append(
            f"  {local_time(m.at)}  {names.member_name(m.member)} {_MOVE_WORDS[m.kind]}{where}"
        )
    lines += [
        f"{FORWARD_WORDS}: 'trellis pacing forward'.",
        f"{BACK_WORDS}: 'trellis pacing back'.",
    ]
    return lines


# --- check-ins -------------------------------------------------------------------


def level_words(field: str, value: int | None) -> str | None:
    return None if value is None else LEVEL_WORDS[field][value]


def checkin_json(c: IntimacyCheckInView, names: Names, *, private: bool) -> dict[str, Any]:
    return {
        "id": c.id.hex(),
        "author": names.member_name(c.author),
        "private": private,
        "recorded_at": iso_utc(c.recorded_at),
        "comfort": c.comfort,
        "desire": c.desire,
        "arousal": c.arousal,
        "fatigue": c.fatigue,
        "note": c.note,
        "words": {
            "comfort": level_words("comfort", c.comfort),
            "arousal": level_words("arousal", c.arousal),
            "fatigue": level_words("fatigue", c.fatigue),
        },
    }


def checkin_line(c: IntimacyCheckInView, names: Names, *, private: bool) -> str:
    parts = []
    for name in ("comfort", "arousal", "fatigue"):
        words = level_words(name, getattr(c, name))
        if words is not None:
            parts.append(f"{name}: {words}")
    if c.desire is not None:
        parts.append(f"desire: {c.desire}")
    if c.note:
        parts.append(f"note: {c.note}")
    who = "you, private" if private else names.member_name(c.author)
    return f"{local_time(c.recorded_at)}  ({who}) {'; '.join(parts) or 'no fields'}"


# --- language --------------------------------------------------------------------


def language_json(terms: list[TermView], names: Names) -> dict[str, Any]:
    return {
        "always_stop": list(ALWAYS_STOP),
        "terms": [
            {
                "id": t.id.hex(),
                "in_use": None
                if t.in_use is None
                else {
                    "version": t.in_use.id.hex(),
                    "term": t.in_use.term,
                    "meaning": t.in_use.meaning,
                    "kind": t.in_use.kind,
                    "gesture": t.in_use.gesture,
                },
                "withdrawn_by": None
                if t.withdrawn_by is None
                else names.member_name(t.withdrawn_by),
                "versions": [
                    {
                        "version": v.id.hex(),
                        "term": v.term,
                        "meaning": v.meaning,
                        "kind": v.kind,
                        "proposed_by": names.member_name(v.proposer),
                        "accepted_by": sorted(names.member_name(m) for m in v.accepted_by),
                        "withdrawn": v.withdrawn,
                    }
                    for v in t.versions
                ],
            }
            for t in terms
        ],
        "signals": {
            level: [v.term for v in terms_for_signal(terms, level)] for level in SIGNAL_TERM_KINDS
        },
    }


def language_lines(terms: list[TermView], names: Names) -> list[str]:
    lines = [f"Always stop, whatever else you agree: {', '.join(ALWAYS_STOP)}."]
    for t in terms:
        v = t.in_use or t.latest
        if t.in_use is not None:
            state = "in use"
        elif t.withdrawn_by is not None:
            state = f"withdrawn by {names.member_name(t.withdrawn_by)}"
        else:
            state = "proposed, waiting for both"
        cue = "gesture" if v.gesture else "word"
        lines.append(f"  [{v.id.hex()[:8]}] '{v.term}' ({cue}, {v.kind}): {v.meaning} ({state})")
    for level in SIGNAL_TERM_KINDS:
        linked = [v.term for v in terms_for_signal(terms, level)]
        if linked:
            lines.append(f"'trellis signal {level}' goes with: {', '.join(linked)}")
    return lines


# --- boundaries ------------------------------------------------------------------


def boundary_json(b: BoundaryView, names: Names) -> dict[str, Any]:
    c = b.current.payload
    return {
        "id": b.id.hex(),
        "version": b.current.id.hex(),
        "owner": names.member_name(b.owner),
        "area": c.area,
        "when": c.when,
        "i_will": c.i_will,
        "why": c.why,
        "non_negotiable": c.non_negotiable,
        "review_on": c.review_on,
        "withdrawn": b.withdrawn_at is not None,
        "reads_like_a_request": b.request_like,
        "acknowledged_by": sorted(names.member_name(m) for m in b.current.acknowledged_by),
        "versions": [
            {"version": v.id.hex(), "i_will": v.payload.i_will, "at": iso_utc(v.recorded_at)}
            for v in b.versions
        ],
    }


def boundary_lines(b: BoundaryView, names: Names) -> list[str]:
    c = b.current.payload
    when = f"If {c.when}, " if c.when else ""
    flags = []
    if c.non_negotiable:
        flags.append("non-negotiable")
    if c.review_on:
        flags.append(f"review on {c.review_on}")
    if b.withdrawn_at is not None:
        flags.append("withdrawn")
    if b.current.acknowledged_by:
        flags.append(
            "read by " + ", ".join(names.member_name(m) for m in b.current.acknowledged_by)
        )
    lines = [
        f"[{b.current.id.hex()[:8]}] {names.member_name(b.owner)} ({c.area}): {when}I will "
        f"{c.i_will}" + (f"  ({'; '.join(flags)})" if flags else "")
    ]
    if b.request_like:
        lines.append(
            "    This reads like a request of the partner; a boundary says what its owner will do."
        )
    return lines


# --- disclosure preparation ------------------------------------------------------


def preparation_json(p: PreparationView, names: Names) -> dict[str, Any]:
    c = p.current
    return {
        "id": p.id.hex(),
        "version": p.version_id.hex(),
        "by": names.member_name(p.owner),
        "detail_wanted": c.detail_wanted,
        "topics_not_to_hear": list(c.topics_not_to_hear),
        "safety_needs": list(c.safety_needs),
        "support_plan": c.support_plan,
        "questions": [
            {
                "index": i,
                "question": q,
                "answered": None if (m := p.mark_of(i)) is None else m.answered,
                "marked_by": None if m is None else names.member_name(m.by),
                "disclosure": None if m is None or m.disclosure is None else m.disclosure.hex(),
            }
            for i, q in enumerate(c.questions)
        ],
    }


def preparation_lines(p: PreparationView, names: Names) -> list[str]:
    c = p.current
    lines = [
        f"[{p.version_id.hex()[:8]}] Prepared by {names.member_name(p.owner)}; "
        f"detail wanted: {c.detail_wanted}"
    ]
    if c.topics_not_to_hear:
        lines.append("  Please do not share: " + "; ".join(c.topics_not_to_hear))
    if c.safety_needs:
        lines.append("  Safety needs: " + "; ".join(c.safety_needs))
    for i, q in enumerate(c.questions):
        m = p.mark_of(i)
        state = "not marked yet" if m is None else ("answered" if m.answered else "not answered")
        lines.append(f"  {i + 1}. {q} ({state})")
    return lines
