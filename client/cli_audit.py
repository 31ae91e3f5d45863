"""``trellis timeline``, ``verify``, ``export`` and ``verify-export``: the auditable
history, and a way to show part of it to someone both partners choose."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path

from client.cli_common import UsageError, open_space, print_json
from client.errors import ClientErrorCode, TrellisError
from client.export import build_export, render_html, verify_export
from client.present import event_json, event_line, local_time
from client.space import Space
from client.views import Moment
from schemas.ids import EventId
from schemas.payloads import MemberJoined, SpaceCreated, payload_kind


def _since_ms(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"'{value}' is not a date; use a form like 2026-11-26.") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return int(moment.timestamp() * 1000)


async def cmd_timeline(args: argparse.Namespace) -> int:
    since = _since_ms(args.since)
    async with await open_space(args) as space:
        events = [
            e
            for e in space.events()
            if (args.kind is None or payload_kind(e.payload).startswith(args.kind))
            and (since is None or e.body.recorded_at >= since)
        ]
        if args.json:
            print_json([event_json(e, space) for e in events])
            return 0
        if not events:
            print("Nothing in the timeline matches.")
        for event in events:
            print(event_line(event, space))
    return 0


async def cmd_verify(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        report = await space.audit()
        if report.clean:
            print(
                f"Verified {report.events} events: signatures, chains, membership and "
                "agreement rules all hold."
            )
            return 0
        found = len(report.problems) + len(report.findings)
        print(f"Verified {report.events} events; {found} problem(s) found:")
        for problem in report.problems:
            where = f" [{problem.event_id.hex()[:8]}]" if problem.event_id else ""
            print(f"  {problem.code}{where}: {problem.message}")
        # The relay's conduct (docs/PROTOCOL.md §9.6): non-zero while any finding stands.
        for finding in report.findings:
            where = f" [{', '.join(e[:8] for e in finding.events[:4])}]" if finding.events else ""
            print(f"  {finding.code.value} ({finding.severity.value}){where}: {finding.message}")
        return 1


def _chosen(space: Space, ident: str | None) -> tuple[set[EventId], str]:
    view = space.views().agreements
    if ident is None:
        agreements = view.agreements
        title = "Agreements"
    else:
        try:
            found = view.find(ident)
        except LookupError as exc:
            raise TrellisError(str(exc), code=ClientErrorCode.NOT_FOUND) from None
        agreement_id = getattr(found, "agreement_id", None) or found.id
        agreements = [a for a in view.agreements if a.id == agreement_id]
        title = f"Agreement: {agreements[0].title}" if agreements else "Agreement"
    if not agreements:
        raise TrellisError("There are no agreements to export yet.", code=ClientErrorCode.NOT_FOUND)
    chosen = {eid for a in agreements for eid in a.event_ids}
    chosen |= {
        e.event_id for e in space.events() if isinstance(e.payload, SpaceCreated | MemberJoined)
    }
    return chosen, title


async def cmd_export(args: argparse.Namespace) -> int:
    if not args.agreements:
        raise UsageError("Say what to export: --agreements (optionally with --id ID).")
    async with await open_space(args) as space:
        chosen, title = _chosen(space, args.id)
        document = build_export(
            space_id=space.space_id,
            events=space.events(),
            chosen=chosen,
            events_key_for_epoch=space.events_key_for_epoch,
            exporter=space.device,
            title=title,
            created_at_ms=Moment.now().now_ms,
        )
        out = Path(args.out)
        # Bytes, not text: newline translation would alter the verified report.
        payload = render_html(document).encode("utf-8") if args.format == "html" else document
        await asyncio.to_thread(out.write_bytes, payload)
        print(
            f"Exported {len(chosen)} events to {out}. Whoever holds the file can read those "
            "events and no others; check it with 'trellis verify-export'."
        )
    return 0


async def cmd_verify_export(args: argparse.Namespace) -> int:
    try:
        data = await asyncio.to_thread(Path(args.file).read_bytes)
    except OSError as exc:
        raise TrellisError(
            f"Could not read {args.file}: {exc.strerror}.", code=ClientErrorCode.IO
        ) from None
    result, findings = verify_export(data)
    if findings or result is None:
        print(f"This export does NOT verify ({len(findings)} problem(s)):")
        for finding in findings:
            print(f"  {finding.code} at {finding.where}: {finding.message}")
        return 1
    print(
        f"Verified: {result.title}, exported {local_time(result.created_at)} by "
        f"{result.name_of(result.exporter)}; {len(result.revealed)} events readable, every "
        "signature and chain link holds."
    )
    if args.show:
        for event in result.revealed:
            print(f"  {local_time(event.recorded_at)}  {event.summary}")
            clauses = event.payload.get("clauses") or []
            for clause in clauses:
                print(f"      - {clause}")
    sys.stdout.flush()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("timeline", help="every event, in the order both partners see")
    p.add_argument("--json", action="store_true")
    p.add_argument("--kind", help="only events of this kind, e.g. agreement or journal_entry")
    p.add_argument("--since", metavar="DATE", help="only events recorded on or after DATE")
    p.set_defaults(handler=cmd_timeline)

    p = sub.add_parser("verify", help="check the whole local history; non-zero on problems")
    p.set_defaults(handler=cmd_verify)

    p = sub.add_parser("export", help="a verifiable export of agreements for a third party")
    p.add_argument("--agreements", action="store_true", help="export agreements")
    p.add_argument("--id", help="just this agreement (default: all)")
    p.add_argument("--format", choices=("json", "html"), default="html")
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("verify-export", help="verify an export offline, with no account")
    p.add_argument("file")
    p.add_argument("--show", action="store_true", help="also print the revealed events")
    p.set_defaults(handler=cmd_verify_export)
