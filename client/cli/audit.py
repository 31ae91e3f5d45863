"""``trellis timeline``, ``verify``, ``export`` and ``verify-export``: the auditable
history, and a way to show part of it to someone both partners choose."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path

from client.cli import consent as cli_consent
from client.cli.common import UsageError, open_space, print_json
from client.errors import ClientErrorCode, TrellisError
from client.export import VerifiedExport, render_html, verify_export
from client.export.choice import export_choice
from client.export.compare import CrossCheck, cross_check
from client.export.verify import utc_text
from client.space import Space
from client.store.home_files import write_private
from client.views import Moment
from client.views.agreements import Agreement
from client.views.practice_forms import export_since_ms, find_agreement
from client.views.present import event_json, event_line, shown
from schemas.payloads import PAYLOAD_TYPES, payload_kind


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
            if shown(e)
            and (args.kind is None or payload_kind(e.payload).startswith(args.kind))
            and (since is None or e.body.recorded_at >= since)
        ]
        void = space.views().without_effect
        if args.json:
            print_json([event_json(e, space, had_effect=e.event_id not in void) for e in events])
            return 0
        if not events:
            print("Nothing in the timeline matches.")
        me = space.me()
        for event in events:
            author = space.membership.member_of(event.author)
            you = me is not None and author is not None and author.member_id == me.member_id
            print(event_line(event, space, had_effect=event.event_id not in void, you=you))
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
        broken = [p for p in report.problems if not p.not_applied]
        kept = [p for p in report.problems if p.not_applied]
        found = len(broken) + len(report.findings)
        if found:
            print(f"Verified {report.events} events; {found} problem(s) found:")
        else:
            print(f"Verified {report.events} events: signatures, chains and membership hold.")
        for problem in broken:
            where = f" [{problem.event_id.hex()[:8]}]" if problem.event_id else ""
            print(f"  {problem.code}{where}: {problem.message}")
        # The relay's conduct (docs/PROTOCOL.md §9.6): non-zero while any finding stands.
        for finding in report.findings:
            where = f" [{', '.join(e[:8] for e in finding.events[:4])}]" if finding.events else ""
            print(f"  {finding.code.value} ({finding.severity.value}){where}: {finding.message}")
        if kept:
            # Genuine events a practice rule did not apply (docs/PROTOCOL.md §10.4).
            print(
                f"{len(kept)} event(s) are kept in the history but not applied "
                "(they changed nothing):"
            )
            for problem in kept:
                where = f" [{problem.event_id.hex()[:8]}]" if problem.event_id else ""
                print(f"  not applied{where}: {problem.message} ({problem.code})")
        return 1


def _agreements(space: Space, ident: str | None) -> list[Agreement]:
    """Every agreement, or the one ``--id`` names (by its id or a version's)."""
    view = space.views().agreements
    if ident is None:
        return list(view.agreements)
    agreement, _version = find_agreement(view, ident)
    return [agreement]


async def cmd_export(args: argparse.Namespace) -> int:
    since = _asked_range(args)
    declaration = cli_consent.asked(args)
    async with await open_space(args) as space:
        choice = export_choice(
            space.events(),
            agreements=_agreements(space, args.id) if args.agreements else None,
            every_agreement=args.id is None,
            pacing=args.pacing,
            recovery=args.recovery,
            since_ms=since,
        )
        made, notes = await cli_consent.export_with_consent(space, choice, declaration, since)
        out = Path(args.out)
        # Bytes, not text: newline translation would alter the verified report.
        document = made.document
        payload = render_html(document).encode("utf-8") if args.format == "html" else document
        await _write_export(out, payload, force=args.force)
        print(
            f"Exported {made.revealed} events to {out}. The file holds their decrypted text "
            "and the keys that open them: whoever holds it can read those events and no "
            "others. Keep it private (only you can read it on this computer) and share it "
            "only with someone you both chose; check it with 'trellis verify-export'."
        )
        for note in notes:
            print(note)
    return 0


def _asked_range(args: argparse.Namespace) -> int | None:
    """Check that something is asked for and return the ``--since`` start (ms), if any:
    before the space is opened, so a mistyped command costs no passphrase."""
    if not args.agreements and not args.pacing and not args.recovery:
        raise UsageError(
            "Say what to export: --agreements (optionally with --id ID), --pacing, "
            "--recovery, or more than one."
        )
    return export_since_ms(args.since, Moment.now().now_ms)


async def _write_export(out: Path, payload: bytes, *, force: bool) -> None:
    """Write the file 0600, and never over an existing file unless asked
    (THREAT_MODEL.md §22); each refusal says what to do and writes nothing."""
    try:
        await asyncio.to_thread(write_private, out, payload, force=force)
    except FileExistsError:
        raise TrellisError(
            f"{out} already exists; nothing was written. Choose another name, or add "
            "--force to replace it.",
            code=ClientErrorCode.FILE_EXISTS,
        ) from None
    except IsADirectoryError:
        raise TrellisError(
            f"{out} is a folder; give a file name.", code=ClientErrorCode.FILE_EXISTS
        ) from None
    except (FileNotFoundError, NotADirectoryError):
        raise TrellisError(
            f"The folder for {out} does not exist; nothing was written. Create it "
            "first, or choose another place.",
            code=ClientErrorCode.IO,
        ) from None


async def _read_export(name: str) -> bytes:
    try:
        return await asyncio.to_thread(Path(name).read_bytes)
    except OSError as exc:
        raise TrellisError(
            f"Could not read {name}: {exc.strerror}.", code=ClientErrorCode.IO
        ) from None


def _verified_or_report(name: str, data: bytes) -> VerifiedExport | None:
    result, findings = verify_export(data)
    if findings or result is None:
        print(f"{name}: this export does NOT verify ({len(findings)} problem(s)):")
        for finding in findings:
            print(f"  {finding.code} at {finding.where}: {finding.message}")
        return None
    return result


async def cmd_verify_export(args: argparse.Namespace) -> int:
    names = [args.file] if args.other is None else [args.file, args.other]
    verified: list[VerifiedExport] = []
    for name in names:
        result = _verified_or_report(name, await _read_export(name))
        if result is None:
            return 1
        verified.append(result)
    for label, (name, result) in zip("AB", zip(names, verified, strict=True), strict=False):
        prefix = f"{label} ({name}): " if len(names) == 2 else ""
        print(
            f"{prefix}Verified: {result.title}, exported {utc_text(result.created_at)} by "
            f"{result.name_of(result.exporter)}; {len(result.revealed)} events readable, "
            "every signature and chain link holds."
        )
        print(f"  {result.scope}")
        d = result.declaration  # docs/PROTOCOL.md "Exports", "Consent"
        ended = " (that time has passed)" if d.expires_at < Moment.now().now_ms else ""
        print(
            f"  For {d.recipient}; why: {d.purpose}; to be used until "
            f"{utc_text(d.expires_at)}{ended}. Not a complete record."
        )
        if args.show:
            _show(result)
    if len(verified) == 2:
        return _print_cross_check(cross_check(verified[0], verified[1]))
    sys.stdout.flush()
    return 0


def _show(result: VerifiedExport) -> None:
    for event in result.revealed:
        print(f"  {utc_text(event.recorded_at)}  {event.summary}")
        clauses = event.payload.get("clauses") or []
        for clause in clauses:
            print(f"      - {clause}")


def _print_cross_check(check: CrossCheck) -> int:
    for note in check.notes:
        print(f"Note: {note}")
    if check.findings:
        print(f"The two exports do NOT agree ({len(check.findings)} difference(s)):")
        for finding in check.findings:
            print(f"  {finding.code} at {finding.where}: {finding.message}")
        sys.stdout.flush()
        return 1
    print(
        "The two exports agree: every device's events that both carry are the same, and "
        "neither leaves out an event the other holds."
    )
    sys.stdout.flush()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("timeline", help="every event, in the order both partners see")
    p.add_argument("--json", action="store_true")
    kinds = sorted({str(t.__struct_config__.tag) for t in PAYLOAD_TYPES})
    p.add_argument(
        "--kind",
        help="only events whose kind starts with this (e.g. agreement, signal); the kinds: "
        + ", ".join(kinds),
    )
    p.add_argument("--since", metavar="DATE", help="only events recorded on or after DATE")
    p.set_defaults(handler=cmd_timeline)

    p = sub.add_parser("verify", help="check the whole local history; non-zero on problems")
    p.set_defaults(handler=cmd_verify)

    p = sub.add_parser("export", help="a verifiable export of agreements for a third party")
    p.add_argument("--agreements", action="store_true", help="export agreements")
    p.add_argument("--id", help="just this agreement (default: all)")
    p.add_argument(
        "--pacing", action="store_true", help="export the pacing plan and every move in it"
    )
    p.add_argument(
        "--recovery",
        action="store_true",
        help="export slips and disclosures, check-ins, signals and windows (from --since on)",
    )
    p.add_argument(
        "--since",
        metavar="DATE",
        help="the report's first page covers from DATE (YYYY-MM-DD, e.g. the last "
        "appointment); default: the start of what is exported",
    )
    cli_consent.add_options(p)
    p.add_argument("--format", choices=("json", "html"), default="html")
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="the file to write (private to you; it holds decrypted text and keys)",
    )
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser(
        "verify-export",
        help="verify an export offline, with no account; given two, check them against each other",
    )
    p.add_argument("file", help="an export (.json or the .html report)")
    p.add_argument(
        "other",
        nargs="?",
        help="a second export of the same space, made by the other partner: both are "
        "verified, then checked for events one leaves out or a history that forks",
    )
    p.add_argument("--show", action="store_true", help="also print the revealed events")
    p.set_defaults(handler=cmd_verify_export)
