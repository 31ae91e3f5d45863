"""Helpers shared by the ``trellis`` command modules: home folder, passphrase, output,
dates and ids typed by people."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import platformdirs

from client.errors import ClientErrorCode, TrellisError
from client.errors import UsageError as UsageError  # its home was here; cli modules import it
from client.space import Space
from schemas.ids import EventId
from schemas.payloads import MAX_TEXT_CHARS

PASSPHRASE_ENV = "TRELLIS_PASSPHRASE"  # noqa: S105 - a variable name, not a secret
HOME_ENV = "TRELLIS_HOME"

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


# -- shared helpers ---------------------------------------------------------------


def home_dir(args: argparse.Namespace) -> Path:
    if args.home:
        return Path(args.home).expanduser()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("trellis", appauthor=False))


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
    print(json.dumps(value, ensure_ascii=False, indent=2))


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
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"'{value}' is not a date; use a form like 2026-11-26 or 2026-11-26T18:30."
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return int(moment.astimezone(UTC).timestamp() * 1000)


def parse_date(value: str | None) -> str | None:
    """A calendar date typed by a person, as ``YYYY-MM-DD``."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise UsageError(f"'{value}' is not a date; use a form like 2026-11-26.") from None


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
