"""``trellis relay set``, ``trellis sync --reseed`` and how integrity findings are shown
(docs/PROTOCOL.md §9.6, §9.7)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from client.cli.common import open_space
from client.core.integrity import Finding
from client.space import Space
from client.space.relocation import ReseedReport
from client.views.present import refusal_why


def integrity_json(findings: Sequence[Finding]) -> str | list[dict[str, object]]:
    """``"ok"``, or every finding as ``{code, severity, message, events}``."""
    return "ok" if not findings else [f.as_json() for f in findings]


def integrity_lines(findings: Sequence[Finding]) -> list[str]:
    if not findings:
        return ["Integrity:  ok"]
    lines = [f"Integrity:  {len(findings)} finding(s)"]
    for finding in findings:
        events = ", ".join(e[:8] for e in finding.events[:6])
        more = f" and {len(finding.events) - 6} more" if len(finding.events) > 6 else ""
        lines.append(f"  {finding.severity.value} {finding.code.value}: {finding.message}")
        if events:
            lines.append(f"    events: {events}{more}")
    return lines


def reseed_lines(report: ReseedReport, space: Space) -> list[str]:
    lines = [
        f"Re-seeded: offered the relay all {report.pushed} events this device holds; it holds "
        f"{report.stored} of them now. {report.received} new from the relay."
    ]
    for refusal in report.refusals:
        who = "some events"
        if refusal.author is not None:
            who = f"{space.author_name(refusal.author)}'s events from number {refusal.first_seq} on"
        lines.append(
            f"The relay would not take back {who}: {refusal_why(refusal.code)}. They "
            "are kept on this device; the device that wrote them can re-seed them."
        )
    return lines


async def run_reseed(space: Space) -> int:
    report = await space.reseed()
    print("\n".join(reseed_lines(report, space)))
    print("\n".join(integrity_lines(space.integrity())))
    return 1 if report.refusals else 0


async def cmd_relay_set(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        moved = await space.move_relay(args.url)
        print(f"This space now syncs through {moved.relay}.")
        if moved.registered:
            print(f"Registered {len(moved.registered)} other device(s) of the space there.")
        if moved.waiting:
            print(
                "The new relay does not know this device yet. Ask your partner to run "
                f"'trellis relay set {moved.relay}' on their device, then run "
                "'trellis sync' here: it gives the relay this device's copy."
            )
            return 0
        if moved.reseed is not None:
            print("\n".join(reseed_lines(moved.reseed, space)))
            if moved.reseed.refusals:
                return 1
        print("Your partner moves too with the same command on their device.")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    relay = sub.add_parser("relay", help="which relay this space syncs through").add_subparsers(
        dest="relay_command", required=True, metavar="ACTION"
    )
    p = relay.add_parser(
        "set", help="move this space to another relay and give it this device's copy"
    )
    p.add_argument("url", help="the new relay's address, e.g. https://relay.example.org")
    p.set_defaults(handler=cmd_relay_set)
