"""``trellis signal`` and ``signals``: a time-out, slow down or stop, and clearing it. Only
the sender clears a signal; a time-out has a return, and only its sender is reminded."""

from __future__ import annotations

import argparse
from typing import Any, cast

from client.cli.common import (
    UsageError,
    by_prefix,
    now_ms,
    open_space,
    parse_when,
    print_json,
    read_optional,
    tell_delivery,
    writer_zones,
    writers_time,
)
from client.errors import ClientErrorCode, TrellisError
from client.space import Space
from client.views import Moment
from client.views.present import iso_utc, local_time
from client.views.present_signals import (
    RETURN_DUE,
    SIGNAL_NAMES,
    signal_given_sentence,
    timeout_return_ms,
)
from client.views.recovery import SignalView, active_signals
from schemas.practices import (
    SIGNAL_PRESETS,
    TIMEOUT_DEFAULT_MIN,
    SignalCleared,
    SignalLevel,
    SignalSent,
)


def _timeout_return(args: argparse.Namespace, sent_ms: int) -> int:
    """A time-out's return time: --until, or --for minutes (the rule, default 20 and at
    most 24 h, is client/views/present_signals.py timeout_return_ms, shared with the app)."""
    if args.until and args.minutes is not None:
        raise UsageError("Give a return time with --until or --for, not both.")
    until = parse_when(args.until) if args.until else None
    try:
        return timeout_return_ms(
            sent_ms,
            minutes=args.minutes,
            until_ms=sent_ms if args.until and until is None else until,
        )
    except TrellisError as exc:
        raise UsageError(exc.message) from None


async def cmd_signal(args: argparse.Namespace) -> int:
    level: str = "pause" if args.level == "timeout" else args.level
    if level != "clear" and args.note and args.preset:
        raise UsageError("Choose a preset note or write your own, not both.")
    if level != "pause" and (args.until or args.minutes is not None):
        raise UsageError(
            "Only a time-out has a return time. A stop owes no return; a slow-down has none."
        )
    async with await open_space(args) as space:
        if level == "clear":
            me = space.me()
            mine = [
                s
                for s in active_signals(space.views().signals)
                if me is not None and s.sender == me.member_id
            ]
            if args.id:
                mine = [by_prefix(mine, args.id, "active signal of yours")]
            if not mine:
                raise TrellisError(
                    "You have no active signal to clear.", code=ClientErrorCode.NOT_FOUND
                )
            for signal in mine:
                await space.append(SignalCleared(signal=signal.id))
            text = "Cleared." if len(mine) == 1 else f"Cleared {len(mine)} signals."
        else:
            until = _timeout_return(args, now_ms()) if level == "pause" else None
            await space.append(
                SignalSent(
                    level=cast(SignalLevel, level),
                    until=until,
                    note=read_optional(args.note),
                    preset=args.preset,
                )
            )
            # "given", never "sent": whether the partner can have it is said next.
            text = signal_given_sentence(level, until)
        await tell_delivery(space, args, text, signal=True)
    return 0


def signal_json(
    space: Space, s: SignalView, now_ms: int, zone: str | None = None
) -> dict[str, Any]:
    """One signal for apps; ``writer_zone`` is its sender's IANA zone, if it has one."""
    me = space.me()
    return {
        "id": s.id.hex(),
        "sender": space.member_name(s.sender),
        "level": s.level,
        "until": iso_utc(s.until) if s.until else None,
        "writer_zone": zone,
        "note": s.note,
        "preset": s.preset,
        "preset_text": s.preset_text,
        "sent_at": iso_utc(s.sent_at),
        "active": s.active,
        "cleared_at": iso_utc(s.cleared_at) if s.cleared_at else None,
        # Only ever true on the sender's own devices: the partner is never told "late".
        "return_due": s.return_due_for(me.member_id if me else None, now_ms),
    }


async def cmd_signals(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        moment = Moment.now()
        signals = space.views(moment).signals
        shown = signals if args.all else active_signals(signals)
        zones = writer_zones(space)
        if args.json:
            print_json([signal_json(space, s, moment.now_ms, zones.get(s.id)) for s in shown])
            return 0
        if not shown:
            print("No active signals.")
        me = space.me()
        for s in shown:
            back = writers_time(space, s.until, s.sender, zones.get(s.id)) if s.until else ""
            until = f", back around {back}" if s.until else ""
            state = "active" if s.active else "cleared"
            words = s.preset_text or s.note
            said = f': "{words}"' if words else ""
            # The id is what 'trellis signal clear ID' takes.
            print(
                f"[{s.id.hex()[:8]}] {local_time(s.sent_at)}  {space.member_name(s.sender)}: "
                f"{SIGNAL_NAMES.get(s.level, s.level)}{until} ({state}){said}"
            )
            if s.return_due_for(me.member_id if me else None, moment.now_ms):
                print(f"    {RETURN_DUE[:-1]}; 'trellis signal clear' when you are back.")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "signal",
        help="a time-out, slow down or stop; or clear your signal",
        description="A time-out (timeout, or pause) steps out of a conversation and has a "
        f"return: {TIMEOUT_DEFAULT_MIN} minutes unless you say otherwise, at most 24 hours; "
        "only you are reminded when it is due. A stop owes no return.",
    )
    p.add_argument("level", choices=("timeout", "pause", "slow", "stop", "clear"))
    p.add_argument("id", nargs="?", help="with clear: which signal (default: all of yours)")
    p.add_argument(
        "--for",
        dest="minutes",
        type=int,
        metavar="MINUTES",
        help=f"time-out only: back in this many minutes (default {TIMEOUT_DEFAULT_MIN})",
    )
    p.add_argument("--until", metavar="TIME", help="time-out only: back at, e.g. 2026-11-27T09:00")
    p.add_argument(
        "--preset",
        choices=tuple(SIGNAL_PRESETS),
        help="a preset note: "
        + "; ".join(f"{key}: {text}" for key, text in SIGNAL_PRESETS.items()),
    )
    p.add_argument("--note", help="your own words instead of a preset")
    p.set_defaults(handler=cmd_signal)
    p = sub.add_parser("signals", help="active signals")
    p.add_argument("--all", action="store_true", help="include cleared ones")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_signals)
