"""Every view of a space, folded from one causal order at one moment.

The folds are pure and take the moment (``now_ms``, the local date and time zone) as
input, so both partners holding the same events see the same views on the same day,
and tests can pin the clock.

Where things live: the folds by practice in sub-packages, one module per fold, each
imported from its package (``agreements/``, ``recovery/``, ``intimacy/``); the journal in
``fold.py`` (with the causal order) and ``journal_rules.py``; what a partner may write in
``write_rules.py``; the audit listing in ``audit.py``. How it all reads to people is in
``present/`` and ``present_intimacy.py``, which the folds never import (import contract
``views-folds-below-words``), so a fold can be read and tested without any wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from client.core.verify import Membership, VerifiedEvent
from client.views.agreements import AgreementsView, Violation, fold_agreements
from client.views.fold import JournalItem, fold_journal
from client.views.intimacy import IntimacyViews, build_intimacy_views
from client.views.journal_rules import JournalViolation, journal_effects
from client.views.recovery import (
    CheckInView,
    DisclosureView,
    GratitudeView,
    MilestoneView,
    Postponement,
    PostponeProblem,
    PracticeViolation,
    Profile,
    SignalView,
    SobrietyView,
    fold_checkins,
    fold_disclosures,
    fold_gratitude,
    fold_milestones,
    fold_postponements,
    fold_profiles,
    fold_signals,
    fold_sobriety,
)
from schemas.ids import EventId, MemberId

_APPLIED = frozenset({"slip_report_on_other_kind"})
"""Violations whose event is applied as written, only flagged."""


@dataclass(frozen=True, slots=True)
class Moment:
    """When the views are computed: the instant, and the person's calendar."""

    now_ms: int
    tz: tzinfo

    @classmethod
    def now(cls) -> Moment:
        local = datetime.now().astimezone()
        tz = local.tzinfo or UTC
        return cls(now_ms=int(local.timestamp() * 1000), tz=tz)

    @property
    def today(self) -> date:
        return datetime.fromtimestamp(self.now_ms / 1000, self.tz).date()


@dataclass
class Views:
    journal: list[JournalItem]
    agreements: AgreementsView
    profiles: dict[MemberId, Profile]
    disclosures: list[DisclosureView]
    checkins: list[CheckInView]
    sobriety: dict[MemberId, SobrietyView]
    milestones: list[MilestoneView]
    gratitude: list[GratitudeView]
    signals: list[SignalView]
    intimacy: IntimacyViews
    """Pacing, intimacy check-ins, shared language, boundaries, disclosure preparation."""
    violations: list[Violation | PracticeViolation | JournalViolation | PostponeProblem]
    """Events that break a rule of their practice, or whose effect was not applied: kept
    in the log, listed by verify."""
    without_effect: set[EventId]
    """Events that changed nothing: every violation, and honest events written
    concurrently with what made them void (§10.5). Listings say so when showing them."""
    postponements: dict[tuple[EventId, int], Postponement] = field(default_factory=dict)
    """Window occurrences moved, by (window version id, scheduled start)."""


def build_views(ordered: list[VerifiedEvent], membership: Membership, moment: Moment) -> Views:
    profiles = fold_profiles(ordered, membership)
    agreements = fold_agreements(ordered, membership, moment.today)
    disclosures, disclosure_violations = fold_disclosures(ordered, membership, profiles)
    signals, signal_violations = fold_signals(ordered, membership)
    intimacy = build_intimacy_views(ordered, membership)
    journal = journal_effects(ordered, membership)
    postponements, postpone_problems = fold_postponements(ordered, membership)
    violations: list[Violation | PracticeViolation | JournalViolation | PostponeProblem] = [
        *agreements.violations,
        *disclosure_violations,
        *signal_violations,
        *journal.violations,
        *postpone_problems,
        *intimacy.violations,
    ]
    late = {w.event_id for a in agreements.agreements for v in a.versions for w in v.without_effect}
    return Views(
        journal=fold_journal(ordered, membership),
        agreements=agreements,
        profiles=profiles,
        disclosures=disclosures,
        checkins=fold_checkins(ordered, membership),
        sobriety=fold_sobriety(ordered, membership, moment.today, moment.tz),
        milestones=fold_milestones(ordered, membership),
        gratitude=fold_gratitude(ordered, membership),
        signals=signals,
        violations=violations,
        without_effect={v.event_id for v in violations if v.code not in _APPLIED}
        | journal.without_effect
        | intimacy.without_effect
        | late,
        postponements=postponements,
        intimacy=intimacy,
    )
