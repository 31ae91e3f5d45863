"""``trellis sync`` and ``trellis status``: talking to the relay, and what this device holds."""

from __future__ import annotations

import argparse

from client.cli import devices as cli_devices
from client.cli import relay as cli_relay
from client.cli.common import open_space, print_json
from client.cli.terminal import json_text
from client.core.verify import VerifiedEvent
from client.errors import ClientErrorCode, TrellisError
from client.space import relocation
from client.views.present import (
    event_json,
    event_line,
    iso_utc,
    notice_line,
    refusal_why,
    shown,
)
from client.views.write_rules import may_be_void


async def cmd_sync(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        if args.reseed:
            return await cli_relay.run_reseed(space)
        if not args.watch:
            # A move to a relay that did not know this device yet finishes here.
            moved = await relocation.reseed_if_due(space)
            if moved is not None:
                print("\n".join(cli_relay.reseed_lines(moved, space)))
            report = await space.sync()
            for line in await cli_devices.rejoin_lines(space, finish=True):
                print(line)
            if report.refused:
                why = "; ".join(refusal_why(code) for code in sorted(set(report.refused)))
                raise TrellisError(
                    f"The relay refused some of this device's events: {why}. They are "
                    "kept here. "
                    "Run 'trellis status' for details; if the relay lost data, "
                    "'trellis sync --reseed' gives it this device's copy back.",
                    code=ClientErrorCode.PUSH_REFUSED,
                )
            if report.relay_behind:
                print(
                    "Note: the relay held less than this device had already seen (it may "
                    "have been restored from a backup). Everything on this device is kept."
                )
            note = f", {report.rejected} refused as not genuine" if report.rejected else ""
            print(f"Up to date: {report.received} new, {report.acknowledged} sent{note}.")
            if space.integrity():
                print("\n".join(cli_relay.integrity_lines(space.integrity())))
            return 0

        def show(event: VerifiedEvent) -> None:
            if not shown(event):
                return
            # Only events that can be void need the views (folding is not free).
            effect = not may_be_void(event) or event.event_id not in space.views().without_effect
            if args.json:
                # For apps: "notice" is what a notification may show (no words).
                line = json_text(
                    {
                        **event_json(event, space, had_effect=effect),
                        "notice": notice_line(event, space),
                    },
                    indent=None,
                )
                print(line, flush=True)
            else:
                # The partner opened this feed to read it: the words are shown here;
                # notifications elsewhere carry none (notice_line).
                print(event_line(event, space, had_effect=effect), flush=True)

        if not args.json:
            print("Watching for new events. Press Ctrl-C to stop.", flush=True)
        await space.sync(watch=True, on_event=show)
    return 0


async def cmd_status(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        status = await space.status()
        data = {
            "relay": status.relay,
            "space": status.space_id.hex(),
            "device": status.device_id.hex(),
            "joined": status.joined,
            "members": [
                {
                    "name": m.name,
                    "id": m.member_id.hex(),
                    "me": m.is_me,
                    "devices": [
                        {"id": d.device_id.hex(), "this_device": d.this_device} for d in m.devices
                    ],
                }
                for m in status.members
            ],
            "events": status.events,
            "outbox": status.outbox,
            "pending": status.pending,
            "rejected": status.rejected,
            "last_sync": None if status.last_sync_at is None else iso_utc(status.last_sync_at),
        }
        device_fields, device_lines = await cli_devices.status_fields(space)
        data.update(device_fields)
        data["integrity"] = cli_relay.integrity_json(status.integrity)
        if args.json:
            print_json(data)
            return 0
        print(f"Relay:      {status.relay}")
        print(f"Space:      {status.space_id.hex()}")
        for m in status.members:
            you = " (you)" if m.is_me else ""
            print(f"Member:     {m.name}{you}, {len(m.devices)} device(s)")
        print(f"Events:     {status.events}")
        print(f"Not sent:   {status.outbox}")
        if status.pending:
            print(f"Waiting:    {status.pending} received event(s) wait for earlier ones")
        if status.rejected:
            print(f"Refused:    {status.rejected} received event(s) were not genuine")
        print(f"Last sync:  {data['last_sync'] or 'never'}")
        print("\n".join(device_lines))
        print("\n".join(cli_relay.integrity_lines(status.integrity)))
        if not status.joined:
            print("Joining is not finished: run 'trellis sync'.")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sync", help="send and receive until up to date")
    p.add_argument(
        "--watch", action="store_true", help="stay connected and print each event as it arrives"
    )
    p.add_argument("--json", action="store_true", help="with --watch: one JSON object a line")
    p.add_argument(
        "--reseed",
        action="store_true",
        help="give the relay this device's whole copy again (after it lost data) and read "
        "everything it holds",
    )
    p.set_defaults(handler=cmd_sync)
    p = sub.add_parser("status", help="relay, members, devices and what is waiting to send")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)
