"""Helpers shared by the ``trellis`` command modules: home folder, passphrase, output,
dates and ids typed by people."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import platformdirs

from client.cli.terminal import json_text
from client.core.refusals import AfterRefusal, after_refusal
from client.errors import ClientErrorCode, HomeError, TrellisError
from client.errors import UsageError as UsageError  # its home was here; cli modules import it
from client.space import Space
from client.views.moments import as_moment, calendar_date_ms, in_zones, is_calendar_date
from client.views.present import Delivery, delivery_sentence
from schemas.ids import EventId
from schemas.payloads import MAX_TEXT_CHARS

#: Exit codes (README "Exit codes", docs/PROTOCOL.md §13.1): 0 done (and, for a write,
#: delivered to the relay), 1 a problem, 2 a mistyped command, 3 saved on this device but
#: not delivered yet, 130 interrupted.
EXIT_NOT_DELIVERED = 3
#: How long a write waits for the relay before saying it is not delivered yet: long
#: enough for a slow network, short enough that nobody waits on a dead one.
DELIVER_TIMEOUT_S = 10.0

PASSPHRASE_ENV = "TRELLIS_PASSPHRASE"  # noqa: S105 - a variable name, not a secret
HOME_ENV = "TRELLIS_HOME"

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


# -- shared helpers ---------------------------------------------------------------


def home_dir(args: argparse.Namespace) -> Path:
    """This device's folder; refused in plain words when it names a file."""
    if args.home:
        home = Path(args.home).expanduser()
    elif env := os.environ.get(HOME_ENV):
        home = Path(env).expanduser()
    else:
        home = Path(platformdirs.user_data_dir("trellis", appauthor=False))
    if home.exists() and not home.is_dir():
        raise HomeError(
            f"{home} is a file, not a folder. Give --home a folder (it is created if it "
            "does not exist yet)."
        )
    return home


def passphrase(*, new: bool) -> str:
    env = os.environ.get(PASSPHRASE_ENV)
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise UsageError(f"No passphrase: set {PASSPHRASE_ENV}, or run this in a terminal.")
    if not new:
        return getpass.getpass("Passphrase: ")
    first = getpass.getpass("Choose a passphrase (it protects everything on this device): ")
    if getpass.getpass("Type it again: ") != first:
        raise UsageError("The two passphrases did not match; nothing was set up.")
    return first


async def open_space(args: argparse.Namespace) -> Space:
    space = await Space.open(home_dir(args), passphrase=passphrase(new=False))
    for notice in space.home_notices:
        print(f"trellis: {notice}", file=sys.stderr)
    return space


def print_json(value: Any) -> None:
    """Every character kept, none a terminal acts on (client/cli/terminal.py)."""
    print(json_text(value))


def resolve_entry(space: Space, prefix: str) -> EventId:
    text = prefix.strip().lower()
    matches = [i.id for i in space.journal(include_retracted=True) if i.id.hex().startswith(text)]
    if len(text) < 4 or not matches:
        raise TrellisError(
            f"No journal entry has an id starting with '{prefix}'.", code=ClientErrorCode.NOT_FOUND
        )
    if len(matches) > 1:
        raise TrellisError(
            f"More than one entry starts with '{prefix}'; give more of the id.",
            code=ClientErrorCode.AMBIGUOUS_ID,
        )
    return matches[0]


def read_text(value: str) -> str:
    text = sys.stdin.read() if value == "-" else value
    text = text.strip()
    if not text:
        raise UsageError("The entry is empty; nothing was saved.")
    if len(text) > MAX_TEXT_CHARS:
        raise UsageError(f"The entry is longer than {MAX_TEXT_CHARS} characters.")
    return text


def parse_when(value: str | None) -> int | None:
    """A moment typed by a person, in this device's zone unless it names one. A date
    alone is a calendar date: the same date in every zone (client/views/moments.py)."""
    if value is None:
        return None
    if len(value.strip()) == len("2026-11-26"):
        day = parse_date(value)
        return None if day is None else calendar_date_ms(day)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"'{value}' is not a date; use a form like 2026-11-26 or 2026-11-26T18:30."
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return as_moment(int(moment.astimezone(UTC).timestamp() * 1000))


def parse_date(value: str | None) -> str | None:
    """A calendar date typed by a person, as ``YYYY-MM-DD``."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise UsageError(f"'{value}' is not a date; use a form like 2026-11-26.") from None


def parse_review_date(value: str | None) -> str | None:
    """A review date: today or later. A date already past would make the agreement due
    for review from the moment it is written, which is never what was meant."""
    text = parse_date(value)
    if text is not None and date.fromisoformat(text) < today_local():
        raise UsageError(
            f"{text} is already past; a review date is today or later (e.g. three months from now)."
        )
    return text


def parse_past_date(value: str | None, what: str) -> str | None:
    """A calendar date of something that already happened: today or earlier."""
    text = parse_date(value)
    if text is not None and date.fromisoformat(text) > today_local():
        raise UsageError(f"{text} is after today; {what} cannot be in the future.")
    return text


def parse_past_when(value: str | None, what: str) -> int | None:
    """A moment of something that already happened: now or earlier (a minute's slack for
    a clock that runs a little ahead)."""
    moment = parse_when(value)
    if moment is not None and is_calendar_date(moment):
        parse_past_date(value, what)  # a date: compared with today's date, not the clock
        return moment
    if moment is not None and moment > now_ms() + 60_000:
        raise UsageError(f"'{value}' is in the future; {what} cannot be in the future.")
    return moment


def read_optional(value: str | None) -> str | None:
    """Optional free text; '-' reads it from stdin."""
    if value is None:
        return None
    text = (sys.stdin.read() if value == "-" else value).strip()
    return text or None


def today_local() -> date:
    return datetime.now().astimezone().date()


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


async def deliver(space: Space, *, timeout_s: float = DELIVER_TIMEOUT_S) -> Delivery:
    """Try to hand what was just saved to the relay, within ``timeout_s``.

    The write is already saved on this device; this only says truthfully whether it
    also reached the relay. Delivered means this device's outbox is empty afterwards:
    nothing else counts, so a refusal or a half-finished sync is never called delivered.
    """
    why: str | None = None
    try:
        async with asyncio.timeout(timeout_s):
            report = await space.sync(timeout_s=timeout_s)
        # The relay's own reason for a refused push (the table the app reads too).
        why = report.refused[0] if report.refused else None
    except TimeoutError:
        why = "timeout"
    except TrellisError as exc:
        why = str(exc.code)
    except OSError:
        why = "relay_unreachable"
    outbox = (await space.status()).outbox
    if outbox == 0:
        return Delivery(delivered=True)
    final = why is not None and after_refusal(why) is AfterRefusal.STOP
    return Delivery(delivered=False, reason=why or "push_refused", final=final)


async def tell_delivery(
    space: Space, args: argparse.Namespace, text: str, *, signal: bool = False
) -> None:
    """Print ``text`` with whether it was delivered; remember a non-delivery in ``args``
    so the command exits with :data:`EXIT_NOT_DELIVERED` (see :func:`exit_code`)."""
    outcome = await deliver(space)
    print(f"{text} {delivery_sentence(outcome, signal=signal)}".strip())
    if not outcome.delivered:
        args.not_delivered = True


def exit_code(args: argparse.Namespace, code: int) -> int:
    """A command's exit code: a success whose write was not delivered is
    :data:`EXIT_NOT_DELIVERED`, so a script can tell "done" from "saved only here"."""
    if code == 0 and getattr(args, "not_delivered", False):
        return EXIT_NOT_DELIVERED
    return code


def by_prefix(items: list[Any], prefix: str, what: str, key: str = "id") -> Any:
    """The one item whose id (attribute ``key``) starts with what the person typed (at
    least 4 characters), or a plain error saying none or several do."""
    text = prefix.strip().lower()
    matches = [i for i in items if getattr(i, key).hex().startswith(text)] if len(text) >= 4 else []
    if not matches:
        raise TrellisError(
            f"No {what} has an id starting with '{prefix}'.", code=ClientErrorCode.NOT_FOUND
        )
    if len(matches) > 1:
        raise TrellisError(
            f"More than one {what} starts with '{prefix}'.", code=ClientErrorCode.AMBIGUOUS_ID
        )
    return matches[0]


def my_member_id(space: Space) -> bytes:
    """This device's member id; a device that has not finished joining is told so."""
    me = space.me()
    if me is None:
        raise TrellisError(
            "This device is not a member yet; run 'trellis sync'.", code=ClientErrorCode.NOT_MEMBER
        )
    return me.member_id


def json_flag(p: argparse.ArgumentParser) -> None:
    """The ``--json`` option every listing command has."""
    p.add_argument("--json", action="store_true", help="print JSON")


def writer_zones(space: Space) -> dict[EventId, str | None]:
    """Each event's writer's time-zone name (``tz`` in its body; None if it has none)."""
    return {e.event_id: e.body.tz for e in space.events()}


def writers_time(space: Space, ms: int, writer: bytes, zone: str | None) -> str:
    """A moment a partner chose, in this device's zone, with the writer's clock when it
    shows another time: "2026-11-27 13:00 (19:00 in Sam's time, Europe/Berlin)"."""
    return in_zones(ms, writer=space.member_name(writer), writer_zone=zone)


def hours_words(hours: float) -> str:
    """ "1 hour", "24 hours", "1.5 hours": how long a code works, in words."""
    return "1 hour" if hours == 1 else f"{hours:g} hours"
