"""``trellis verify``: check the whole local log again from nothing (sans-I/O).

Every stored envelope is admitted afresh into an empty verifier with every check on
(signatures included), in the order the device stored them, which is an order where
causes come first. Then the practice rules run over the result: an agreement accepted
by its proposer, or accepted after consent was withdrawn, is a violation even though
each event is genuine. Nothing here changes the log; it only reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from client.core.admission_checks import InvalidPayload
from client.core.integrity import Finding, FindingCode, Severity
from client.core.verify import LogVerifier, Verdict, VerifiedEvent
from client.views import Moment, Views, build_views
from client.views.fold import causal_order
from schemas.ids import SpaceId


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    event_id: bytes | None
    not_applied: bool = False
    """A genuine event kept in the history whose effect a practice rule did not apply
    (shown as "not applied", never as a "violation")."""


@dataclass
class AuditReport:
    events: int
    problems: list[Problem]
    findings: list[Finding] = field(default_factory=list)
    """Integrity findings that stand (docs/PROTOCOL.md §9.6): the relay's conduct."""

    @property
    def clean(self) -> bool:
        return not self.problems and not self.findings


def audit_log(
    space_id: SpaceId,
    epoch_keys: Mapping[int, bytes],
    stored: Iterable[bytes],
    refused: Iterable[tuple[bytes | None, str, str]],
    moment: Moment,
    findings: Sequence[Finding] = (),
) -> AuditReport:
    verifier = LogVerifier(space_id, epoch_keys)
    accepted: list[VerifiedEvent] = []
    problems: list[Problem] = []
    for data in stored:
        outcome = verifier.admit(data)
        if outcome.verdict is Verdict.ACCEPTED and outcome.event is not None:
            accepted.append(outcome.event)
        elif outcome.verdict is not Verdict.DUPLICATE:
            problems.append(
                Problem(
                    str(outcome.code or "stored_event_not_admissible"),
                    f"a stored event no longer checks out: {outcome.reason or outcome.waiting_for}",
                    outcome.event_id,
                )
            )
    for event_id, code, reason in refused:
        problems.append(
            Problem(code, f"the relay delivered an event that was refused: {reason}", event_id)
        )
    views = build_views(causal_order(accepted), verifier.membership, moment)
    problems.extend(practice_problems(views))
    for event in accepted:
        if isinstance(event.payload, InvalidPayload):
            problems.append(
                Problem(
                    "invalid_event",
                    f"set aside, its content is not shown: {event.payload.reason}",
                    event.event_id,
                )
            )
    return AuditReport(events=len(accepted), problems=problems, findings=list(findings))


def violation_findings(problems: Iterable[Problem]) -> list[Finding]:
    """Rule-breaking events as findings, one per code, so ``trellis status`` shows what
    makes ``trellis verify`` fail (docs/PROTOCOL.md §10.6)."""
    grouped: dict[str, list[Problem]] = {}
    for problem in problems:
        grouped.setdefault(problem.code, []).append(problem)
    return [
        Finding(
            FindingCode.INVALID_EVENT,
            Severity.PROOF,
            f"{'One event' if len(items) == 1 else f'{len(items)} events'} written against "
            f"the space's rules ({code}: {items[0].message}). Kept in the history, with no "
            "effect. An honest app does not write this; 'trellis verify' lists each one.",
            tuple(p.event_id.hex() for p in items if p.event_id is not None),
        )
        for code, items in sorted(grouped.items())
    ]


def practice_problems(views: Views) -> list[Problem]:
    return [Problem(v.code, v.message, v.event_id, not_applied=True) for v in views.violations]
