"""Who is in the space: ``init``, ``invite``, ``join``, ``safety-number`` and ``profile``."""

from __future__ import annotations

import argparse
import contextlib

from client.cli import devices as cli_devices
from client.cli.common import (
    home_dir,
    hours_words,
    open_space,
    passphrase,
    print_json,
    tell_delivery,
)
from client.errors import ClientErrorCode, TrellisError
from client.space import Space
from schemas.errors import ErrorCode
from schemas.practices import ProfileUpdated

INVITE_USED = str(ErrorCode.INVITE_USED)
SAFETY_SYNC_TIMEOUT_S = 10.0


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
            f"in {hours_words(args.hours)}."
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


async def cmd_profile(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        me = space.me()
        if me is None:
            raise TrellisError(
                "This device is not a member yet; run 'trellis sync'.",
                code=ClientErrorCode.JOIN_INCOMPLETE,
            )
        if args.name is not None or args.in_recovery is not None:
            await space.append(ProfileUpdated(name=args.name, in_recovery=args.in_recovery))
            await tell_delivery(space, args, "Profile updated.")
        profile = space.profiles()[me.member_id]
        if args.json:
            print_json({"name": profile.name, "in_recovery": profile.in_recovery})
        else:
            role = "partner in recovery" if profile.in_recovery else "partner"
            print(f"{profile.name} ({role})")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    p = sub.add_parser("safety-number", help="the number to compare with your partner")
    p.add_argument(
        "--confirm", action="store_true", help="record that it matched your partner's, in person"
    )
    p.set_defaults(handler=cmd_safety_number)
    p = sub.add_parser("profile", help="your name and whether you are the partner in recovery")
    p.add_argument("--name")
    p.add_argument("--in-recovery", dest="in_recovery", action="store_const", const=True)
    p.add_argument("--not-in-recovery", dest="in_recovery", action="store_const", const=False)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_profile, in_recovery=None)
