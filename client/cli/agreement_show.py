"""How versioned agreements are shown: ``list`` and ``show`` for ``agreement``, ``plan`` and
``windows``, as plain lines or JSON."""

from __future__ import annotations

import argparse
from typing import Any

from client.cli.common import open_space, print_json
from client.cli.versions import FAMILY_KINDS, find_agreement, the_only
from client.space import Space
from client.views.agreements import Agreement, AgreementVersion
from client.views.practice_forms import binds_words, status_words, version_status_words
from client.views.present import iso_utc, local_time, without_effect_sentence
from client.views.recovery import describe_window

CIRCLES = ("inner", "middle", "outer")


def _consent_json(space: Space, c: Any) -> dict[str, Any]:
    out = {"member": space.member_name(c.member), "at": iso_utc(c.at), "event": c.event_id.hex()}
    note = getattr(c, "note", None)
    if note:
        out["note"] = note
    return out


def _without_effect_json(space: Space, v: AgreementVersion) -> list[dict[str, Any]]:
    return [
        {
            "member": space.member_name(w.member),
            "action": w.action,
            "at": iso_utc(w.at),
            "event": w.event_id.hex(),
            "summary": without_effect_sentence(w, space),
        }
        for w in v.without_effect
    ]


def _reviews_json(space: Space, v: AgreementVersion) -> list[dict[str, Any]]:
    return [
        {
            "member": space.member_name(r.member),
            "at": iso_utc(r.at),
            "outcome": r.outcome,
            "note": r.note,
            "next_review_on": r.next_review_on,
        }
        for r in v.reviews
    ]


def _circles_json(v: AgreementVersion) -> dict[str, Any] | None:
    if not v.circles:
        return None
    return {
        "inner": v.circles.inner,
        "middle": v.circles.middle,
        "outer": v.circles.outer,
        "items": [
            {
                "circle": i.circle,
                "text": i.text,
                "definition": i.definition,
                "type": i.type,
                "reviewed_with": list(i.reviewed_with),
            }
            for i in v.circles.items
        ],
    }


def version_json(space: Space, v: AgreementVersion) -> dict[str, Any]:
    return {
        "id": v.id.hex(),
        "number": v.number,
        "status": v.status,
        "title": v.title,
        "clauses": list(v.clauses),
        "binds": list(v.binds),
        "kind": v.kind,
        "proposed_by": space.member_name(v.proposer),
        "proposed_at": iso_utc(v.proposed_at),
        "revises": v.revises.hex() if v.revises else None,
        "review_on": v.review_on,
        "expires_on": v.expires_on,
        "narrowing": v.narrowing,
        "in_force_since": iso_utc(v.in_force_since) if v.in_force_since else None,
        "accepted_by": [_consent_json(space, c) for c in v.accepted_by],
        "declined_by": [_consent_json(space, c) for c in v.declined_by],
        "withdrawn_by": _consent_json(space, v.withdrawn_by) if v.withdrawn_by else None,
        "without_effect": _without_effect_json(space, v),
        "reviews": _reviews_json(space, v),
        "circles": _circles_json(v),
        "window": describe_window(v.window) if v.window else None,
    }


def agreement_json(space: Space, a: Agreement, *, versions: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id.hex(),
        "title": a.title,
        "kind": a.kind,
        "status": a.status,
        "review_due": a.review_due,
        "review_on": a.current.review_on if a.current else None,
        "expired": a.expired,
        "current_version": a.current.id.hex() if a.current else None,
    }
    if versions:
        out["versions"] = [version_json(space, v) for v in a.versions]
    return out


def status_line(a: Agreement) -> str:
    return f"[{a.id.hex()[:8]}] {a.title}: {status_words(a)}"


async def cmd_list(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        kinds = {"plan": "recovery_plan", "windows": "window"}
        kind = kinds.get(getattr(args, "family", ""), "agreement")
        agreements = [a for a in space.views().agreements.agreements if a.kind == kind]
        if args.json:
            print_json([agreement_json(space, a, versions=False) for a in agreements])
            return 0
        if not agreements:
            print("Nothing here yet.")
        for a in agreements:
            print(status_line(a))
    return 0


async def cmd_show(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        family = getattr(args, "family", None)
        ident = the_only(space, args.id, family) if family in FAMILY_KINDS else args.id
        agreement, _ = find_agreement(space, ident, family)
        if args.json:
            print_json(agreement_json(space, agreement, versions=True))
            return 0
        print(status_line(agreement))
        for v in agreement.versions:
            print(f"\nVersion {v.number} [{v.id.hex()[:8]}]: {version_status_words(v.status)}")
            verb = "written" if v.kind == "recovery_plan" else "proposed"
            print(f"  {verb} by {space.member_name(v.proposer)} on {local_time(v.proposed_at)}")
            # A plan's clauses only restate its inner circle: its items are shown below.
            for index, clause in enumerate(() if v.circles else v.clauses):
                binds = binds_words(v, index, space.profiles(), space.member_name)
                print(f"  - {clause}" + (f" (binds {binds})" if binds else ""))
            if v.circles and v.circles.items:
                for item in v.circles.items:
                    kind = f", {item.type.replace('_', ' ')}" if item.type else ""
                    print(f"  {item.circle} circle{kind}: {item.text}")
                    if item.definition:
                        print(f"      what counts: {item.definition}")
                    if item.reviewed_with:
                        print(f"      reviewed with: {', '.join(item.reviewed_with)}")
            elif v.circles:
                for name in CIRCLES:
                    items = getattr(v.circles, name)
                    if items:
                        print(f"  {name} circle: {', '.join(items)}")
            if v.window:
                print(f"  {describe_window(v.window)}")
            if v.review_on:
                print(f"  review on {v.review_on}")
            if v.expires_on:
                print(f"  expires on {v.expires_on}")
            for c in v.accepted_by:
                verb = "read" if v.kind == "recovery_plan" else "accepted"
                print(f"  {verb} by {space.member_name(c.member)} on {local_time(c.at)}")
            for c in v.declined_by:
                print(f"  declined by {space.member_name(c.member)} on {local_time(c.at)}")
            if v.withdrawn_by:
                who = space.member_name(v.withdrawn_by.member)
                print(f"  consent withdrawn by {who} on {local_time(v.withdrawn_by.at)}")
            for r in v.reviews:
                print(
                    f"  reviewed by {space.member_name(r.member)} on {local_time(r.at)}: "
                    f"{r.outcome}"
                )
            for w in v.without_effect:
                print(f"  {without_effect_sentence(w, space)} ({local_time(w.at)})")
    return 0
