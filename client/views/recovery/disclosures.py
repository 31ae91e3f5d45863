"""Disclosures with the partner's marks on them ("seen", "I need time"), and how a slip
report is shown (docs/PROTOCOL.md §10.4). Part of :mod:`client.views.recovery` (import
from there)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from client.core.verify import Member, Membership, VerifiedEvent
from client.views.recovery.profiles import Profile
from client.views.recovery.records import authored
from client.views.recovery.sobriety import SLIP_KINDS, breaks_sobriety, is_risk_report
from client.views.recovery.violations import PracticeViolation, ViolationCode
from schemas.ids import EventId, MemberId
from schemas.practices import DisclosureAcknowledged, DisclosureMade, SlipReport

REPORT_KINDS = frozenset({*SLIP_KINDS, "risk"})
"""Disclosure kinds a slip report (circle, HALT, triggers...) belongs to."""


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
      :func:`~client.views.recovery.records.fold_milestones`, with no words. Its text
      stays in the history.

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
            disclosures[event.event_id] = _disclosure_view(event, member, payload)
            violations.extend(_slip_report_problems(event, payload))
        elif isinstance(payload, DisclosureAcknowledged):
            problem = _mark(disclosures, event, member, payload)
            if problem is not None:
                violations.append(problem)
    return list(disclosures.values()), violations


def _disclosure_view(
    event: VerifiedEvent, member: Member, payload: DisclosureMade
) -> DisclosureView:
    return DisclosureView(
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


def _slip_report_problems(event: VerifiedEvent, payload: DisclosureMade) -> list[PracticeViolation]:
    """A slip report shown as written but flagged: one naming the outer circle, or one
    attached to a kind of disclosure that is not a report."""
    problems: list[PracticeViolation] = []
    if payload.kind in SLIP_KINDS and payload.slip is not None and payload.slip.circle == "outer":
        problems.append(
            PracticeViolation(
                event.event_id,
                ViolationCode.OUTER_CIRCLE_SLIP,
                "names the outer circle (healthy behaviour), which is not a circle "
                "for a slip; it is shown as written and changes no count",
            )
        )
    if payload.slip is not None and payload.kind not in REPORT_KINDS:
        problems.append(
            PracticeViolation(
                event.event_id,
                ViolationCode.SLIP_REPORT_ON_OTHER_KIND,
                f"a slip report is attached to a disclosure of kind {payload.kind}; "
                "it is shown as written",
            )
        )
    return problems


def _mark(
    disclosures: dict[EventId, DisclosureView],
    event: VerifiedEvent,
    member: Member,
    payload: DisclosureAcknowledged,
) -> PracticeViolation | None:
    """Apply a "seen" or "I need time" mark, or say why it is not applied."""
    disclosure = disclosures.get(EventId(payload.disclosure))
    if disclosure is None:
        return PracticeViolation(
            event.event_id,
            ViolationCode.UNKNOWN_DISCLOSURE,
            "marks a disclosure this log does not hold; not applied",
        )
    if disclosure.author == member.member_id:
        return PracticeViolation(
            event.event_id,
            ViolationCode.ACKNOWLEDGE_OWN_DISCLOSURE,
            "a disclosure is marked seen by the partner, not by the person "
            "who shared it; not applied",
        )
    disclosure.acknowledgements.append(
        Acknowledgement(
            member=member.member_id,
            event_id=event.event_id,
            at=event.body.recorded_at,
            response=payload.response,
            mark=payload.mark,
        )
    )
    return None
