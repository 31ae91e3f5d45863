"""The agreement rules as data: which transition, by whom, on a version in which state,
has which effect or is which violation (the table in :mod:`client.views.agreements`'s
docstring, docs/PROTOCOL.md §10.3). The fold applies it; :func:`transition_refusal`
reads the same table before a device writes, so the client never writes what a
partner's client would report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from client.views.agreements.model import (
    Agreement,
    AgreementsView,
    AgreementVersion,
    ViolationCode,
)
from schemas.ids import MemberId
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementReviewed,
    AgreementWithdrawn,
)

Action = Literal["accept", "decline", "withdraw", "review"]
_Who = Literal["proposer", "consented", "other"]
_State = Literal["proposed", "in_force", "declined", "withdrawn", "superseded"]
Effect = Literal["consent", "decline", "withdraw", "narrowed", "review"]

_STATES: tuple[_State, ...] = ("proposed", "in_force", "declined", "withdrawn", "superseded")
_ANYONE: tuple[_Who, ...] = ("proposer", "consented", "other")
_NOT_PROPOSER: tuple[_Who, ...] = ("consented", "other")

_V = ViolationCode
_ABP, _ACV, _DUP = _V.ACCEPT_BY_PROPOSER, _V.ACCEPT_OF_CLOSED_VERSION, _V.DUPLICATE_CONSENT
_DBP, _DCV = _V.DECLINE_BY_PROPOSER, _V.DECLINE_OF_CLOSED_VERSION
_WCV, _RIV = _V.WITHDRAW_OF_CLOSED_VERSION, _V.REVIEW_OF_INACTIVE_VERSION

# fmt: off
_TABLE: tuple[tuple[Action, tuple[_Who, ...], tuple[Effect | ViolationCode, ...]], ...] = (
    #                                  proposed    in_force    declined  withdrawn  superseded
    ("accept",   ("proposer",),       (_ABP,       _ABP,       _ABP,     _ABP,      _ABP)),
    ("accept",   ("other",),          ("consent",  _ACV,       _ACV,     _ACV,      _ACV)),
    ("accept",   ("consented",),      (_DUP,       _DUP,       _ACV,     _ACV,      _ACV)),
    ("decline",  ("proposer",),       (_DBP,       _DBP,       _DBP,     _DBP,      _DBP)),
    ("decline",  _NOT_PROPOSER,       ("decline",  _DCV,       _DCV,     _DCV,      _DCV)),
    ("withdraw", _ANYONE,             ("withdraw", "withdraw", _WCV,     _WCV,      "narrowed")),
    ("review",   _ANYONE,             (_RIV,       "review",   _RIV,     _RIV,      _RIV)),
)
# fmt: on

_RULES: Mapping[tuple[Action, _Who], Mapping[_State, Effect | ViolationCode]] = {
    (action, who): dict(zip(_STATES, effects, strict=True))
    for action, whos, effects in _TABLE
    for who in whos
}
"""(transition, who) -> state of the version -> effect or violation (package docstring)."""

Transition = AgreementAccepted | AgreementDeclined | AgreementWithdrawn | AgreementReviewed
ACTIONS: Mapping[type[Transition], Action] = {
    AgreementAccepted: "accept",
    AgreementDeclined: "decline",
    AgreementWithdrawn: "withdraw",
    AgreementReviewed: "review",
}


CONCURRENT_CODES = frozenset({_ACV, _DUP, _DCV, _WCV, _RIV})
"""Violations an honest device can write when it had not seen the event that caused
them: they become :class:`~client.views.agreements.model.WithoutEffect` notes instead
(package docstring, §10.5)."""


def narrows(
    revision: AgreementVersion, base: AgreementVersion, members: frozenset[MemberId]
) -> bool:
    """Whether ``revision`` only removes clauses of ``base``, in force (package docstring,
    "Narrowing"): then it is in force on its proposer's word."""
    return (
        base.status == "in_force"
        and (revision.kind, revision.title, revision.review_on, revision.expires_on)
        == (base.kind, base.title, base.review_on, base.expires_on)
        and revision.circles == base.circles
        and revision.window == base.window
        and set(_bound_clauses(revision, members)) < set(_bound_clauses(base, members))
    )


def _bound_clauses(
    version: AgreementVersion, members: frozenset[MemberId]
) -> list[tuple[str, frozenset[MemberId] | None]]:
    """Each clause with the members it binds, so "me" in one partner's revision and
    "you" in the other's compare equal (None: the version did not say)."""
    proposer = frozenset({version.proposer})
    whom = {"me": proposer, "you": members - proposer, "both": members}
    return [
        (clause, whom.get(version.binds[i]) if i < len(version.binds) else None)
        for i, clause in enumerate(version.clauses)
    ]


def effect_of(
    version: AgreementVersion, member: MemberId, action: Action
) -> Effect | ViolationCode:
    """The table's entry for ``member`` doing ``action`` on ``version`` as it stands."""
    who: _Who = (
        "proposer"
        if member == version.proposer
        else "consented"
        if any(c.member == member for c in version.accepted_by)
        else "other"
    )
    # "expired" is only a way of showing a version in force (package docstring).
    state: _State = "in_force" if version.status == "expired" else version.status
    return _RULES[(action, who)][state]


def transition_refusal(
    view: AgreementsView, member: MemberId, transition: Transition
) -> ViolationCode | None:
    """What the fold would report if ``member`` wrote ``transition`` now, having seen
    everything in ``view``: None when it would take effect. The same table as the fold,
    so the client refuses to write exactly what a partner's client would report
    (client/views/write_rules.py)."""
    found: tuple[Agreement, AgreementVersion] | None = None
    for agreement in view.agreements:
        for version in agreement.versions:
            if version.id == transition.version:
                found = (agreement, version)
    if found is None:
        return _V.UNKNOWN_VERSION
    agreement, version = found
    effect = effect_of(version, member, ACTIONS[type(transition)])
    if effect == "narrowed":
        current = agreement.current
        step = (
            current if current is not None and current.status in ("in_force", "expired") else None
        )
        by_id = {v.id: v for v in agreement.versions}
        while step is not None and step.narrowing and step.revises is not None:
            step = by_id.get(step.revises)
            if step is version:
                return None
        return _V.WITHDRAW_OF_CLOSED_VERSION
    return effect if isinstance(effect, ViolationCode) else None
