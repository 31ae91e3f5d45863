"""``trellis device``, ``devices``, ``leave``, ``passphrase`` and the safety-number
confirmation (docs/PROTOCOL.md §5.5-§5.8; the flows are in client/space/devices.py)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from client.cli.common import UsageError, hours_words, open_space, print_json
from client.space import Space, devices
from client.views.present import iso_utc

NEW_PASSPHRASE_ENV = "TRELLIS_NEW_PASSPHRASE"  # noqa: S105 - a variable name, not a secret


async def cmd_device_invite(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        code = await space.invite(ttl_s=int(args.hours * 3600), kind="device")
        print(
            "On your new device, run 'trellis join CODE --name NAME' with this code. It adds "
            f"the device to you, works once and expires in {hours_words(args.hours)}."
        )
        print(code)
    return 0


async def cmd_rejoin_invite(args: argparse.Namespace) -> int:
    """``trellis invite --rejoin``: for a partner who lost every device (§5.9)."""
    async with await open_space(args) as space:
        code = await devices.rejoin_invite(space, ttl_s=int(args.hours * 3600))
        print(
            "Give this code to your partner, and only to them, for their new device: "
            "'trellis join CODE --name NAME' adds it to them as the same person, with the "
            "whole history, and removes their lost devices. It works once and expires in "
            f"{hours_words(args.hours)}."
        )
        print(code)
    return 0


async def rejoin_lines(space: Space, *, finish: bool = False) -> list[str]:
    """After ``trellis join`` (or a later sync) through a rejoin invite: what happened to
    the lost devices. ``finish`` retries removing them if the join could not."""
    removed = await devices.finish_rejoin(space) if finish else []
    if await devices.rejoin_pending(space):
        return [
            "Your lost devices are not removed yet (the relay could not be reached); "
            "run 'trellis sync' to finish."
        ]
    if finish and not removed:
        return []
    me = space.me()
    if me is None or await space.get_local(devices.META_REJOIN) is None:
        return []
    if finish:
        count = len(removed)
    else:
        count = sum(
            r.status == "revoked" and r.member == me.name and not r.this_device
            for r in devices.device_rows(space)
        )
    return [
        f"This device is yours again, {me.name}. {count} lost device(s) are removed: the "
        "relay refuses them, and what is written from now on uses a new key they do not "
        "have.",
        "Compare safety numbers with your partner again: 'trellis safety-number'.",
    ]


async def cmd_devices(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        rows = devices.device_rows(space)
        if args.json:
            print_json(
                [
                    {
                        "id": r.device_id.hex(),
                        "member": r.member,
                        "fingerprint": r.fingerprint,
                        "added_at": None if r.added_at is None else iso_utc(r.added_at),
                        "status": r.status,
                        "this_device": r.this_device,
                    }
                    for r in rows
                ]
            )
            return 0
        for r in rows:
            mark = " (this device)" if r.this_device else ""
            added = "" if r.added_at is None else f", added {iso_utc(r.added_at)}"
            print(
                f"{r.device_id.hex()[:12]}  {r.member:<16} {r.status:<8} "
                f"{r.fingerprint}{added}{mark}"
            )
    return 0


async def cmd_device_revoke(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        target = await devices.revoke(space, args.device, reason=args.reason)
        print(
            f"Device {target.hex()[:12]} is removed: the relay refuses it, and what is written "
            "from now on uses a new key it does not have."
        )
        print("Compare safety numbers with your partner again: 'trellis safety-number'.")
    return 0


async def cmd_leave(args: argparse.Namespace) -> int:
    if not args.yes:
        raise UsageError(
            "Leaving cannot be undone: your devices stop syncing with your partner. "
            "Run 'trellis leave --yes' to confirm."
        )
    async with await open_space(args) as space:
        response = await devices.leave(space)
        print(
            "You left the shared space. Everything shared until now stays readable on this "
            "device ('trellis export' still works)."
        )
        if response.space_deleted:
            print("Nobody remains in the space, so the relay deleted its copy.")
    return 0


async def cmd_passphrase_change(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        await devices.change_passphrase(space, _new_passphrase())
        print("Passphrase changed. The old one no longer opens this device's keys.")
    return 0


def _new_passphrase() -> str:
    env = os.environ.get(NEW_PASSPHRASE_ENV)
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise UsageError(f"No new passphrase: set {NEW_PASSPHRASE_ENV}, or run in a terminal.")
    first = getpass.getpass("New passphrase: ")
    if getpass.getpass("Type it again: ") != first:
        raise UsageError("The two passphrases did not match; nothing was changed.")
    return first


async def safety_number_confirmation(space: Space, *, confirm: bool) -> None:
    """After ``trellis safety-number`` printed the number: record or remind."""
    if confirm:
        await devices.confirm_safety_number(space)
        print("Confirmed. 'trellis status' will tell you if your devices change.")
        return
    if not (await devices.safety_state(space)).confirmed:
        print(
            "Compare it with your partner in person; when it matches, run "
            "'trellis safety-number --confirm'.",
            file=sys.stderr,
        )


async def status_fields(space: Space) -> tuple[dict[str, Any], list[str]]:
    """What ``trellis status`` adds about devices: JSON fields and lines for people."""
    state = await devices.safety_state(space)
    rows = devices.device_rows(space)
    me = next((r for r in rows if r.this_device), None)
    this_revoked = me is not None and me.status == "revoked"
    fields: dict[str, Any] = {
        "safety_number_confirmed": state.confirmed,
        "safety_number_changed": state.changed,
        "devices": [
            {"id": r.device_id.hex(), "member": r.member, "status": r.status} for r in rows
        ],
        "this_device_revoked": this_revoked,
    }
    lines = [
        f"Devices:    {sum(r.status == 'active' for r in rows)} active, "
        f"{sum(r.status == 'revoked' for r in rows)} removed"
    ]
    if this_revoked:
        lines.append("This device: removed from the space (it keeps what it had).")
    if state.changed:
        lines.append(
            "Safety:     the safety number CHANGED since you last confirmed it (devices were "
            "added or removed). Compare it again, then 'trellis safety-number --confirm'."
        )
    elif not state.confirmed:
        lines.append("Safety:     not confirmed yet: compare 'trellis safety-number' in person.")
    else:
        lines.append("Safety:     confirmed")
    return fields, lines


def register(sub: Any) -> None:
    """Add the commands to ``trellis``'s subparsers (called from cli.build_parser)."""
    device = sub.add_parser("device", help="add or remove one of your devices").add_subparsers(
        dest="device_command", required=True, metavar="ACTION"
    )
    p = device.add_parser("invite", help="make a one-time code that adds a device of yours")
    p.add_argument("--hours", type=float, default=24.0, help="how long the code works")
    p.set_defaults(handler=cmd_device_invite)
    p = device.add_parser("revoke", help="remove one of your devices (lost or replaced)")
    p.add_argument("device", help="the device id, or a unique prefix of it ('trellis devices')")
    p.add_argument("--reason", help="an optional note, e.g. 'phone lost'")
    p.set_defaults(handler=cmd_device_revoke)

    p = sub.add_parser("devices", help="every device of both partners")
    p.add_argument("--json", action="store_true", help="print one JSON array")
    p.set_defaults(handler=cmd_devices)

    p = sub.add_parser("leave", help="leave the shared space (cannot be undone)")
    p.add_argument("--yes", action="store_true", help="confirm that you want to leave")
    p.set_defaults(handler=cmd_leave)

    passphrase = sub.add_parser("passphrase", help="this device's passphrase").add_subparsers(
        dest="passphrase_command", required=True, metavar="ACTION"
    )
    p = passphrase.add_parser(
        "change", help=f"choose a new passphrase (from ${NEW_PASSPHRASE_ENV} or a prompt)"
    )
    p.set_defaults(handler=cmd_passphrase_change)
