"""Whose words may leave in an export (docs/PROTOCOL.md "Exports", "Consent").

What a partner wrote in their own words (a decline reason, a journal entry, a
disclosure, a check-in, a note, a milestone's title, a proposal the exporter never
accepted) leaves the space in the other partner's export only with the writer's signed
``export_consented`` for that export: the same recipient and purpose, not expired when
the export is made. The facts of the agreement timeline (who proposed, accepted,
declined, withdrew, when: event ids and kinds) may be exported by either partner, and so
may the text of a version both partners agreed to (the other partner's acceptance of it
is revealed too): negotiated and in force, it is both partners' words
(docs/THREAT_MODEL.md §17.7). Private notes, intimacy data and disclosure preparation
leave only in their writer's own export.

Pure functions of payloads and times: the builder uses them to leave events out (and
say so), the verifier uses them to refuse an export that carries the other partner's
words without their yes. A consent is only as good as the partner's device signature
on it, which the exporter cannot make.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from client.core.events import Device, Member, VerifiedEvent
from client.core.membership_rules import Membership
from client.views.agreements import fold_agreements
from schemas.ids import DeviceId, EventId, MemberId
from schemas.intimacy import PacingPlanAccepted
from schemas.payloads import Payload, UnknownPayload
from schemas.practices import AgreementAccepted, ExportConsented, LeftOut

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
    "milestone": ("title", "note"),
    "gratitude": ("text",),
    "signal_sent": ("note",),
    "window_postponed": ("note",),
    "boundary_set": ("i_will", "when", "why"),
    "term_proposed": ("term", "meaning"),
    "sobriety_started": ("label",),
    "device_revoked": ("reason",),
    "export_consented": ("recipient", "purpose"),
}
"""Payload kind → the fields that hold the writer's own words. An event of one of these
kinds with any of them filled needs its writer's consent to leave in the other's export.
A milestone's title is only its writer's, like its note; a sobriety date's label and a
device removal's reason too. A partner's ``export_consented`` names a recipient and a
purpose: one that does not cover this export says whom else they share with. Proposals
of negotiated text are in :data:`NEGOTIATED`."""

NEGOTIATED: dict[str, str] = {
    "agreement_proposed": "agreement_accepted",
    "pacing_plan_proposed": "pacing_plan_accepted",
}
"""Kind of a version of negotiated text (an agreement's title, clauses and window, a
pacing plan's stages) → the kind that accepts it. Such a version is its proposer's words
until the other member accepts it; accepted, it is both partners' words and may leave in
either's export, with that acceptance revealed beside it (:func:`agreed_versions`). A
recovery plan is never negotiated (only its writer writes it; the partner's accept says
they read it), and a narrowing in force on its proposer's word alone was not accepted:
both stay their writer's words. The shared language is intimacy data, in
:data:`_WORD_FIELDS` whether accepted or not."""

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
    "milestone": "a milestone",
    "gratitude": "a gratitude note",
    "signal_sent": "a note with a signal",
    "window_postponed": "a note with a postponement",
    "agreement_proposed": "a recovery plan",
    "term_proposed": "a shared-language entry",
    "sobriety_started": "a label on a sobriety date",
    "device_revoked": "a reason for removing a device",
    "export_consented": "a consent to another export",
    "pacing_plan_proposed": "a pacing plan proposal",
    "pacing_forward_proposed": "an offer to move forward in the pacing plan",
    "pacing_stepped_back": "a step back in the pacing plan",
    "boundary_set": "a personal boundary",
    "intimacy_check_in": "an intimacy check-in",
    "disclosure_prepared": "a preparation for a formal disclosure",
    "disclosure_questions_marked": "marks on disclosure questions",
    "private_note": "a private note",
    "private_note_shared": "a shared private note",
    "private_note_deleted": "a deleted private note",
}
"""Kind → what the report, the CLI and the app call the writer's words of that kind
when they are left out (:func:`left_out_label`). Every kind that :func:`may_be_left_out`
takes has one (tests/client/test_export_labels.py)."""

_PROPOSAL_LABEL = "an agreement proposal"
"""An ``agreement_proposed`` left out names, in ``about``, the version it revises (or
itself, for a first version): a recovery plan is left out without ``about``, as exports
always wrote it, so both read as before."""


def left_out_label(kind: str, about: bytes | None = None) -> str:
    """The plain words for a left-out event of ``kind``: "a reason for declining"."""
    if kind == "agreement_proposed" and about is not None:
        return _PROPOSAL_LABEL
    return WORD_LABELS.get(kind, "something your partner wrote")


def left_out_sentence(kind: str, they_can: str, ref: str = "", about: bytes | None = None) -> str:
    """What the exporter reads for each of the partner's words left out of an export:
    the same sentence in every front end, ending with where the partner can consent
    (``they_can``); ``ref`` names the event where the front end can show ids, ``about``
    is the left-out item's (it tells a proposal from a recovery plan)."""
    what = left_out_label(kind, about)
    return (
        f"Left out {what}{f' ({ref})' if ref else ''}: your partner has not consented to "
        f"share their own words with this recipient for this purpose. {they_can}"
    )


def may_be_left_out(kind: str) -> bool:
    """Whether an event of ``kind`` can hold its writer's words, and so be left out of
    the other partner's export for lack of consent."""
    return kind in WRITER_ONLY_KINDS or kind in _WORD_FIELDS or kind in NEGOTIATED


def carries_words(kind: str, payload: Mapping[str, Any]) -> bool:
    """Whether an event of ``kind`` with this payload (as builtins) holds its writer's
    own words, or is writer-only data."""
    if kind in WRITER_ONLY_KINDS or kind in NEGOTIATED:
        # A proposal is its proposer's words until the other member accepts it
        # (:func:`agreed_versions`); a recovery plan always (docs/THREAT_MODEL.md §17.3).
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
    accepts: bytes | None = None
    """For an acceptance of negotiated text (:data:`NEGOTIATED`), the version it
    accepts (:func:`accepted_version`)."""
    source: VerifiedEvent | None = None
    """The event itself, for the agreements fold (:func:`agreed_versions`)."""


def accepted_version(payload: Payload | UnknownPayload) -> bytes | None:
    """The version an ``agreement_accepted`` or ``pacing_plan_accepted`` accepts."""
    if isinstance(payload, AgreementAccepted | PacingPlanAccepted):
        return bytes(payload.version)
    return None


def agreed_versions(events: Sequence[Written]) -> dict[bytes, bytes]:
    """The versions of negotiated text among ``events`` (in causal order) that came into
    force by the other member's acceptance among ``events``, each with that acceptance:
    both partners' words.

    Agreements are folded by the apps' own fold (client/views/agreements,
    docs/PROTOCOL.md §10.3) over ``events`` alone, with the members that wrote them: a
    version is agreed when the fold brought it into force by an acceptance (its
    ``in_force_by``), so an acceptance after a decline, a withdrawal or another version
    coming into force counts for nothing, exactly as in the apps. A narrowing in force on
    its proposer's word alone, and a recovery plan (its partner's accept says they read
    it), are not agreed. A pacing plan version is agreed once the member who did not
    propose it accepts it (§5.11). Only what is in ``events`` counts, so a verifier
    judges by the revealed events, and the builder reveals the acceptance too."""
    agreed = _agreements_in_force(events)
    versions = {bytes(e.event_id): e for e in events if e.kind == "pacing_plan_proposed"}
    for e in events:
        v = (
            versions.get(bytes(e.accepts))
            if e.kind == "pacing_plan_accepted" and e.accepts
            else None
        )
        if v is not None and e.member is not None and v.member not in (None, e.member):
            agreed.setdefault(bytes(v.event_id), bytes(e.event_id))
    return agreed


_NO_EVENT = EventId(b"")
_ANY_DAY = datetime.date(2000, 1, 1)
"""The fold's "today" decides only the expiry and review flags, never what came into
force (client/views/agreements): any date gives the same answer here."""


def _agreements_in_force(events: Sequence[Written]) -> dict[bytes, bytes]:
    written = [(e.source, e.member) for e in events if e.source is not None and e.member]
    membership = Membership(
        members={MemberId(m): Member(MemberId(m), "", _NO_EVENT) for _, m in written},
        devices={
            DeviceId(source.author): Device(DeviceId(source.author), MemberId(m), b"", _NO_EVENT)
            for source, m in written
        },
    )
    view = fold_agreements([source for source, _ in written], membership, _ANY_DAY)
    return {
        bytes(version.id): bytes(version.in_force_by)
        for agreement in view.agreements
        for version in agreement.versions
        if version.kind != "recovery_plan"
        and version.in_force_by is not None
        and version.in_force_by != version.id
        and not version.narrowing
    }


WITHDRAWN_AT = 0
"""The end of a withdrawal (``trellis export-consent --withdraw``, the app's "End this
consent"): an ``export_consented`` ending before any export can be made. As the last
consent for its recipient and purpose it is the one that counts
(:func:`governing_consents`), and it covers no export."""


def governing_consents(
    events: Sequence[Written], exporter_member: bytes, declaration: ExportConsented
) -> dict[bytes, Written]:
    """Each other member's last consent among ``events`` (in causal order) for the
    declaration's recipient and purpose: a later one replaces an earlier one, so a
    partner ends their consent early by giving it again with an earlier last day."""
    last: dict[bytes, Written] = {}
    for e in events:
        if (
            e.consent is not None
            and e.member is not None
            and e.member != exporter_member
            and _same(e.consent.recipient, declaration.recipient)
            and _same(e.consent.purpose, declaration.purpose)
        ):
            last[e.member] = e
    return last


def needs_consent(
    events: Sequence[Written],
    exporter_member: bytes,
    declaration: ExportConsented,
    created_at_ms: int,
) -> list[Written]:
    """The events among ``events`` (in causal order) that hold another member's words
    and that their last consent among ``events`` for this recipient and purpose does not
    cover. Writer-only kinds of another member are always returned; a version of
    negotiated text the other member accepted (among ``events``) never is."""
    agreed = agreed_versions(events)
    consenting = {
        member
        for member, e in governing_consents(events, exporter_member, declaration).items()
        if e.consent is not None and consent_covers(e.consent, declaration, created_at_ms)
    }
    return [
        e
        for e in events
        if e.member != exporter_member
        and carries_words(e.kind, e.payload)
        and (e.kind in WRITER_ONLY_KINDS or e.member not in consenting)
        and e.event_id not in agreed
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
