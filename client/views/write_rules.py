"""What a partner may write, checked before anything is signed (docs/PROTOCOL.md §10.6).

Every rule a receiving client reports as a violation (client/views/agreements/,
client/views/recovery/, client/views/journal_rules.py) is first a rule this client refuses to
break: the person gets a plain sentence and nothing is written. So an honest client
never produces a violation; one that arrives was written by a modified client, or
concurrently by a device that had not yet seen what made it void (client/views/causality.py),
which is shown as having had no effect.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from client.core.verify import Membership, VerifiedEvent
from client.errors import TrellisError
from client.views.agreements import ViolationCode, fold_agreements, transition_refusal
from client.views.fold import fold_journal
from client.views.recovery import fold_signals
from schemas.ids import EventId, MemberId
from schemas.payloads import JournalAmended, JournalRetracted, Payload
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
    DisclosureAcknowledged,
    DisclosureMade,
    SignalCleared,
)

_RULED = (
    JournalAmended,
    JournalRetracted,
    AgreementAccepted,
    AgreementDeclined,
    AgreementWithdrawn,
    AgreementReviewed,
    AgreementProposed,
    DisclosureAcknowledged,
    SignalCleared,
)

NOT_ALLOWED = "not_allowed"
"""The error code of every refusal here."""

_AGREEMENT_WORDS: dict[ViolationCode, str] = {
    ViolationCode.UNKNOWN_VERSION: "There is no agreement version with that id here.",
    ViolationCode.ACCEPT_BY_PROPOSER: "You proposed this version; it comes into force when "
    "your partner accepts it.",
    ViolationCode.DUPLICATE_CONSENT: "You have already accepted this version; nothing more "
    "is needed from you.",
    ViolationCode.ACCEPT_OF_CLOSED_VERSION: "This version is {status}, so it can no longer "
    "be accepted. To agree to it now, propose it again.",
    ViolationCode.DECLINE_BY_PROPOSER: "You proposed this version; to take it back, "
    "withdraw it instead.",
    ViolationCode.DECLINE_OF_CLOSED_VERSION: "This version is {status}; there is nothing "
    "to decline.",
    ViolationCode.WITHDRAW_OF_CLOSED_VERSION: "This version is already {status}; there is "
    "no consent to withdraw.",
    ViolationCode.REVIEW_OF_INACTIVE_VERSION: "This version is {status}, not in force; only "
    "a version in force is reviewed.",
}


def check_write(
    payload: Payload,
    me: MemberId | None,
    events: Callable[[], list[VerifiedEvent]],
    membership: Membership,
) -> None:
    """Raise :class:`TrellisError` (code ``not_allowed``) when ``payload``, written now by
    ``me`` after ``events()`` (this device's events in causal order; only read for the
    payloads that have a rule), would break a rule."""
    if me is None or not isinstance(payload, _RULED):
        return
    ordered = events()
    match payload:
        case JournalAmended() | JournalRetracted():
            _check_journal(payload, me, ordered, membership)
        case AgreementAccepted() | AgreementDeclined() | AgreementWithdrawn() | AgreementReviewed():
            view = fold_agreements(ordered, membership, datetime.date.max)
            code = transition_refusal(view, me, payload)
            if code is not None:
                status = next(
                    (
                        v.status
                        for a in view.agreements
                        for v in a.versions
                        if v.id == payload.version
                    ),
                    "closed",
                )
                _refuse(_AGREEMENT_WORDS[code].format(status=status.replace("_", " ")))
        case AgreementProposed() if payload.revises is not None:
            view = fold_agreements(ordered, membership, datetime.date.max)
            base = [v for a in view.agreements for v in a.versions if v.id == payload.revises]
            if not base:
                _refuse(_AGREEMENT_WORDS[ViolationCode.UNKNOWN_VERSION])
            elif base[0].kind != payload.kind:
                _refuse("A revision keeps the kind of the version it revises.")
        case DisclosureAcknowledged():
            made = _find(ordered, payload.disclosure)
            if made is None or not isinstance(made.payload, DisclosureMade):
                _refuse("There is no disclosure with that id here.")
            elif _member(membership, made) == me:
                _refuse(
                    "You shared this disclosure yourself; acknowledging it is for your partner."
                )
        case SignalCleared():
            signals, _ = fold_signals(ordered, membership)
            signal = next((s for s in signals if s.id == payload.signal), None)
            if signal is None:
                _refuse("There is no signal with that id here.")
            elif signal.sender != me:
                _refuse("A signal is cleared by the person who sent it.")
        case _:
            return


def _check_journal(
    payload: JournalAmended | JournalRetracted,
    me: MemberId,
    ordered: list[VerifiedEvent],
    membership: Membership,
) -> None:
    item = next((i for i in fold_journal(ordered, membership) if i.id == payload.entry), None)
    verb = "update" if isinstance(payload, JournalAmended) else "withdraw"
    if item is None:
        _refuse("There is no journal entry with that id here.")
    elif item.author != me:
        _refuse(
            f"That entry was written by your partner; only they can {verb} it. You can "
            "write your own entry in reply."
        )
    elif item.retracted:
        _refuse(f"That entry was withdrawn already; there is nothing to {verb}.")


def _find(ordered: list[VerifiedEvent], event_id: bytes) -> VerifiedEvent | None:
    return next((e for e in ordered if e.event_id == EventId(event_id)), None)


def _member(membership: Membership, event: VerifiedEvent) -> MemberId | None:
    member = membership.member_of(event.author)
    return None if member is None else member.member_id


def _refuse(message: str) -> None:
    raise TrellisError(message, code=NOT_ALLOWED)


def may_be_void(event: VerifiedEvent) -> bool:
    """Whether a rule here applies to the event, so that it may have had no effect."""
    return isinstance(event.payload, _RULED)
