"""Versioned agreements underneath ``agreement``, ``plan`` and ``windows``: finding a
version by id, and proposing, accepting, declining, withdrawing and reviewing one
(docs/PROTOCOL.md §10). The three command groups share these; what differs between
them (a plan is its writer's and needs no yes) is said where they are registered."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from client.cli.common import deliver, open_space, parse_review_date, read_optional, tell_delivery
from client.errors import ClientErrorCode, TrellisError
from client.space import Space
from client.views import practice_forms
from client.views.agreements import Agreement, AgreementVersion
from client.views.present import accepted_sentence, delivery_sentence
from schemas.ids import EventId
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementReviewed,
    AgreementWithdrawn,
)


class AddItem(argparse.Action):
    """``--clause TEXT``, ``--inner TEXT``...: adds an item; the options right after it
    (``--binds``, ``--definition``, ``--type``, ``--reviewed-with``) describe it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        items: list[dict[str, Any]] = list(getattr(namespace, "items", None) or [])
        items.append({"kind": self.const, "text": str(values).strip()})
        namespace.items = items


class Describe(argparse.Action):
    """Describes the item given just before it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        items: list[dict[str, Any]] = getattr(namespace, "items", None) or []
        if not items:
            parser.error(f"{option_string} describes the item given before it; give that first.")
        if self.dest == "reviewed_with":
            items[-1].setdefault("reviewed_with", []).append(values)
        else:
            items[-1][self.dest] = values


def given_items(args: argparse.Namespace, *kinds: str) -> list[dict[str, Any]]:
    return [i for i in getattr(args, "items", None) or [] if i["kind"] in kinds and i["text"]]


def plan_not_yours(space: Space, version: AgreementVersion) -> None:
    me = space.me()
    if version.kind == "recovery_plan" and me is not None and version.proposer != me.member_id:
        owner = space.member_name(version.proposer)
        raise TrellisError(
            f"This recovery plan is {owner}'s: they write and revise it, and you can read it "
            "with 'trellis plan show'. What you tell each other, and when, is an agreement "
            "you make together: 'trellis agreement propose'.",
            code=ClientErrorCode.NOT_YOURS,
        )


#: The kind of agreement each command group handles; ``agreement`` takes any kind by id
#: (its commands worked on plans and windows before these groups had their own).
FAMILY_KINDS: dict[str, str] = {"plan": "recovery_plan", "windows": "window"}
_KIND_WORDS = {
    "agreement": ("an agreement", "agreement"),
    "recovery_plan": ("a recovery plan", "plan"),
    "window": ("a window", "windows"),
}


def find_agreement(
    space: Space, ident: str, family: str | None = None
) -> tuple[Agreement, AgreementVersion | None]:
    """The agreement (and version, if a version id was given) that ``ident`` names.

    With ``family`` ("plan", "windows") it must be of that group's kind: ``trellis
    windows accept`` given an agreement's id says so instead of answering the agreement.
    """
    result = practice_forms.find_agreement(space.views().agreements, ident)
    wanted = FAMILY_KINDS.get(family or "")
    kind = result[0].kind
    if wanted is not None and kind != wanted:
        article, group = _KIND_WORDS.get(kind, _KIND_WORDS["agreement"])
        raise TrellisError(
            f"'{ident}' is {article}, not {_KIND_WORDS[wanted][0]}: use "
            f"'trellis {group} ...' for it.",
            code=ClientErrorCode.WRONG_KIND,
        )
    return result


def the_only(space: Space, ident: str | None, family: str) -> str:
    """The id a plan or window command applies to: the one given, or, when none was
    given, the only one in use (for a plan: this partner's own first)."""
    if ident:
        return ident
    kind = FAMILY_KINDS[family]
    article, _ = _KIND_WORDS[kind]
    everything = [a for a in space.views().agreements.agreements if a.kind == kind]
    in_use = [a for a in everything if a.status == "in_force"] or everything
    me = space.me()
    mine = [a for a in in_use if me is not None and a.versions[0].proposer == me.member_id]
    candidates = mine or in_use
    if len(candidates) == 1:
        return candidates[0].id.hex()
    if not candidates:
        raise TrellisError(f"There is no {article[2:]} yet.", code=ClientErrorCode.NOT_FOUND)
    raise TrellisError(
        f"There is more than one {article[2:]}: name one by its id (see 'trellis {family} list').",
        code=ClientErrorCode.AMBIGUOUS_ID,
    )


def open_version(space: Space, ident: str, family: str | None = None) -> AgreementVersion:
    """The version an accept/decline applies to: named, or the only open proposal."""
    agreement, version = find_agreement(space, ident, family)
    if version is not None:
        return version
    open_versions = [v for v in agreement.versions if v.status == "proposed"]
    if len(open_versions) == 1:
        return open_versions[0]
    if not open_versions:
        raise TrellisError(
            f"'{agreement.title}' has no proposal waiting for an answer.",
            code=ClientErrorCode.NOTHING_OPEN,
        )
    raise TrellisError(
        f"'{agreement.title}' has {len(open_versions)} open proposals; name one by its "
        "version id (see 'trellis agreement show').",
        code=ClientErrorCode.AMBIGUOUS_ID,
    )


def active_version(space: Space, ident: str, family: str | None = None) -> AgreementVersion:
    """The version a withdrawal or review applies to: named, or the one in force."""
    agreement, version = find_agreement(space, ident, family)
    if version is not None:
        return version
    if agreement.current is not None and agreement.current.status in ("in_force", "expired"):
        return agreement.current
    open_versions = [v for v in agreement.versions if v.status == "proposed"]
    if len(open_versions) == 1:
        return open_versions[0]
    raise TrellisError(
        f"'{agreement.title}' has nothing in force to withdraw from; name a version id.",
        code=ClientErrorCode.NOTHING_OPEN,
    )


async def propose_version(args: argparse.Namespace, payload_for: Any) -> int:
    async with await open_space(args) as space:
        revises: EventId | None = None
        if args.revises:
            agreement, version = find_agreement(space, args.revises, getattr(args, "family", None))
            base = version or agreement.current
            if base is None:
                raise TrellisError(
                    "That agreement has no version to revise.", code=ClientErrorCode.NOT_FOUND
                )
            revises = base.id
        event = await space.append(payload_for(revises))
        await tell_delivery(
            space,
            args,
            f"Proposed ({event.event_id.hex()[:8]}). Your partner can accept or decline it.",
        )
    return 0


async def answer_version(args: argparse.Namespace, make: Any, done: str) -> int:
    async with await open_space(args) as space:
        family = getattr(args, "family", None)
        ident = the_only(space, args.id, family) if family in FAMILY_KINDS else args.id
        agreement, named = find_agreement(space, ident, family)
        plan_not_yours(space, named or agreement.current or agreement.versions[-1])
        version = make[0](space, ident)
        await space.append(make[1](version.id, args))
        if done == _ACCEPTED:
            # Delivery syncs, which may bring the partner's own news: say the state after.
            outcome = await deliver(space)
            print(
                f"{accepted_sentence(_status_of(space, version.id))} {delivery_sentence(outcome)}"
            )
            if not outcome.delivered:
                args.not_delivered = True
        else:
            await tell_delivery(space, args, done)
    return 0


_ACCEPTED = "accepted"


def _status_of(space: Space, version_id: EventId) -> str:
    """A version's status on this device now ("in_force", "proposed", ...)."""
    for agreement in space.views().agreements.agreements:
        for version in agreement.versions:
            if version.id == version_id:
                return str(version.status)
    return "proposed"


def partners_proposal(space: Space, ident: str) -> AgreementVersion:
    version = open_version(space, ident)
    me = space.me()
    if me is not None and version.proposer == me.member_id:
        raise TrellisError(
            "You proposed this one; it comes into force when your partner accepts it.",
            code=ClientErrorCode.OWN_PROPOSAL,
        )
    return version


async def cmd_accept(args: argparse.Namespace) -> int:
    return await answer_version(
        args,
        (partners_proposal, lambda v, a: AgreementAccepted(version=v, note=read_optional(a.note))),
        _ACCEPTED,
    )


async def cmd_decline(args: argparse.Namespace) -> int:
    return await answer_version(
        args,
        (
            partners_proposal,
            lambda v, a: AgreementDeclined(version=v, reason=read_optional(a.reason)),
        ),
        "Declined.",
    )


async def cmd_withdraw(args: argparse.Namespace) -> int:
    if getattr(args, "family", None) == "plan":
        return await answer_version(
            args,
            (
                active_version,
                lambda v, a: AgreementWithdrawn(version=v, reason=read_optional(a.reason)),
            ),
            "Your recovery plan is retired from now on; your partner sees that you retired "
            "it. Write a new one whenever you like: 'trellis plan write'.",
        )
    return await answer_version(
        args,
        (
            active_version,
            lambda v, a: AgreementWithdrawn(version=v, reason=read_optional(a.reason)),
        ),
        "Consent withdrawn. This takes effect now.",
    )


async def cmd_review(args: argparse.Namespace) -> int:
    return await answer_version(
        args,
        (
            active_version,
            lambda v, a: AgreementReviewed(
                version=v,
                outcome="revise" if a.revise else "keep",
                note=read_optional(a.note),
                next_review_on=parse_review_date(a.next_review_on),
            ),
        ),
        "Review recorded.",
    )
