"""The recovery practices as views, sans-I/O (docs/PROTOCOL.md §10).

Theory of operation. Every fold here is a pure function over accepted events that are
already in the causal order of :func:`client.views.fold.causal_order`, with the membership
that admission established. Nothing here reads the clock, a file or a socket: the
moment ("now", "today", the person's time zone) is a parameter, so two partners who
hold the same events and ask about the same moment see the same views, whatever order
the events arrived in.

Each fold keeps only events written by a member device (admission accepts nothing
else; the folds do not rely on that) and attributes them to the *member*, so a person's
phone and laptop speak with one voice. An event that refers to another one in a way the
practice does not allow (acknowledging one's own disclosure, clearing the partner's
signal, pointing at an event that is not there) is kept in the log but not applied, and
the fold reports it as a :class:`PracticeViolation` with a stable snake_case code for
``trellis verify``. What someone chose to share is always shown.

The folds, and where they live:

* :func:`fold_profiles`: names and who is in recovery.
* :func:`fold_disclosures`: disclosures with their acknowledgements.
* :func:`fold_checkins`, :func:`fold_milestones`, :func:`fold_gratitude`
  (client/views/recovery_records.py).
* :func:`fold_signals` and :func:`active_signals`: safety signals.
* :func:`fold_sobriety` (client/views/recovery_sobriety.py): current run and total sober days.
* :func:`next_window`, :func:`next_occurrence`, :func:`fold_postponements`,
  :func:`describe_window` (client/views/recovery_windows.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from client.core.verify import Membership, VerifiedEvent
from client.views.recovery_records import (
    CheckInView,
    GratitudeView,
    MilestoneView,
    authored,
    fold_checkins,
    fold_gratitude,
    fold_milestones,
)
from client.views.recovery_sobriety import (
    SLIP_KINDS,
    SobrietyView,
    breaks_sobriety,
    fold_sobriety,
    is_risk_report,
    local_date,
)
from client.views.recovery_windows import (
    Occurrence,
    Postponement,
    PostponeProblem,
    describe_window,
    fold_postponements,
    known_zone,
    next_occurrence,
    next_window,
    window_start,
    window_zone,
)
from schemas.ids import EventId, MemberId
from schemas.payloads import MemberJoined, SpaceCreated
from schemas.practices import (
    SIGNAL_PRESETS,
    TIMEOUT_DEFAULT_MIN,
    TIMEOUT_MAX_MIN,
    DisclosureAcknowledged,
    DisclosureMade,
    ProfileUpdated,
    SignalCleared,
    SignalSent,
    SlipReport,
)

__all__ = [
    "SLIP_KINDS",
    "Acknowledgement",
    "CheckInView",
    "DisclosureView",
    "GratitudeView",
    "MilestoneView",
    "Occurrence",
    "PostponeProblem",
    "Postponement",
    "PracticeViolation",
    "Profile",
    "SignalView",
    "SobrietyView",
    "ViolationCode",
    "active_signals",
    "breaks_sobriety",
    "describe_window",
    "fold_checkins",
    "fold_disclosures",
    "fold_gratitude",
    "fold_milestones",
    "fold_postponements",
    "fold_profiles",
    "fold_signals",
    "fold_sobriety",
    "is_risk_report",
    "known_zone",
    "local_date",
    "next_occurrence",
    "next_window",
    "window_start",
    "window_zone",
]


class ViolationCode(StrEnum):
    """Stable codes for an event that breaks a rule of its practice."""

    ACKNOWLEDGE_OWN_DISCLOSURE = "acknowledge_own_disclosure"
    UNKNOWN_DISCLOSURE = "unknown_disclosure"
    SLIP_REPORT_ON_OTHER_KIND = "slip_report_on_other_kind"
    OUTER_CIRCLE_SLIP = "outer_circle_slip"
    CLEAR_BY_OTHER_MEMBER = "clear_by_other_member"
    UNKNOWN_SIGNAL = "unknown_signal"


@dataclass(frozen=True)
class PracticeViolation:
    """An event kept in the log whose effect the fold did not apply (or, for a slip
    report on another kind, applied as written and flagged)."""

    event_id: EventId
    code: str
    message: str


# --- profiles --------------------------------------------------------------------


@dataclass
class Profile:
    member_id: MemberId
    name: str
    in_recovery: bool


def fold_profiles(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> dict[MemberId, Profile]:
    """Every member's name and role, as of the end of ``ordered``.

    A profile starts from the member's joining event (``space_created`` for the creator,
    the ``member_joined`` that added them for the partner; a device joining later does
    not change it). Then each ``profile_updated`` written by that member, from any of
    their devices, sets the fields it carries (None leaves a field as it was); the last
    in causal order wins. An update describes its author only: no one can rename their
    partner. A member whose joining event is not in ``ordered`` keeps the name that
    admission recorded and is not in recovery unless they said so.
    """
    profiles: dict[MemberId, Profile] = {}
    for event, member in authored(ordered, membership):
        payload = event.payload
        if isinstance(payload, SpaceCreated | MemberJoined):
            if event.event_id == member.joined_by:
                profiles[member.member_id] = Profile(
                    member.member_id, payload.name, payload.in_recovery
                )
        elif isinstance(payload, ProfileUpdated):
            profile = profiles.setdefault(
                member.member_id, Profile(member.member_id, member.name, False)
            )
            if payload.name is not None:
                profile.name = payload.name
            if payload.in_recovery is not None:
                profile.in_recovery = payload.in_recovery
    for member_id, member in membership.members.items():
        profiles.setdefault(member_id, Profile(member_id, member.name, False))
    return profiles


# --- disclosures -----------------------------------------------------------------


REPORT_KINDS = frozenset({*SLIP_KINDS, "risk"})
"""Disclosure kinds a slip report (circle, HALT, triggers...) belongs to."""

_MINUTE_MS = 60_000


@dataclass
class Acknowledgement:
    """The partner's own mark on a disclosure: "seen" or "I need time"."""

    member: MemberId
    event_id: EventId
    at: int
    """The mark's ``recorded_at``."""
    response: str | None
    mark: str = "seen"
    """``seen`` or ``need_time``."""


@dataclass
class DisclosureView:
    id: EventId
    author: MemberId
    kind: str
    """As shown: a middle-circle slip report is shown as ``risk``."""
    summary: str
    details: str | None
    slip: SlipReport | None
    occurred_at: int
    recorded_at: int
    acknowledgements: list[Acknowledgement] = field(default_factory=list)
    written_kind: str = ""
    """The kind as written (differs from ``kind`` for a middle-circle slip report)."""
    breaks_sobriety: bool = False
    """An inner-circle slip or relapse: the one kind of report that ends a sober run."""

    @property
    def acknowledged(self) -> bool:
        return bool(self.acknowledgements)

    @property
    def mark(self) -> str | None:
        """The partner's latest mark (``seen``, ``need_time``), or None: no mark is not
        a failing, and nothing reminds anyone of it."""
        return self.acknowledgements[-1].mark if self.acknowledgements else None


def fold_disclosures(
    ordered: Iterable[VerifiedEvent],
    membership: Membership,
    profiles: dict[MemberId, Profile],
) -> tuple[list[DisclosureView], list[PracticeViolation]]:
    """Disclosures in causal order, each with its acknowledgements in causal order.

    A disclosure is accepted from any member and shown: ``profiles`` is taken so views
    can be built from one set of inputs, but who is in recovery never hides what
    someone chose to share. Three rules shape what is shown (docs/PROTOCOL.md §10.4):

    * A slip or relapse report in the ``middle`` circle is shown as a ``risk``
      disclosure (``written_kind`` keeps what was written); it never ends a sober run.
    * A slip or relapse naming the ``outer`` circle is shown as written and reported
      ``outer_circle_slip``: it changes no count.
    * A ``formal_disclosure`` is a milestone without content (the disclosure itself
      happens in the therapist's office): it is not listed here, but by
      :func:`fold_milestones`, with no words. Its text stays in the history.

    A slip report on a kind other than ``slip``, ``relapse`` or ``risk`` is shown as
    written and flagged ``slip_report_on_other_kind``.

    A mark ("seen" or "I need time") counts when it names a disclosure folded earlier
    and comes from a member other than the author. Otherwise it is not applied and is
    reported: ``unknown_disclosure`` or ``acknowledge_own_disclosure``. A member may
    mark again (a second response, or "seen" after "I need time"); every mark is kept,
    in order.
    """
    disclosures: dict[EventId, DisclosureView] = {}
    violations: list[PracticeViolation] = []
    for event, member in authored(ordered, membership):
        payload = event.payload
        if isinstance(payload, DisclosureMade):
            if payload.kind == "formal_disclosure":
                continue
            disclosures[event.event_id] = DisclosureView(
                id=event.event_id,
                author=member.member_id,
                kind="risk" if is_risk_report(payload) else payload.kind,
                summary=payload.summary,
                details=payload.details,
                slip=payload.slip,
                occurred_at=event.body.occurred_at,
                recorded_at=event.body.recorded_at,
                written_kind=payload.kind,
                breaks_sobriety=breaks_sobriety(payload),
            )
            if (
                payload.kind in SLIP_KINDS
                and payload.slip is not None
                and payload.slip.circle == "outer"
            ):
                violations.append(
                    PracticeViolation(
                        event.event_id,
                        ViolationCode.OUTER_CIRCLE_SLIP,
                        "names the outer circle (healthy behaviour), which is not a circle "
                        "for a slip; it is shown as written and changes no count",
                    )
                )
            if payload.slip is not None and payload.kind not in REPORT_KINDS:
                violations.append(
                    PracticeViolation(
                        event.event_id,
                        ViolationCode.SLIP_REPORT_ON_OTHER_KIND,
                        f"a slip report is attached to a disclosure of kind {payload.kind}; "
                        "it is shown as written",
                    )
                )
        elif isinstance(payload, DisclosureAcknowledged):
            disclosure = disclosures.get(EventId(payload.disclosure))
            if disclosure is None:
                violations.append(
                    PracticeViolation(
                        event.event_id,
                        ViolationCode.UNKNOWN_DISCLOSURE,
                        "marks a disclosure this log does not hold; not applied",
                    )
                )
            elif disclosure.author == member.member_id:
                violations.append(
                    PracticeViolation(
                        event.event_id,
                        ViolationCode.ACKNOWLEDGE_OWN_DISCLOSURE,
                        "a disclosure is marked seen by the partner, not by the person "
                        "who shared it; not applied",
                    )
                )
            else:
                disclosure.acknowledgements.append(
                    Acknowledgement(
                        member=member.member_id,
                        event_id=event.event_id,
                        at=event.body.recorded_at,
                        response=payload.response,
                        mark=payload.mark,
                    )
                )
    return list(disclosures.values()), violations


# --- safety signals --------------------------------------------------------------


@dataclass
class SignalView:
    id: EventId
    sender: MemberId
    level: str
    until: int | None
    """When a time-out (``pause``) returns (ms since the epoch): as written, else
    ``sent_at`` + 20 minutes, never more than 24 hours after ``sent_at``. Always None
    for ``stop``, which owes no return."""
    note: str | None
    sent_at: int
    """The signal's ``recorded_at``."""
    cleared_at: int | None = None
    """The clearing event's ``recorded_at``."""
    cleared_by_event: EventId | None = None
    preset: str | None = None
    """A preset note's key (:data:`schemas.practices.SIGNAL_PRESETS`)."""

    @property
    def active(self) -> bool:
        """Not cleared. A signal stays active past its return time until its sender
        clears it: the time is a plan to talk again, not an automatic end."""
        return self.cleared_by_event is None

    @property
    def preset_text(self) -> str | None:
        return SIGNAL_PRESETS.get(self.preset) if self.preset else None

    def return_due_for(self, member: MemberId | None, now_ms: int) -> bool:
        """Whether ``member`` should be reminded that this time-out's return is due.

        Only the sender is ever reminded, and only while the signal is active: the
        return is theirs to make (even just to ask for more time); the partner is
        never told that it is "late"."""
        return (
            member == self.sender
            and self.active
            and self.until is not None
            and now_ms >= self.until
        )


def _return_time(payload: SignalSent, sent_at: int) -> int | None:
    """A time-out's return: as written, by default 20 minutes, at most 24 hours."""
    if payload.level == "stop":
        return None
    if payload.level != "pause":
        return payload.until
    latest = sent_at + TIMEOUT_MAX_MIN * _MINUTE_MS
    if payload.until is None:
        return sent_at + TIMEOUT_DEFAULT_MIN * _MINUTE_MS
    return min(payload.until, latest)


def fold_signals(
    ordered: Iterable[VerifiedEvent], membership: Membership
) -> tuple[list[SignalView], list[PracticeViolation]]:
    """Signals in causal order, with when and by which event each was cleared.

    A time-out (``pause``) has a return time (:func:`_return_time`); a ``stop`` has
    none, whatever its ``until`` says: a stop owes no return.

    Only the member who sent a signal clears it, from any of their devices. A clear by
    the other member is not applied and is reported (``clear_by_other_member``), as is
    a clear of an event that is not a signal folded earlier (``unknown_signal``).
    Clearing a signal that is already cleared changes nothing and is not a violation:
    the first clear stands (a retry from another device is harmless).
    """
    signals: dict[EventId, SignalView] = {}
    violations: list[PracticeViolation] = []
    for event, member in authored(ordered, membership):
        payload = event.payload
        if isinstance(payload, SignalSent):
            signals[event.event_id] = SignalView(
                id=event.event_id,
                sender=member.member_id,
                level=payload.level,
                until=_return_time(payload, event.body.recorded_at),
                note=payload.note,
                sent_at=event.body.recorded_at,
                preset=payload.preset,
            )
        elif isinstance(payload, SignalCleared):
            signal = signals.get(EventId(payload.signal))
            if signal is None:
                violations.append(
                    PracticeViolation(
                        event.event_id,
                        ViolationCode.UNKNOWN_SIGNAL,
                        "clears a signal this log does not hold; not applied",
                    )
                )
            elif signal.sender != member.member_id:
                violations.append(
                    PracticeViolation(
                        event.event_id,
                        ViolationCode.CLEAR_BY_OTHER_MEMBER,
                        "a signal is cleared by the person who sent it; not applied",
                    )
                )
            elif signal.cleared_by_event is None:
                signal.cleared_at = event.body.recorded_at
                signal.cleared_by_event = event.event_id
    return list(signals.values()), violations


def active_signals(signals: Iterable[SignalView]) -> list[SignalView]:
    """The signals not yet cleared, in the order given."""
    return [s for s in signals if s.active]
