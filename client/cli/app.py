"""``trellis``: the command line on top of the client library.

Every command exits 0 on success and, on failure, prints one line to stderr that says
what happened and what to do, then exits non-zero (1 for a problem, 2 for a mistyped
command, 130 when interrupted). A write is saved on this device first, then delivered to
the relay at once if it can be (within client/cli/common.py DELIVER_TIMEOUT_S): it exits
0 when delivered and 3 when saved here but not delivered yet (the words say why).
Passphrases come from ``TRELLIS_PASSPHRASE`` or a prompt, never from an argument, so
they do not end up in shell history.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Sequence

from client.cli import EPILOG, home_help
from client.cli import agreements as cli_agreements
from client.cli import audit as cli_audit
from client.cli import consent as cli_consent
from client.cli import devices as cli_devices
from client.cli import intimacy as cli_intimacy
from client.cli import local_app as cli_local_app
from client.cli import private as cli_private
from client.cli import recovery as cli_recovery
from client.cli import relay as cli_relay
from client.cli.common import (
    Handler,
    UsageError,
    exit_code,
    home_dir,
    open_space,
    parse_when,
    passphrase,
    print_json,
    read_text,
    resolve_entry,
    tell_delivery,
)
from client.cli.help_texts import fill_help
from client.core.verify import VerifiedEvent
from client.errors import ClientErrorCode, TrellisError
from client.space import Space, relocation
from client.store.relay_http import CA_FILE_ENV
from client.views.present import (
    event_json,
    event_line,
    iso_utc,
    journal_json,
    journal_lines,
    notice_line,
    plain_error,
    shown,
)
from client.views.write_rules import may_be_void
from schemas.errors import ErrorCode
from schemas.payloads import JournalAmended, JournalEntry, JournalRetracted

INVITE_USED = str(ErrorCode.INVITE_USED)
SAFETY_SYNC_TIMEOUT_S = 10.0
#: The reader of stdout went away (a closed pipe): 128 + SIGPIPE, as a shell reports it.
EXIT_CLOSED_PIPE = 141

# -- commands ---------------------------------------------------------------------


async def cmd_init(args: argparse.Namespace) -> int:
    space = await Space.create(
        home_dir(args), relay_url=args.relay, name=args.name, passphrase=passphrase(new=True)
    )
    async with space:
        print(f"Your shared space is ready, {args.name}.")
        print("Next: run 'trellis invite' and give the code to your partner.")
    return 0


async def cmd_invite(args: argparse.Namespace) -> int:
    if args.rejoin:
        return await cli_devices.cmd_rejoin_invite(args)
    async with await open_space(args) as space:
        code = await space.invite(ttl_s=int(args.hours * 3600))
        print(
            f"Give this code to your partner, and only to them. It works once and expires "
            f"in {args.hours:g} hours."
        )
        print(code)
    return 0


async def cmd_join(args: argparse.Namespace) -> int:
    try:
        space = await Space.join(
            home_dir(args),
            code=args.code,
            name=args.name,
            passphrase=passphrase(new=True),
            relay_url=args.relay,
        )
    except TrellisError as exc:
        if exc.code != INVITE_USED:
            raise
        # Someone else may have used it first: that is worth a careful look.
        raise TrellisError(
            f"{exc.message} If you did not use this code yourself, it may have leaked: "
            "tell your partner, and once you have joined with a new code compare safety "
            "numbers in person ('trellis safety-number').",
            code=exc.code,
        ) from None
    async with space:
        if space.joined:
            others = [m.name for m in space.members() if not m.is_me]
            partner = " and ".join(others) or "your partner"
            print(f"You joined the space shared with {partner}.")
            for line in await cli_devices.rejoin_lines(space):
                print(line)
            print("Compare safety numbers in person: 'trellis safety-number'.")
        else:
            print(
                "Your invite is accepted and saved on this device, but joining could not "
                "finish yet. Run 'trellis sync' when your partner's device has synced."
            )
    return 0


async def cmd_journal_add(args: argparse.Namespace) -> int:
    text = read_text(args.text)
    async with await open_space(args) as space:
        event = await space.append(
            JournalEntry(text=text, mood=args.mood, tags=list(args.tag or [])),
            occurred_at=parse_when(args.occurred),
        )
        await tell_delivery(space, args, f"Saved ({event.event_id.hex()[:8]}).")
    return 0


async def cmd_journal_amend(args: argparse.Namespace) -> int:
    text = read_text(args.text)
    async with await open_space(args) as space:
        entry = resolve_entry(space, args.id)
        # What is not given is kept: an amendment replaces the whole entry, so the mood
        # and tags of the current version are carried over unless new ones are given.
        current = next(i for i in space.journal(include_retracted=True) if i.id == entry)
        mood = current.mood if args.mood is None else args.mood
        tags = list(current.tags) if args.tag is None else list(args.tag)
        await space.append(JournalAmended(entry=entry, text=text, mood=mood, tags=tags))
        await tell_delivery(space, args, "Updated. The earlier text stays in the history.")
    return 0


async def cmd_journal_retract(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        entry = resolve_entry(space, args.id)
        await space.append(JournalRetracted(entry=entry, reason=args.reason))
        await tell_delivery(
            space,
            args,
            "Hidden from the journal. The history still shows it: your partner can still "
            "read it there, because what was shared cannot be unsent.",
        )
    return 0


async def cmd_journal_list(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        items = space.journal(include_retracted=args.all)
        if args.json:
            print_json([journal_json(i, space) for i in items])
            return 0
        if not items:
            print("The journal is empty.")
        for item in items:
            print("\n".join(journal_lines(item, space)))
    return 0


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
                raise TrellisError(
                    "The relay refused some of this device's events "
                    f"({', '.join(sorted(set(report.refused)))}); they are kept here. "
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
                line = json.dumps(
                    {
                        **event_json(event, space, had_effect=effect),
                        "notice": notice_line(event, space),
                    },
                    ensure_ascii=False,
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


async def cmd_safety_number(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        # The number covers every device of both partners: fetch the latest first, so
        # both screens show the same number, but work offline too.
        with contextlib.suppress(TrellisError, TimeoutError):
            await space.sync(timeout_s=SAFETY_SYNC_TIMEOUT_S)
        if len(space.members()) < 2:
            raise TrellisError(
                "Your partner is not in this space on this device yet. Once they have "
                "joined, run 'trellis sync', then compare safety numbers.",
                code=ClientErrorCode.PARTNER_NOT_JOINED,
            )
        print(space.safety_number())
        await cli_devices.safety_number_confirmation(space, confirm=args.confirm)
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


# -- parser -----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trellis",
        description="Trellis: a private, end-to-end encrypted space for two partners.",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the table of exit codes
    )
    parser.add_argument(
        "--home",
        metavar="DIR",
        help=home_help(),
    )
    parser.add_argument(
        "--ca-file",
        metavar="FILE",
        help="also trust this PEM certificate authority for the relay's certificate "
        f"(a relay with a private CA; default: ${CA_FILE_ENV})",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="start a new shared space on this device")
    p.add_argument(
        "--relay", required=True, metavar="URL", help="relay address, e.g. http://127.0.0.1:8765"
    )
    p.add_argument("--name", required=True, help="your name, as your partner will see it")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("invite", help="make a one-time code for your partner to join")
    p.add_argument(
        "--hours",
        type=float,
        default=24.0,
        help="how long the code works (default 24, at most 168)",
    )
    p.add_argument(
        "--rejoin",
        action="store_true",
        help="your partner lost every device: a code that adds their new device to them "
        "(same person, full history) and removes the lost ones",
    )
    p.set_defaults(handler=cmd_invite)

    p = sub.add_parser("join", help="join your partner's space with their code")
    p.add_argument("code", help="the invite code your partner gave you")
    p.add_argument("--name", required=True, help="your name, as your partner will see it")
    p.add_argument("--relay", metavar="URL", help="relay address, if the code has none")
    p.set_defaults(handler=cmd_join)

    journal = sub.add_parser("journal", help="the shared journal").add_subparsers(
        dest="journal_command", required=True, metavar="ACTION"
    )
    p = journal.add_parser("add", help="write an entry ('-' reads it from stdin)")
    p.add_argument("text")
    p.add_argument(
        "--mood",
        type=int,
        choices=range(1, 6),
        metavar="1-5",
        help="how you feel, 1 (very low) to 5 (very good)",
    )
    p.add_argument("--tag", action="append", help="a tag; repeat for more")
    p.add_argument(
        "--occurred", metavar="DATE", help="when it happened, if not now (e.g. 2026-11-26T18:30)"
    )
    p.set_defaults(handler=cmd_journal_add)
    p = journal.add_parser("amend", help="update one of your entries; the old text is kept")
    p.add_argument("id", help="the entry id, or its first characters")
    p.add_argument("text", help="the new text ('-' reads it from stdin)")
    p.add_argument(
        "--mood",
        type=int,
        choices=range(1, 6),
        metavar="1-5",
        help="a new mood, 1 (very low) to 5 (very good); kept as it was if not given",
    )
    p.add_argument(
        "--tag", action="append", help="a tag; repeat for more; kept as they were if not given"
    )
    p.set_defaults(handler=cmd_journal_amend)
    p = journal.add_parser(
        "retract", help="hide one of your entries from the journal (the history still shows it)"
    )
    p.add_argument("id", help="the entry id, or its first characters")
    p.add_argument("--reason", help="an optional note for your partner")
    p.set_defaults(handler=cmd_journal_retract)
    p = journal.add_parser("list", help="show the journal")
    p.add_argument("--json", action="store_true", help="print one JSON array")
    p.add_argument("--all", action="store_true", help="include withdrawn entries")
    p.set_defaults(handler=cmd_journal_list)

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

    p = sub.add_parser("safety-number", help="the number to compare with your partner")
    p.add_argument(
        "--confirm", action="store_true", help="record that it matched your partner's, in person"
    )
    p.set_defaults(handler=cmd_safety_number)

    cli_agreements.register(sub)
    cli_recovery.register(sub)
    cli_audit.register(sub)
    cli_consent.register(sub)
    cli_devices.register(sub)
    cli_relay.register(sub)
    cli_intimacy.register(sub)
    cli_private.register(sub)

    p = sub.add_parser("status", help="relay, members, devices and what is waiting to send")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)
    cli_local_app.register(sub)
    cli_private.point_every_help_to_not_safe(parser)
    parser.epilog = EPILOG  # the top level also documents the exit codes
    fill_help(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.ca_file:
        os.environ[CA_FILE_ENV] = args.ca_file  # read where the relay is dialled
    handler: Handler = args.handler
    try:
        return exit_code(args, asyncio.run(handler(args)))
    except TrellisError as exc:
        print(f"trellis: {plain_error(exc.message)}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            print("trellis: stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`trellis timeline --json | head`): nothing to say to it.
        # Point stdout at /dev/null so the interpreter's final flush is quiet too.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    except TimeoutError:
        print(
            "trellis: the relay took too long to answer; nothing was lost. Try again.",
            file=sys.stderr,
        )
        return 1
    except Exception:  # the outermost shell: one calm line, never a traceback
        print(
            "trellis: something unexpected went wrong. What was already saved on this "
            "device is kept; please report this, with the command you ran.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
