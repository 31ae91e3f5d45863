"""Whose words may leave in an export (docs/PROTOCOL.md "Exports", "Consent").

What a partner wrote in their own words (a decline reason, a journal entry, a
disclosure, a check-in, a note) leaves the space in the other partner's export only
with the writer's signed ``export_consented`` for that export: the same recipient and
purpose, not expired when the export is made. The facts of the agreement timeline (who
proposed, accepted, declined, withdrew, when) may be exported by either partner. Private
notes, intimacy data and disclosure preparation leave only in their writer's own export.

Pure functions of payloads and times: the builder uses them to leave events out (and
say so), the verifier uses them to refuse an export that carries the other partner's
words without their yes. A consent is only as good as the partner's device signature
on it, which the exporter cannot make.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from schemas.practices import ExportConsented, LeftOut

WRITER_ONLY_KINDS = frozenset(
    {
        "intimacy_check_in",
        "disclosure_prepared",
        "disclosure_questions_marked",
        "private_note",
        "private_note_shared",
        "private_note_deleted",
    }
)
"""Never in the other partner's export, even with consent (DOMAIN.md §2: excluded by
default; only their writer puts them in an export)."""

_WORD_FIELDS: dict[str, tuple[str, ...]] = {
    "agreement_accepted": ("note",),
    "agreement_declined": ("reason",),
    "agreement_withdrawn": ("reason",),
    "agreement_reviewed": ("note",),
    "journal_entry": ("text",),
    "journal_amended": ("text",),
    "journal_retracted": ("reason",),
    "disclosure": ("summary", "details", "slip"),
    "disclosure_acknowledged": ("response",),
    "check_in": ("feelings", "affirmation", "needs", "ownership", "sobriety", "mood"),
    "milestone": ("note",),
    "gratitude": ("text",),
    "signal_sent": ("note",),
    "window_postponed": ("note",),
    "pacing_forward_proposed": ("note",),
    "pacing_stepped_back": ("note",),
    "boundary_set": ("i_will", "when", "why"),
    "term_proposed": ("term", "meaning"),
}
"""Payload kind → the fields that hold the writer's own words. An event of one of these
kinds with any of them filled needs its writer's consent to leave in the other's export.
Agreement proposals are not here: their title and clauses are the text both partners
negotiated, part of the timeline's facts; a recovery plan is the exception
(:func:`carries_words`), since only its writer writes it."""

WORD_LABELS: dict[str, str] = {
    "agreement_accepted": "a note on an acceptance",
    "agreement_declined": "a reason for declining",
    "agreement_withdrawn": "a reason for withdrawing",
    "agreement_reviewed": "a review note",
    "journal_entry": "a journal entry",
    "journal_amended": "a journal amendment",
    "journal_retracted": "a reason for retracting",
    "disclosure": "a disclosure",
    "disclosure_acknowledged": "a response to a disclosure",
    "check_in": "a check-in",
    "milestone": "a milestone note",
    "gratitude": "a gratitude note",
    "signal_sent": "a note with a signal",
    "window_postponed": "a note with a postponement",
    "agreement_proposed": "a recovery plan",
    "term_proposed": "a shared-language entry",
}


def left_out_sentence(kind: str, they_can: str, ref: str = "") -> str:
    """What the exporter reads for each of the partner's words left out of an export:
    the same sentence in every front end, ending with where the partner can consent
    (``they_can``); ``ref`` names the event where the front end can show ids."""
    what = WORD_LABELS.get(kind, "something your partner wrote")
    return (
        f"Left out {what}{f' ({ref})' if ref else ''}: your partner has not consented to "
        f"share their own words with this recipient for this purpose. {they_can}"
    )


def may_be_left_out(kind: str) -> bool:
    """Whether an event of ``kind`` can hold its writer's words, and so be left out of
    the other partner's export for lack of consent."""
    return kind in WRITER_ONLY_KINDS or kind in _WORD_FIELDS or kind == "agreement_proposed"


def carries_words(kind: str, payload: Mapping[str, Any]) -> bool:
    """Whether an event of ``kind`` with this payload (as builtins) holds its writer's
    own words, or is writer-only data."""
    if kind in WRITER_ONLY_KINDS:
        return True
    if kind == "agreement_proposed" and payload.get("kind") == "recovery_plan":
        # A recovery plan is its writer's alone (issue #17: the partner reads it, never
        # negotiates it): its circles, definitions and title are their own words, not
        # the text of an agreement both wrote (docs/THREAT_MODEL.md §17.3).
        return True
    return any(payload.get(name) not in (None, "", [], {}) for name in _WORD_FIELDS.get(kind, ()))


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def consent_covers(
    consent: ExportConsented, declaration: ExportConsented, created_at_ms: int
) -> bool:
    """Whether a partner's ``consent`` counts for the export ``declaration`` describes,
    made at ``created_at_ms``: same recipient and purpose, and not expired by then."""
    return (
        _same(consent.recipient, declaration.recipient)
        and _same(consent.purpose, declaration.purpose)
        and created_at_ms <= consent.expires_at
    )


@dataclass(frozen=True, slots=True)
class Written:
    """One event as the consent rule sees it."""

    event_id: bytes
    member: bytes | None
    """The writer's member id; None when it cannot be told (never counts as the
    exporter's own)."""
    kind: str
    payload: Mapping[str, Any]
    consent: ExportConsented | None = None


def needs_consent(
    events: Sequence[Written],
    exporter_member: bytes,
    declaration: ExportConsented,
    created_at_ms: int,
) -> list[Written]:
    """The events among ``events`` that hold another member's words and that no consent
    of that member among ``events`` covers. Writer-only kinds of another member are
    always returned."""
    consenting = {
        e.member
        for e in events
        if e.consent is not None
        and e.member is not None
        and e.member != exporter_member
        and consent_covers(e.consent, declaration, created_at_ms)
    }
    return [
        e
        for e in events
        if e.member != exporter_member
        and carries_words(e.kind, e.payload)
        and (e.kind in WRITER_ONLY_KINDS or e.member not in consenting)
    ]


class _Revealed(Protocol):
    @property
    def author(self) -> bytes: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...


def consent_of(event: _Revealed) -> ExportConsented | None:
    """The consent a revealed ``export_consented`` gives (its payload as builtins), or
    None for any other event. ``left_out`` is not needed to match a consent."""
    if event.kind != "export_consented":
        return None
    p = event.payload
    recipient, purpose, expires_at = p.get("recipient"), p.get("purpose"), p.get("expires_at")
    if not (isinstance(recipient, str) and isinstance(purpose, str)):
        return None
    if not isinstance(expires_at, int):
        return None
    return ExportConsented(recipient=recipient, purpose=purpose, expires_at=expires_at)


def declaration_of(revealed: Sequence[_Revealed], exporter: bytes) -> ExportConsented | None:
    """The exporter's declaration: the last ``export_consented`` its own device wrote
    among the revealed events, with its ``left_out`` list."""
    found: ExportConsented | None = None
    for event in revealed:
        if event.author == exporter and (c := consent_of(event)) is not None:
            left = event.payload.get("left_out") or []
            found = ExportConsented(
                recipient=c.recipient,
                purpose=c.purpose,
                expires_at=c.expires_at,
                left_out=[
                    LeftOut(
                        event=bytes.fromhex(item["event"]),
                        kind=item["kind"],
                        about=bytes.fromhex(item["about"]) if item.get("about") else None,
                    )
                    for item in left
                    if isinstance(item, dict)
                ],
            )
    return found
