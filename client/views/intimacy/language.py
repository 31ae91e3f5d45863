"""The shared language (docs/PROTOCOL.md §5.13): words and gestures both partners agreed
on, versioned like agreements, and the cues that always mean stop whatever it says."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from client.core.verify import Membership, VerifiedEvent
from client.views.recovery.records import authored
from client.views.recovery.violations import PracticeViolation
from schemas.ids import EventId, MemberId
from schemas.intimacy import TermAccepted, TermProposed, TermWithdrawn

ALWAYS_STOP: tuple[str, ...] = ("stop", "no", "silence", "freezing")
"""Cues that always mean stop, whatever the shared language says (§5.13)."""
SIGNAL_TERM_KINDS: dict[str, tuple[str, ...]] = {
    "pause": ("check",),
    "slow": ("slow",),
    "stop": ("stop",),
}
"""Which entries of the shared language each safety signal links to (§5.13)."""


@dataclass
class TermVersion:
    id: EventId
    proposer: MemberId
    term: str
    meaning: str
    kind: str
    gesture: bool
    recorded_at: int
    accepted_by: set[MemberId] = field(default_factory=set)
    withdrawn: bool = False
    """The entry was withdrawn while this version was folded."""
    replaced: bool = False
    """Another version of the entry came into use after this one."""

    @property
    def closed(self) -> bool:
        """Withdrawn or replaced: a yes to it changes nothing, and a new version is what
        asks again (a yes given to an old version must not outlive a withdrawal,
        THREAT_MODEL §23.5)."""
        return self.withdrawn or self.replaced


@dataclass
class TermView:
    """One entry of the shared language: every version, and the one in use if any."""

    id: EventId
    versions: list[TermVersion] = field(default_factory=list)
    in_use: TermVersion | None = None
    withdrawn_by: MemberId | None = None
    withdrawn_at: int | None = None

    @property
    def latest(self) -> TermVersion:
        return self.versions[-1]


def stop_word(term: str) -> str:
    """The letters of ``term`` as a reader sees them: compatibility forms folded (NFKC:
    fullwidth letters), case folded, and everything that is not a letter dropped
    (punctuation, spaces, and invisible format characters such as a zero-width space or
    a soft hyphen). "STOP!", "stop." and "s\u200btop" all read "stop" (THREAT_MODEL
    §23.3)."""
    folded = unicodedata.normalize("NFKC", term).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch).startswith("L"))


def redefines_stop(term: str, kind: str) -> bool:
    """True when ``term`` reads as one of :data:`ALWAYS_STOP` and ``kind`` is not stop.

    One rule for the fold, the CLI and the app, so a disguised "stop" is refused where
    it is written and never comes into use where it is read (PROTOCOL §5.13)."""
    return kind != "stop" and stop_word(term) in ALWAYS_STOP


def _redefines_stop(p: TermProposed) -> bool:
    return redefines_stop(p.term, p.kind)


def fold_language(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> tuple[list[TermView], list[PracticeViolation]]:
    """The shared language. A version is in use once both partners accepted it (the
    proposer by proposing); a newer version in use replaces the older, and closes every
    other version of the entry. Either partner's withdrawal takes the entry out of use
    at once and closes every version; a new version accepted by both brings it back. A
    proposal that gives "stop", "no", silence or freezing another meaning never comes
    into use (``stop_cannot_be_redefined``)."""
    fold = _LanguageFold(needed=max(2, len(membership.members)))
    for event, member in authored(ordered, membership):
        p = event.payload
        if isinstance(p, TermProposed):
            fold.propose(event, member.member_id, p)
        elif isinstance(p, TermAccepted | TermWithdrawn):
            fold.answer(event, member.member_id, p)
    return list(fold.entries.values()), fold.violations


class _LanguageFold:
    """The shared language while folding: entries, and which entry each version is of."""

    def __init__(self, needed: int) -> None:
        self.needed = needed
        """Acceptances a version needs to be in use: every member, at least two."""
        self.entries: dict[EventId, TermView] = {}
        self.version_entry: dict[EventId, TermView] = {}
        self.versions: dict[EventId, TermVersion] = {}
        self.violations: list[PracticeViolation] = []

    def propose(self, event: VerifiedEvent, who: MemberId, p: TermProposed) -> None:
        if _redefines_stop(p):
            self.violations.append(
                PracticeViolation(
                    event.event_id,
                    "stop_cannot_be_redefined",
                    f"'{p.term}' always means stop and cannot be given another meaning",
                )
            )
            return
        entry = (
            self.entries.get(EventId(event.event_id))
            if p.revises is None
            else self.version_entry.get(EventId(p.revises))
        )
        if p.revises is not None and entry is None:
            self.violations.append(
                PracticeViolation(event.event_id, "unknown_term", "revises an unknown entry")
            )
            return
        if entry is None:
            entry = self.entries[event.event_id] = TermView(event.event_id)
        version = TermVersion(
            event.event_id, who, p.term, p.meaning, p.kind, p.gesture, event.body.recorded_at, {who}
        )
        entry.versions.append(version)
        self.versions[event.event_id] = version
        self.version_entry[event.event_id] = entry

    def answer(self, event: VerifiedEvent, who: MemberId, p: TermAccepted | TermWithdrawn) -> None:
        target = self.versions.get(EventId(p.version))
        if target is None:
            self.violations.append(
                PracticeViolation(event.event_id, "unknown_term", "refers to an unknown entry")
            )
            return
        entry = self.version_entry[target.id]
        if isinstance(p, TermWithdrawn):
            for v in entry.versions:
                v.withdrawn = True
            entry.in_use = None
            entry.withdrawn_by, entry.withdrawn_at = who, event.body.recorded_at
            return
        if target.closed:
            return
        target.accepted_by.add(who)
        if _in_use_once(target, self.needed):
            for v in entry.versions:
                if v is not target:
                    v.replaced = True
            entry.in_use = target
            entry.withdrawn_by = entry.withdrawn_at = None


def _in_use_once(version: TermVersion, needed: int) -> bool:
    return len(version.accepted_by) >= needed


def terms_for_signal(terms: list[TermView], level: str) -> list[TermVersion]:
    """The entries in use that a safety signal links to (§5.13)."""
    kinds = SIGNAL_TERM_KINDS.get(level, ())
    return [t.in_use for t in terms if t.in_use is not None and t.in_use.kind in kinds]
