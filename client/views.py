"""Every view of a space, folded from one causal order at one moment.

The folds are pure and take the moment (``now_ms``, the local date and time zone) as
input, so both partners holding the same events see the same views on the same day,
and tests can pin the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from client.agreements import AgreementsView, Violation, fold_agreements
from client.fold import JournalItem, fold_journal
from client.intimacy import IntimacyViews, build_intimacy_views
from client.recovery import (
    CheckInView,
    DisclosureView,
    GratitudeView,
    MilestoneView,
    PracticeViolation,
    Profile,
    SignalView,
    SobrietyView,
    fold_checkins,
    fold_disclosures,
    fold_gratitude,
    fold_milestones,
    fold_profiles,
    fold_signals,
    fold_sobriety,
)
from client.verify import Membership, VerifiedEvent
from schemas.ids import MemberId


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
    violations: list[Violation | PracticeViolation]
    """Events that break a rule of their practice: kept in the log, shown by verify."""
    intimacy: IntimacyViews
    """Pacing, intimacy check-ins, shared language, boundaries, disclosure preparation."""


def build_views(ordered: list[VerifiedEvent], membership: Membership, moment: Moment) -> Views:
    profiles = fold_profiles(ordered, membership)
    agreements = fold_agreements(ordered, membership, moment.today)
    disclosures, disclosure_violations = fold_disclosures(ordered, membership, profiles)
    signals, signal_violations = fold_signals(ordered, membership)
    intimacy = build_intimacy_views(ordered, membership)
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
        violations=[
            *agreements.violations,
            *disclosure_violations,
            *signal_violations,
            *intimacy.violations,
        ],
        intimacy=intimacy,
    )
