"""Agreements as a view, sans-I/O (docs/PROTOCOL.md §10.3).

Theory of operation. An agreement is a chain of *versions*. Each version is an
``agreement_proposed`` event; its event id names it. A proposal without ``revises``
starts an agreement (the agreement's id is that event id, the version's number is 1); a
proposal that revises version V joins V's agreement with number V.number + 1. Several
proposals may revise the same version (partners writing at the same time); they all stay
visible until one of them comes into force.

:func:`fold_agreements` walks accepted events once, in the causal order of
:func:`client.views.fold.causal_order` (never arrival order), keeping only events written by a
member device and attributing each to its member. A version moves between five states::

    proposed --(every member but the proposer accepted)-------> in_force
    proposed --(decline by another member)--------------------> declined
    proposed --(withdrawal by any member)---------------------> withdrawn
    proposed --(another version of the agreement in force)----> superseded
    in_force --(withdrawal by any member: effective at once)--> withdrawn
    in_force --(another version of the agreement in force)----> superseded

``declined``, ``withdrawn`` and ``superseded`` are closed: nothing moves a closed version
again (a new proposal that revises it is the way forward). ``expired`` is not a state
of the fold: it is how an ``in_force`` version whose ``expires_on`` is before ``today``
is *shown*, flagged rather than silently kept. Which transitions are legal never
depends on ``today``, so a violation found today is found on every later day too.

Every transition event against a known version, legal or not, is looked up in
:data:`_TABLE` by (transition, who, state of the version). "Who" is ``proposer`` (the
member who proposed the version, from any of their devices), ``consented`` (another
member who has already accepted it) or ``other``. The table, as data::

    transition  who          proposed   in_force   declined   withdrawn   superseded
    ----------  -----------  ---------  ---------  ---------  ----------  ----------
    accept      proposer     !ABP       !ABP       !ABP       !ABP        !ABP
    accept      other        consent    !ACV       !ACV       !ACV        !ACV
    accept      consented    !DUP       !DUP       !ACV       !ACV        !ACV
    decline     proposer     !DBP       !DBP       !DBP       !DBP        !DBP
    decline     not proposer decline    !DCV       !DCV       !DCV        !DCV
    withdraw    anyone       withdraw   withdraw   !WCV       !WCV        narrowed*
    review      anyone       !RIV       review     !RIV       !RIV        !RIV

    !ABP accept_by_proposer           !ACV accept_of_closed_version (this covers an
    !DUP duplicate_consent                 accept after a withdrawal without a new
    !DBP decline_by_proposer               proposal)
    !DCV decline_of_closed_version    !WCV withdraw_of_closed_version
    !RIV review_of_inactive_version

An entry starting with ``!`` is a :class:`Violation`: the event stays in the log and in
the agreement's ``event_ids``, and changes nothing. A transition naming a version that
is not an earlier proposal is ``unknown_version``. The effects:

* **consent** records the acceptance; the version comes into force once every member of
  the space other than its proposer has accepted it. While the proposer is the only
  member (the partner has not joined), nothing comes into force by acceptance.
* **decline** closes the version as ``declined``; **withdraw** closes it as
  ``withdrawn`` whoever withdraws and whatever it was, proposal or in force: consent is
  withdrawn unilaterally, at once, with no reason needed.
* **review** records a review (keep or revise, an optional next review date).
* ``narrowed*`` applies to a superseded version whose agreement has a version in force
  that descends from it through narrowings only (below). That version's consent was
  inherited from the withdrawn one, so the withdrawal ends it; otherwise
  ``withdraw_of_closed_version``. This makes a withdrawal concurrent with a narrowing
  take effect whichever of the two comes first in the order.

**Narrowing.** A revision *narrows* version V when, as it is folded, V is in force, the
revision has the same kind, title, review date, expiry, circles and window as V, and
its set of clauses, each with the members it binds (``binds``: me/you/both from each
proposer's side), is a strict subset of V's. Narrowing what is shared can be done by
one partner: such a revision is in force at once on its proposer's word. Anything else
is *widening* and needs acceptance like a new agreement.

**Coming into force.** When a version comes into force, the version of its agreement
that was in force (if any) and every other version still ``proposed`` become
``superseded``.

**The recovery plan** (``kind == "recovery_plan"``) is not a mutual agreement: it
belongs to the partner who wrote its first version, its *owner* (in SAA each member
defines their own abstinence, with a sponsor). Every version the owner writes is in
force at once on their word and supersedes the one before; the owner may retire it
(a withdrawal) and review it. The other partner reads it: their acceptance is kept as
having read it, and their decline, withdrawal, review or revision is not applied and is
reported ``plan_belongs_to_its_writer``, so the plan can never be vetoed or voided by
the partner. What is mutual (what is told, and when) is an ordinary agreement. A
history written when plans needed the partner's yes folds by this rule too.

**Proposals.** Revising an unknown version is ``unknown_version``; revising a version of
another kind (say a recovery plan revising an agreement) is ``revises_other_kind``. Both
are ignored.

**The agreement.** Its ``current`` version is the one in force (or expired) if any,
otherwise its latest version in causal order; its title and status are those of
``current``. So a withdrawn agreement reads ``withdrawn``, a declined one ``declined``,
and open concurrent proposals read ``proposed``.

**Review dates.** For the version in force, the review is due from a date that starts
as its ``review_on`` and follows its reviews in order: a review with a
``next_review_on`` moves the date there; a ``revise`` review without one makes it due
from the review's own (UTC) date, until a new version is in force; a ``keep`` review
without one, made on or after the due date, clears it (an early ``keep`` leaves it).
``review_due`` is true when that date is on or before ``today``.

Convergence: the fold depends only on the order it is given, which depends only on the
set of events. Two concurrent accepts, or an accept concurrent with a withdrawal,
resolve the same way on both partners' devices.

The package, by job: :mod:`~client.views.agreements.model` holds what the fold produces
(versions, agreements, violation codes and their words), :mod:`~client.views.agreements.rules`
the table above as data and the checks that read it (also used before writing, by
:func:`transition_refusal`), and :mod:`~client.views.agreements.fold` the walk itself.
"""

from client.views.agreements.fold import fold_agreements
from client.views.agreements.model import (
    MIN_PREFIX_CHARS,
    Agreement,
    AgreementsView,
    AgreementVersion,
    Consent,
    Review,
    VersionStatus,
    Violation,
    ViolationCode,
    WithoutEffect,
)
from client.views.agreements.rules import transition_refusal

__all__ = [
    "MIN_PREFIX_CHARS",
    "Agreement",
    "AgreementVersion",
    "AgreementsView",
    "Consent",
    "Review",
    "VersionStatus",
    "Violation",
    "ViolationCode",
    "WithoutEffect",
    "fold_agreements",
    "transition_refusal",
]
