"""The pacing plan as a view, sans-I/O (docs/PROTOCOL.md §5.11).

Theory of operation. Like every fold, this one reads accepted events in the
deterministic causal order of :func:`client.views.fold.causal_order`, so two partners
holding the same events compute the same plan, stage and history. The rules are those
of consent, as for agreements: widening needs both, narrowing needs one.

* A plan version is in use once both partners have accepted it (proposing counts as
  the proposer's acceptance). The newest version to come into use replaces the plan;
  the stage carries over, capped at the new plan's last stage. Coming into use
  replaces every other version too: one proposed earlier that is not in use can no
  longer come into use, so one partner cannot bring back an old proposal the other has
  moved on from (``pacing_plan_not_applied`` when the acceptor had seen the
  replacement; an acceptance written concurrently just has no effect).
* Moving forward needs both: one partner offers (``pacing_forward_proposed``, from the
  current stage of the plan in use), the other accepts within 48 hours. Silence is not
  a yes: an offer not accepted in 48 hours lapses (by the offering device's own clock
  too, when the acceptor had seen a later event of it). After a "not now" the same
  partner's offers within a week of it are ``offer_cooling_down``, never open.
* Stepping back needs one: ``pacing_stepped_back`` takes effect at once, for whichever
  partner wrote it, with no reason asked.
* A step back closes every offer still open: an offer written before it can never be
  accepted after it, even when the stage is later back where the offer started. Moving
  on again takes a fresh offer, so a pause is never outlived by an older "yes".
* A step back and a move forward at the same time resolve to the step back. Precisely:
  an acceptance moves the plan forward only if every step back folded before it is in
  its causal past (its author had seen it). A step back concurrent with an acceptance
  is therefore never undone by it: if the step back comes first in the order, the
  acceptance is not applied; if it comes after, it lowers the stage as always. Either
  way both partners end at the lower stage.

Nothing here counts a step back against anyone: the history lists it as a move like
any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from client.core.verify import Membership, VerifiedEvent
from client.views.intimacy.causal_past import CausalPast
from client.views.recovery.records import authored
from client.views.recovery.violations import PracticeViolation
from schemas.ids import EventId, MemberId
from schemas.intimacy import (
    PACING_OFFER_TTL_MS,
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingStage,
    PacingSteppedBack,
)

PACING_REOFFER_AFTER_DECLINE_MS = 7 * 24 * 3600 * 1000
"""After a "not now", the same partner waits a week before offering again: the CLI
refuses sooner offers (a step back is never limited)."""

MoveKind = Literal["plan_in_use", "offered", "forward", "declined", "back"]


@dataclass(frozen=True, slots=True)
class PacingMove:
    """One line of the plan's history: what happened, who did it, when."""

    kind: MoveKind
    member: MemberId
    at: int
    """The event's ``recorded_at``."""
    event_id: EventId
    stage: int | None
    """The stage after this move (None while no plan is in use)."""


@dataclass
class PlanVersion:
    id: EventId
    proposer: MemberId
    stages: list[PacingStage]
    revises: EventId | None
    recorded_at: int
    accepted_by: set[MemberId] = field(default_factory=set)
    superseded: bool = False
    """Another version came into use after it in the order: it never comes into use
    (again), whoever accepts it later (THREAT_MODEL §23.4)."""
    superseded_by: EventId | None = None
    """The event that brought that other version into use."""


@dataclass
class ForwardOffer:
    id: EventId
    member: MemberId
    event: VerifiedEvent
    """The offer itself: its device's later events, which the acceptor had seen, tell
    by the offerer's clock whether 48 hours had passed (THREAT_MODEL §23.6)."""
    version: EventId
    from_stage: int
    at: int
    state: Literal["open", "accepted", "declined", "stepped_back"] = "open"
    """``stepped_back``: a step back came after it in the order and closed it; a "yes"
    to it after that is not applied (THREAT_MODEL §23.2)."""
    closed_by: VerifiedEvent | None = None
    """The step back that closed it."""
    changes_before: int = 0
    """How many moves of the plan or its stage came before it in the fold: the next one
    is what made it void, if one did."""


@dataclass
class PacingView:
    plan: PlanVersion | None = None
    """The version in use."""
    stage: int | None = None
    versions: dict[EventId, PlanVersion] = field(default_factory=dict)
    offers: list[ForwardOffer] = field(default_factory=list)
    history: list[PacingMove] = field(default_factory=list)
    violations: list[PracticeViolation] = field(default_factory=list)
    without_effect: set[EventId] = field(default_factory=set)
    """Honest events that changed nothing: written without having seen what made them
    void (an acceptance concurrent with a step back or with another move), §10.5."""

    def pending_versions(self) -> list[PlanVersion]:
        """Versions that may still come into use: proposed after the one in use came
        into use, in the order of the fold (never by comparing the two partners'
        clocks, which may differ)."""
        return [
            v
            for v in self.versions.values()
            if not v.superseded and (self.plan is None or v.id != self.plan.id)
        ]

    def open_offers(self, now_ms: int) -> list[ForwardOffer]:
        """Offers that still apply: from the current stage of the plan in use, not
        answered, and less than 48 hours old."""
        if self.plan is None:
            return []
        return [
            o
            for o in self.offers
            if o.state == "open"
            and o.version == self.plan.id
            and o.from_stage == self.stage
            and now_ms - o.at < PACING_OFFER_TTL_MS
        ]

    def next_offer_at(self, member: MemberId) -> int | None:
        """When ``member`` may offer to move forward again after the partner declined
        (7 days later; docs/PROTOCOL.md §5.11), or None if nothing holds them back."""
        declined = [m.at for m in self.history if m.kind == "declined" and m.member != member]
        return max(declined) + PACING_REOFFER_AFTER_DECLINE_MS if declined else None

    @property
    def step_backs(self) -> int:
        return sum(1 for m in self.history if m.kind == "back")


def fold_pacing(ordered: Iterable[VerifiedEvent], membership: Membership) -> PacingView:
    """The plan in use, its current stage, open offers and the history of every move."""
    events = list(ordered)
    fold = _PacingFold(CausalPast(events), members=len(membership.members), events=events)
    for event, member in authored(events, membership):
        p = event.payload
        who = member.member_id
        if isinstance(p, PacingPlanProposed | PacingPlanAccepted):
            fold.plan(event, who, p)
        elif isinstance(p, PacingForwardProposed):
            fold.offer(event, who, p)
        elif isinstance(p, PacingForwardAccepted | PacingForwardDeclined):
            fold.answer(event, who, p)
        elif isinstance(p, PacingSteppedBack):
            fold.step_back(event, who, p)
    return fold.view


class _PacingFold:
    """The plan while folding: the view being built, the offers by id, the step backs
    seen so far (an acceptance must have seen each one to move forward)."""

    def __init__(self, past: CausalPast, members: int, events: list[VerifiedEvent]) -> None:
        self.view = PacingView()
        self.past = past
        self.events = {e.event_id: e for e in events}
        self.members = members
        self.offers: dict[EventId, ForwardOffer] = {}
        self.step_backs: list[VerifiedEvent] = []
        self.declines: list[tuple[VerifiedEvent, MemberId]] = []
        """Each "not now", with whose offer it answered."""
        self.changes: list[VerifiedEvent] = []
        """Every event that changed the plan in use or its stage, in the fold's order."""

    def flag(self, event: VerifiedEvent, code: str, message: str) -> None:
        self.view.violations.append(PracticeViolation(event.event_id, code, message))

    def move(self, kind: MoveKind, member: MemberId, event: VerifiedEvent) -> None:
        self.view.history.append(
            PacingMove(kind, member, event.body.recorded_at, event.event_id, self.view.stage)
        )

    def plan(
        self, event: VerifiedEvent, who: MemberId, p: PacingPlanProposed | PacingPlanAccepted
    ) -> None:
        """A plan version proposed (the proposer's acceptance) or accepted."""
        if isinstance(p, PacingPlanProposed):
            version = PlanVersion(
                event.event_id,
                who,
                list(p.stages),
                None if p.revises is None else EventId(p.revises),
                event.body.recorded_at,
                {who},
            )
            self.view.versions[event.event_id] = version
        else:
            found = self.view.versions.get(EventId(p.version))
            if found is None:
                self.flag(event, "unknown_pacing_plan", "accepts a pacing plan that is not here")
                return
            if who in found.accepted_by:
                return
            if found.superseded:
                # No effect either way; a violation only when its author had seen the
                # version that replaced it come into use (honest concurrency is never
                # a violation, PROTOCOL §10.5).
                cause = self.events.get(found.superseded_by) if found.superseded_by else None
                if cause is None or self.past.saw(event, cause):
                    self.flag(
                        event,
                        "pacing_plan_not_applied",
                        "accepts a plan version that another version replaced",
                    )
                else:
                    self.view.without_effect.add(event.event_id)
                return
            version = found
            version.accepted_by.add(who)
        if len(version.accepted_by) < max(2, self.members):
            return
        view = self.view
        # Every other version, older plans and proposals still open, is replaced: a yes
        # given to one of them before this plan came into use no longer counts.
        for other in view.versions.values():
            if other is not version and not other.superseded:
                other.superseded = True
                other.superseded_by = event.event_id
        view.plan = version
        last = len(version.stages) - 1
        view.stage = 0 if view.stage is None else min(view.stage, last)
        self.changes.append(event)
        self.move("plan_in_use", who, event)

    def offer(self, event: VerifiedEvent, who: MemberId, p: PacingForwardProposed) -> None:
        plan = self.view.plan
        if plan is None or p.version != plan.id or p.from_stage != self.view.stage:
            self.flag(event, "stale_pacing_offer", "offers to move on from a stage not current")
            return
        if p.from_stage + 1 >= len(plan.stages):
            self.flag(event, "no_next_stage", "offers to move past the plan's last stage")
            return
        # After a "not now", the same partner waits a week: the CLI and the app refuse
        # sooner, and an offer a modified app writes anyway after seeing the "not now"
        # is never open, so asking again and again cannot become pressure (§23.7).
        if any(
            offerer == who
            and self.past.saw(event, declined)
            and event.body.recorded_at - declined.body.recorded_at < PACING_REOFFER_AFTER_DECLINE_MS
            for declined, offerer in self.declines
        ):
            self.flag(event, "offer_cooling_down", "offers again within a week of a 'not now'")
            return
        new = ForwardOffer(
            event.event_id,
            who,
            event,
            plan.id,
            p.from_stage,
            event.body.recorded_at,
            changes_before=len(self.changes),
        )
        self.offers[event.event_id] = new
        self.view.offers.append(new)
        self.move("offered", who, event)

    def answer(
        self,
        event: VerifiedEvent,
        who: MemberId,
        p: PacingForwardAccepted | PacingForwardDeclined,
    ) -> None:
        offer = self.offers.get(EventId(p.offer))
        if offer is None:
            self.flag(event, "unknown_pacing_offer", "answers an offer that is not here")
            return
        if offer.member == who:
            self.flag(event, "answer_own_pacing_offer", "answers the author's own offer")
            return
        if offer.state == "stepped_back" and isinstance(p, PacingForwardAccepted):
            self._not_applied(event, offer.closed_by)
            return
        if offer.state != "open":
            return
        if isinstance(p, PacingForwardDeclined):
            offer.state = "declined"
            self.declines.append((event, offer.member))
            self.move("declined", who, event)
            return
        outcome = _forward_applies(self.view, offer, event, self.step_backs, self.past)
        if outcome == "lapsed":
            self._not_applied(event, None)
            return
        if outcome == "moved_on":
            later = self.changes[offer.changes_before :]
            self._not_applied(event, later[0] if later else None)
            return
        if outcome == "unseen_step_back":
            self.view.without_effect.add(event.event_id)
            return
        offer.state = "accepted"
        self.view.stage = offer.from_stage + 1
        self.changes.append(event)
        self.move("forward", who, event)

    def _not_applied(self, accept: VerifiedEvent, cause: VerifiedEvent | None) -> None:
        """An acceptance that does not move the plan: without effect when its author had
        not seen ``cause`` (honest concurrency, PROTOCOL §10.5), else a violation. A
        lapse (``cause`` None) is judged by times its author had: always a violation."""
        if cause is not None and not self.past.saw(accept, cause):
            self.view.without_effect.add(accept.event_id)
            return
        self.flag(
            accept,
            "pacing_forward_not_applied",
            "a move forward that a step back, a lapse or a newer plan overtook",
        )

    def step_back(self, event: VerifiedEvent, who: MemberId, p: PacingSteppedBack) -> None:
        view = self.view
        if view.plan is None or view.stage is None:
            self.flag(event, "no_pacing_plan", "steps back before a plan is in use")
            return
        self.step_backs.append(event)
        # A step back withdraws every "yes" still open: an offer made before it can
        # never be accepted after it, even once the stage is back where it was
        # (THREAT_MODEL §23.2). Moving on again takes a fresh offer.
        for offer in self.offers.values():
            if offer.state == "open":
                offer.state = "stepped_back"
                offer.closed_by = event
        # Never upward: a step back written from an older view still only lowers.
        view.stage = min(view.stage, p.to_stage, len(view.plan.stages) - 1)
        self.changes.append(event)
        self.move("back", who, event)


ForwardOutcome = Literal["applies", "lapsed", "moved_on", "unseen_step_back"]


def _forward_applies(
    view: PacingView,
    offer: ForwardOffer,
    accept: VerifiedEvent,
    step_backs: list[VerifiedEvent],
    past: CausalPast,
) -> ForwardOutcome:
    """Whether an acceptance of an open offer moves the plan on, and if not, why:
    another move came first (``moved_on``: a newer plan, or the stage moved), the offer
    lapsed, or a step back its author had not seen wins (module docstring)."""
    plan = view.plan
    if plan is None or plan.id != offer.version or view.stage != offer.from_stage:
        return "moved_on"
    if accept.body.recorded_at - offer.at >= PACING_OFFER_TTL_MS:
        return "lapsed"
    # Times are their writers' own: an acceptance dated back into the 48 hours does not
    # revive an offer that had lapsed by the offerer's own clock, on an event of the
    # offering device that the acceptor had already seen (THREAT_MODEL §23.6).
    offerer_now = past.latest_seen_after(accept, offer.event)
    if offerer_now is not None and offerer_now - offer.at >= PACING_OFFER_TTL_MS:
        return "lapsed"
    if all(past.saw(accept, back) for back in step_backs):
        return "applies"
    return "unseen_step_back"
