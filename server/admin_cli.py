"""``trellis-relay spaces | quota | delete-space``: the operator's tools on the server.

    trellis-relay spaces [--json]                         every space: ids and numbers
    trellis-relay quota SPACE_ID --max-bytes N --max-events N   one space's own quota
    trellis-relay quota SPACE_ID --default                      back to the relay's
    trellis-relay delete-space SPACE_ID [--yes]           erase one space (erasure request)

While the relay runs, each command asks it through the operator listener (with the
token in ``<db>.operator-token``), so the running relay forgets a deleted space at once,
ends its connections and applies a quota from the next push. When nothing answers
there, the relay is stopped and the command opens the database itself. Either way the
work is the same code (server/admin.py). With ``operator_port = 0``, stop the relay
before changing anything.

``delete-space`` asks the operator to type the start of the space id back before it
erases anything (``--yes`` skips that, for scripts) and logs one line naming the space.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from schemas.ids import SpaceId
from server import admin
from server.ingest import Quota
from server.operator import token_path
from server.settings import Settings
from server.sqlite_store import SqliteStore
from server.startup import EXIT_PROBLEMS, EXIT_SETUP

T = TypeVar("T")
CONFIRM_CHARS = 8
HTTP_TIMEOUT_S = 60.0


class AdminProblem(Exception):
    def __init__(self, message: str, exit_status: int = EXIT_PROBLEMS) -> None:
        super().__init__(message)
        self.exit_status = exit_status


def add_commands(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register the three subcommands; ``common`` adds --config and --db."""
    spaces = commands.add_parser(
        "spaces",
        help="list every space with its size, devices and last activity (ids and numbers)",
    )
    spaces.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    common(spaces)
    quota = commands.add_parser(
        "quota",
        help="set one space's own storage quota (0 means no limit)",
        description="Give one space a quota of its own, instead of max_space_events and "
        "max_space_bytes; --default returns it to those.",
    )
    quota.add_argument("space_id", metavar="SPACE_ID", help="32 hex digits, as `spaces` shows")
    quota.add_argument("--max-bytes", type=int, metavar="N", help="bytes of envelopes")
    quota.add_argument("--max-events", type=int, metavar="N", help="events")
    quota.add_argument("--default", action="store_true", help="use the relay's settings again")
    common(quota)
    delete = commands.add_parser(
        "delete-space",
        help="erase one space and everything the relay holds of it (an erasure request)",
        description="Erase a space's envelopes, invites, devices and quota from the "
        "database and its write-ahead log. Backups taken earlier still hold it: see "
        "docs/OPERATIONS.md section 12.",
    )
    delete.add_argument("space_id", metavar="SPACE_ID", help="32 hex digits, as `spaces` shows")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    common(delete)


def parse_space_id(text: str) -> SpaceId:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raw = b""
    if len(raw) != 16:
        raise AdminProblem(
            f"{text!r} is not a space id; a space id is 32 hex digits, as "
            "`trellis-relay spaces` shows",
            EXIT_SETUP,
        )
    return SpaceId(raw)


# --- two ways to reach the database ------------------------------------------------------


def _operator_call(
    settings: Settings, method: str, path: str, body: dict[str, Any] | None = None
) -> Any | None:
    """The running relay's answer, or None when no relay answers on the operator port."""
    if not settings.operator_port:
        return None
    try:
        token = token_path(settings.db).read_text().strip()
    except OSError:
        return None
    host = settings.operator_host
    if ":" in host:
        host = f"[{host}]"
    request = urllib.request.Request(
        f"http://{host}:{settings.operator_port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as resp:  # noqa: S310
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            try:
                detail = json.loads(exc.read()).get("detail", "")
            except ValueError:
                detail = ""
        if exc.code == 404:
            raise AdminProblem(f"the relay has no such space ({detail})") from None
        raise AdminProblem(f"the relay refused: {detail or exc.reason}") from None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _offline(settings: Settings, op: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
    """Run ``op`` on the database itself (the relay is stopped)."""
    if not Path(settings.db).is_file():
        raise AdminProblem(f"there is no database at {Path(settings.db).resolve()}", EXIT_SETUP)
    return asyncio.run(_on_store(settings.db, op))


async def _on_store(db: str, op: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
    store = SqliteStore(db, 1)
    await store.open()
    try:
        return await store.run_on_writer(op)
    finally:
        await store.close()


def _summaries(settings: Settings) -> list[dict[str, Any]]:
    online = _operator_call(settings, "GET", "/admin/spaces")
    if online is not None:
        return list(online)
    spaces = _offline(settings, admin.list_spaces)
    return [{name: getattr(s, name) for name in s.__slots__} for s in spaces]


# --- the commands ----------------------------------------------------------------------------


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms / 1000))


def run_spaces(settings: Settings, *, as_json: bool) -> int:
    spaces = _summaries(settings)
    if as_json:
        print(json.dumps(spaces, indent=1))
        return 0
    print(
        f"{'space id':32}  {'bytes':>12}  {'events':>8}  {'devices':>7}  "
        f"{'created (UTC)':16}  {'last entry (UTC)':16}  quota"
    )
    for s in spaces:
        quota = "default"
        if s["max_bytes"] is not None:
            quota = f"{s['max_bytes']} bytes, {s['max_events']} events"
        print(
            f"{s['space_id']:32}  {s['bytes']:>12}  {s['events']:>8}  "
            f"{s['active_devices']:>3}/{s['devices']:<3}  {_when(s['created_at_ms']):16}  "
            f"{_when(s['last_entry_at_ms']):16}  {quota}"
        )
    total = sum(s["bytes"] for s in spaces)
    print(f"{len(spaces)} spaces, {total} bytes of envelopes (devices: active/all)")
    return 0


def run_quota(
    settings: Settings,
    space_text: str,
    *,
    max_bytes: int | None,
    max_events: int | None,
    default: bool,
) -> int:
    space = parse_space_id(space_text)
    if default == (max_bytes is not None or max_events is not None):
        raise AdminProblem("give --max-bytes and --max-events, or --default", EXIT_SETUP)
    quota: Quota | None = None
    if not default:
        values = (
            settings.max_space_events if max_events is None else max_events,
            settings.max_space_bytes if max_bytes is None else max_bytes,
        )
        if min(values) < 0:
            raise AdminProblem("quotas are 0 (no limit) or more", EXIT_SETUP)
        quota = Quota(*values)
    body: dict[str, Any] = (
        {"default": True}
        if quota is None
        else {"max_events": quota.max_events, "max_bytes": quota.max_bytes}
    )
    online = _operator_call(settings, "POST", f"/admin/spaces/{space.hex()}/quota", body)
    if online is None:
        found = _offline(settings, lambda db: admin.set_quota(db, space, quota))
        if not found:
            raise AdminProblem(f"the relay has no space {space.hex()}")
    if quota is None:
        print(f"space {space.hex()} now has the relay's default quota")
    else:
        print(
            f"space {space.hex()} may now hold {quota.max_bytes} bytes and "
            f"{quota.max_events} events (0: no limit)"
        )
    return 0


def run_delete(settings: Settings, space_text: str, *, yes: bool) -> int:
    space = parse_space_id(space_text)
    found = [s for s in _summaries(settings) if s["space_id"] == space.hex()]
    if not found:
        raise AdminProblem(f"the relay has no space {space.hex()}")
    summary = found[0]
    if not yes:
        if not sys.stdin.isatty():
            raise AdminProblem(
                "not asking for confirmation without a terminal; add --yes to delete", EXIT_SETUP
            )
        print(
            f"This erases space {space.hex()}: {summary['events']} entries "
            f"({summary['bytes']} bytes) and its {summary['devices']} devices. It cannot be "
            "undone, and both partners lose their copy on this relay."
        )
        answer = input(f"Type the first {CONFIRM_CHARS} characters of the space id to go on: ")
        if answer.strip().lower() != space.hex()[:CONFIRM_CHARS]:
            print("Nothing was deleted.")
            return EXIT_PROBLEMS
    online = _operator_call(settings, "POST", f"/admin/spaces/{space.hex()}/delete", {})
    if online is None:
        deleted = _offline(settings, lambda db: admin.delete_space(db, space))
        if deleted is None:
            raise AdminProblem(f"the relay has no space {space.hex()}")
    print(
        f"deleted space {space.hex()} from the database and its write-ahead log; backups "
        "taken before now still hold it (docs/OPERATIONS.md section 12)"
    )
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        match args.command:
            case "spaces":
                return run_spaces(settings, as_json=args.json)
            case "quota":
                return run_quota(
                    settings,
                    args.space_id,
                    max_bytes=args.max_bytes,
                    max_events=args.max_events,
                    default=args.default,
                )
            case _:
                return run_delete(settings, args.space_id, yes=args.yes)
    except AdminProblem as exc:
        print(f"trellis-relay {args.command}: {exc}", file=sys.stderr)
        return exc.exit_status
