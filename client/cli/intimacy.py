"""``trellis intimacy``: intimacy check-ins (docs/PROTOCOL.md §5.12). Information, never a
request; private unless shared entry by entry."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

from client.cli.common import (
    DELIVER_TIMEOUT_S,
    UsageError,
    json_flag,
    open_space,
    passphrase,
    print_json,
    tell_delivery,
)
from client.errors import TrellisError
from client.space import private_notes
from client.views.present_intimacy import AROUSAL_NOTE, CHECKIN_REMINDER, checkin_json, checkin_line
from schemas.intimacy import IntimacyCheckIn


async def cmd_intimacy_checkin(args: argparse.Namespace) -> int:
    note = (args.note or "").strip() or None
    checkin = IntimacyCheckIn(
        comfort=args.comfort,
        desire=args.desire,
        arousal=args.arousal,
        fatigue=args.fatigue,
        note=note,
    )
    if all(v is None for v in (args.comfort, args.desire, args.arousal, args.fatigue, note)):
        raise UsageError(
            "A check-in needs at least one of --comfort, --desire, --arousal, --fatigue or --note."
        )
    async with await open_space(args) as space:
        if args.share:
            await space.append(checkin)
            await tell_delivery(space, args, f"Saved for your partner. {CHECKIN_REMINDER}")
        else:
            private = await private_notes.open_private(space, passphrase(new=False), create=True)
            async with private:
                await private.append(checkin)
                with contextlib.suppress(TrellisError, TimeoutError):
                    await asyncio.wait_for(private.sync(), DELIVER_TIMEOUT_S)
            print("Kept private: only your own devices can read it.")
        if args.arousal is not None:
            print(AROUSAL_NOTE)
    return 0


async def cmd_intimacy_checkins(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        shared = space.views().intimacy.checkins
        mine: list[Any] = []
        if private_notes.has_private_space(space.home):
            async with await private_notes.open_private(
                space, passphrase(new=False), create=False
            ) as private:
                mine = private_notes.fold_private(private).checkins
        if args.json:
            print_json(
                {
                    "reminder": CHECKIN_REMINDER,
                    "shared": [checkin_json(c, space, private=False) for c in shared],
                    "private": [checkin_json(c, space, private=True) for c in mine],
                }
            )
            return 0
        if not shared and not mine:
            print("No intimacy check-ins yet.")
            return 0
        print(f"{CHECKIN_REMINDER} {AROUSAL_NOTE}")
        for c in shared:
            print(checkin_line(c, space, private=False))
        for c in mine:
            print(checkin_line(c, space, private=True))
    return 0


def _level(p: argparse.ArgumentParser, name: str, words: str) -> None:
    p.add_argument(f"--{name}", type=int, choices=range(5), metavar="0-4", help=words)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    intimacy = sub.add_parser(
        "intimacy", help="intimacy check-ins: information, never a request"
    ).add_subparsers(dest="intimacy_command", required=True, metavar="ACTION")
    p = intimacy.add_parser("checkin", help="how you are; private unless --share")
    _level(p, "comfort", "0 very uneasy ... 4 very comfortable")
    p.add_argument("--desire", choices=("none", "responsive", "curious", "wanting"))
    _level(p, "arousal", "0 none ... 4 a lot (arousal is not a yes)")
    _level(p, "fatigue", "0 rested ... 4 exhausted")
    p.add_argument("--note", help="a few words, if you like")
    p.add_argument("--share", action="store_true", help="share it with your partner")
    p.set_defaults(handler=cmd_intimacy_checkin)
    p = intimacy.add_parser("checkins", help="shared check-ins, and your private ones")
    json_flag(p)
    p.set_defaults(handler=cmd_intimacy_checkins)
