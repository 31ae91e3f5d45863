"""``trellis private`` (notes only your own devices can read) and ``trellis not-safe``
(docs/PROTOCOL.md §5.16, §5.17).

The "Not safe?" page opens without the passphrase, writes nothing, syncs nothing and
logs nothing, except when the person adds or removes one of their own resources. Every
command's help points to it (client/cli/help_texts.py ``point_every_help_to_not_safe``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from pathlib import Path
from typing import Any

from client.cli.common import (
    UsageError,
    home_dir,
    hours_words,
    open_space,
    passphrase,
    print_json,
    read_text,
    tell_delivery,
)
from client.cli.help_texts import NOT_SAFE_POINTER as NOT_SAFE_POINTER  # tests name it here
from client.errors import ClientErrorCode, TrellisError
from client.space import Space, private_notes
from client.store.not_safe_resources import (
    MAX_RESOURCE_CHARS,
    MAX_RESOURCES,
    RESOURCES_FILE,
    load_resources,
)
from client.views.present import iso_utc, local_time
from schemas.intimacy import PrivateNote, PrivateNoteDeleted

PRIVATE_WORDS = (
    "Only your own devices can read private notes. Anyone with your unlocked device can."
)


# -- private notes ----------------------------------------------------------------


async def _sync_quietly(private: Space) -> bool:
    with contextlib.suppress(TrellisError, TimeoutError):
        await asyncio.wait_for(private.sync(), private_notes.PRIVATE_SYNC_TIMEOUT_S)
        return True
    return False


async def cmd_private_add(args: argparse.Namespace) -> int:
    text = read_text(args.text)
    async with await open_space(args) as space:
        private = await private_notes.open_private(space, passphrase(new=False), create=True)
        async with private:
            event = await private.append(PrivateNote(text=text, tags=list(args.tag or [])))
            synced = await _sync_quietly(private)
        where = (
            "and on your other linked devices" if synced else "(your other devices get it later)"
        )
        print(f"Saved privately on this device {where} ({event.event_id.hex()[:8]}).")
        print(PRIVATE_WORDS)
    return 0


async def _open_private(args: argparse.Namespace, space: Space) -> Space:
    return await private_notes.open_private(space, passphrase(new=False), create=False)


def _note_json(note: private_notes.NoteView) -> dict[str, Any]:
    return {
        "id": note.id.hex(),
        "text": note.text,
        "tags": list(note.tags),
        "recorded_at": iso_utc(note.recorded_at),
        "shared": note.shared_as is not None,
        "shared_as": None if note.shared_as is None else note.shared_as.hex(),
        "deleted": note.deleted,
    }


async def cmd_private_list(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        if not private_notes.has_private_space(space.home):
            if args.json:
                print_json([])
            else:
                print("No private notes yet.")
            return 0
        async with await _open_private(args, space) as private:
            await _sync_quietly(private)
            notes = [
                n for n in private_notes.fold_private(private).notes if args.all or not n.deleted
            ]
        if args.json:
            print_json([_note_json(n) for n in notes])
            return 0
        print(PRIVATE_WORDS)
        for n in notes:
            flag = " (shared)" if n.shared_as else " (removed)" if n.deleted else ""
            print(f"{local_time(n.recorded_at)}  [{n.id.hex()[:8]}]{flag}")
            print("\n".join("    " + line for line in n.text.splitlines()))
    return 0


async def cmd_private_share(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        async with await _open_private(args, space) as private:
            note = private_notes.find_note(private_notes.fold_private(private), args.id)
            if note.shared_as is not None and not args.again:
                raise TrellisError(
                    "This note is already shared; add --again to share it once more.",
                    code=ClientErrorCode.ALREADY_SHARED,
                )
            entry = await private_notes.share_note(space, private, note, keep_date=args.keep_date)
            await _sync_quietly(private)
        dated = "with the date you wrote it" if args.keep_date else "dated today"
        # Said truthfully, like every write: delivered to the relay, or saved here only.
        await tell_delivery(
            space,
            args,
            f"Shared into your space as a journal entry ({entry.hex()[:8]}), {dated}. "
            "Shared entries stay in the history.",
        )
    return 0


async def cmd_private_delete(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        async with await _open_private(args, space) as private:
            note = private_notes.find_note(private_notes.fold_private(private), args.id)
            await private.append(PrivateNoteDeleted(note=note.id))
            await _sync_quietly(private)
        print("Removed from your private notes on all your devices.")
    return 0


async def cmd_private_sync(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        async with await _open_private(args, space) as private:
            report = await private.sync()
        print(f"Private notes up to date: {report.received} new, {report.acknowledged} sent.")
    return 0


async def cmd_private_link(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        private = await private_notes.open_private(space, passphrase(new=False), create=True)
        async with private:
            code = await private.invite(ttl_s=int(args.hours * 3600), kind="device")
        print(
            "On your other device (already in your shared space), run "
            "'trellis private join CODE' with this code. Keep it to yourself: it opens your "
            f"private notes. It works once and expires in {hours_words(args.hours)}."
        )
        print(code)
    return 0


async def cmd_private_join(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        private = await private_notes.join_private(space, passphrase(new=False), args.code)
        async with private:
            await _sync_quietly(private)
            count = len(private_notes.fold_private(private).notes)
        print(f"This device now keeps your private notes too ({count} so far).")
    return 0


async def cmd_private_export(args: argparse.Namespace) -> int:
    async with await open_space(args) as space:
        async with await _open_private(args, space) as private:
            notes = [n for n in private_notes.fold_private(private).notes if not n.deleted]
        out = Path(args.out)
        data = json.dumps([_note_json(n) for n in notes], ensure_ascii=False, indent=2)
        await asyncio.to_thread(out.write_text, data + "\n", "utf-8")
        print(f"Wrote {len(notes)} private notes to {out}. Whoever holds that file can read them.")
    return 0


# -- "Not safe?" --------------------------------------------------------------------


NOT_SAFE_TEXT = """\
Not safe?

If you are in danger right now, call your local emergency number.

If you feel afraid of your partner, or pressured to share, to consent, or to use
this app: your safety comes first. Nothing in Trellis can be required of you. You
never owe a check-in, a disclosure, a reason or a yes. Stepping back, withdrawing
consent and saying stop always work, alone, at once.

A couples therapist can also see each of you on your own; you can ask for that.
Talking to someone outside the relationship is not a betrayal.

Keeping this device safe:
  - If your partner may know your passphrase, change it: 'trellis passphrase change'.
  - 'trellis devices' lists every device in the space; one you do not recognise can
    read what is shared.
  - Private notes are readable by anyone who can unlock this device.
  - What you write carries this device's time zone (like Europe/Berlin). If your
    partner must not learn where you are, run Trellis as 'TZ=UTC trellis ...'.

Leaving quietly, and what your partner sees:
  - Simply stop using Trellis: nothing is sent. Your partner is not told; they only
    see that nothing new arrives from you.
  - Delete this device's Trellis folder ({home}): removes your copy and your private
    notes from this device. Your partner is not told. They keep everything you
    already shared.
  - 'trellis leave --yes': your partner sees "left the space", with the time, at
    their next sync. Your devices stop syncing. Your partner keeps everything shared
    so far; your private notes are never sent.

This page wrote nothing, sent nothing and logged nothing.
"""


def _resources_path(args: argparse.Namespace) -> Path:
    return home_dir(args) / RESOURCES_FILE


def _load_resources(path: Path) -> list[str]:
    return load_resources(path.parent)  # the one reader, shared with the app


def _save_resources(path: Path, resources: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(resources, ensure_ascii=False, indent=2) + "\n", "utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


async def cmd_not_safe(args: argparse.Namespace) -> int:
    path = _resources_path(args)
    resources = _load_resources(path)
    if args.add is not None or args.remove is not None:
        if args.add is not None:
            text = " ".join(args.add.split())
            if not text or len(text) > MAX_RESOURCE_CHARS:
                raise UsageError(f"A resource is 1 to {MAX_RESOURCE_CHARS} characters.")
            if len(resources) >= MAX_RESOURCES:
                raise UsageError(f"There are already {MAX_RESOURCES} resources; remove one first.")
            resources.append(text)
        if args.remove is not None:
            if not 1 <= args.remove <= len(resources):
                raise UsageError(f"There is no resource number {args.remove}.")
            del resources[args.remove - 1]
        await asyncio.to_thread(_save_resources, path, resources)
    home = str(home_dir(args))
    if args.json:
        print_json({"text": NOT_SAFE_TEXT.format(home=home), "resources": resources})
        return 0
    print(NOT_SAFE_TEXT.format(home=home))
    print("Your resources:" if resources else "Your resources: none yet. Add your own with")
    if not resources:
        print("  trellis not-safe --add 'Local helpline: <number>'")
    for i, r in enumerate(resources, 1):
        print(f"  {i}. {r}")
    return 0


def register(sub: Any) -> None:
    private = sub.add_parser(
        "private", help="notes only your own devices can read; your partner never sees them"
    ).add_subparsers(dest="private_command", required=True, metavar="ACTION")
    p = private.add_parser("add", help="write a private note ('-' reads it from stdin)")
    p.add_argument("text")
    p.add_argument("--tag", action="append", help="a tag; repeat for more")
    p.set_defaults(handler=cmd_private_add)
    p = private.add_parser("list", help="your private notes")
    p.add_argument("--json", action="store_true", help="print one JSON array")
    p.add_argument("--all", action="store_true", help="include removed notes")
    p.set_defaults(handler=cmd_private_list)
    p = private.add_parser("share", help="share a private note into your space, as a journal entry")
    p.add_argument("id", help="the note's id, or its first characters")
    p.add_argument(
        "--keep-date", action="store_true", help="date it when you wrote it (otherwise: now)"
    )
    p.add_argument("--again", action="store_true", help="share a note shared before once more")
    p.set_defaults(handler=cmd_private_share)
    p = private.add_parser("delete", help="remove a private note from your notes")
    p.add_argument("id", help="the note's id, or its first characters")
    p.set_defaults(handler=cmd_private_delete)
    p = private.add_parser("sync", help="sync your private notes between your own devices")
    p.set_defaults(handler=cmd_private_sync)
    p = private.add_parser("link", help="a code that lets your other device read your notes")
    p.add_argument("--hours", type=float, default=1.0, help="how long the code works (default 1)")
    p.set_defaults(handler=cmd_private_link)
    p = private.add_parser("join", help="read your private notes on this device too")
    p.add_argument("code", help="the code from 'trellis private link' on your other device")
    p.set_defaults(handler=cmd_private_join)
    p = private.add_parser("export", help="write your private notes to a file you choose")
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_private_export)

    p = sub.add_parser(
        "not-safe", help="if you feel afraid or pressured: guidance, your resources, leaving"
    )
    p.add_argument("--add", metavar="TEXT", help="add a resource (a therapist, a local hotline)")
    p.add_argument("--remove", type=int, metavar="N", help="remove resource number N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_not_safe)
