"""Private notes: readable only by their writer's own devices (docs/PROTOCOL.md §5.16).

Theory of operation. The partner must learn nothing about a private note: not its
content, not when it was written, not how many there are. Anything written to the
shared space fails that, even encrypted to the writer alone: the partner's device
receives every envelope of the shared space, so it would see that *something* was
written, when (the relay's order and the writer's seq and Lamport clock), and how large.

So private notes never enter the shared space. Each partner who keeps notes has a
*private space*: a separate space at the same relay, created by the client the first
time a note is written, with

* its own random space id, which the partner's devices never learn;
* its own device keys (a new signing and box key pair per device), so the relay sees
  devices it cannot link to the shared space by key;
* its own space key, generated on the writer's device and only ever delivered to that
  writer's other devices (through a device invite of the private space, shown as a code
  the writer types on their own other device).

The partner's devices never connect to it, never pull from it, and no frame of the
shared space changes because of it (the shared space's chains, seqs and Lamport clocks
are untouched). The relay stays blind exactly as for the shared space: it stores
ciphertext for a space id it cannot tie to a person. Nothing on the relay changed for
this.

On the writer's device, the private space lives in the ``private/`` folder inside the
Trellis home, sealed with the same passphrase: anyone who can unlock the device can
read the notes. A note leaves only when its writer shares it (it becomes an ordinary
journal entry, dated now unless they choose to keep its date) or exports their notes
to a file of their own choosing; ``trellis export`` never reads the private space.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from client.errors import ClientErrorCode, TrellisError
from client.space import Space, devices
from client.space.state import META_VAULT
from client.store.localstore import DB_FILE_NAME
from client.views.fold import causal_order
from client.views.intimacy import IntimacyCheckInView, checkin_view
from schemas.ids import EventId
from schemas.intimacy import (
    IntimacyCheckIn,
    PrivateNote,
    PrivateNoteDeleted,
    PrivateNoteShared,
)
from schemas.payloads import JournalEntry

PRIVATE_DIR = "private"
PRIVATE_SPACE_NAME = "Private notes"
PRIVATE_SYNC_TIMEOUT_S = 10.0


class NoPrivateSpace(TrellisError):
    code = ClientErrorCode.NO_PRIVATE_NOTES


def private_home(home: Path) -> Path:
    return home / PRIVATE_DIR


def has_private_space(home: Path) -> bool:
    return (private_home(home) / DB_FILE_NAME).exists()


async def open_private(shared: Space, passphrase: str, *, create: bool) -> Space:
    """This device's private space, created on first use when ``create`` is set.

    Creating registers a new space at the shared space's relay (its genesis only), with
    a fresh device key pair, so it needs the relay once; nothing of it touches the
    shared space."""
    home = private_home(shared.home)
    if has_private_space(shared.home):
        return await Space.open(home, passphrase=passphrase)
    if not create:
        raise NoPrivateSpace(
            "There are no private notes on this device yet. Write one with 'trellis private add'."
        )
    # Created with the passphrase that opens this device, never with whatever was typed:
    # the app asks for it again in a form, and one typo there sealed every private note
    # to come under a passphrase nobody chose (THREAT_MODEL §29.2). A wrong one counts
    # in the back-off like a wrong unlock.
    sealed = await shared.get_local(META_VAULT)
    if sealed is None:
        raise TrellisError("This device has no saved keys.", code=ClientErrorCode.HOME_ERROR)
    await devices.check_passphrase(shared, passphrase, sealed)
    return await Space.create(
        home, relay_url=shared.endpoint.url, name=PRIVATE_SPACE_NAME, passphrase=passphrase
    )


async def join_private(shared: Space, passphrase: str, code: str) -> Space:
    """Add this device to the writer's private space with a code from their other
    device (a device invite of the private space)."""
    if has_private_space(shared.home):
        raise TrellisError(
            "This device already keeps private notes; there is nothing to link.",
            code=ClientErrorCode.ALREADY_LINKED,
        )
    return await Space.join(
        private_home(shared.home),
        code=code,
        name=PRIVATE_SPACE_NAME,
        passphrase=passphrase,
        relay_url=shared.endpoint.url,
    )


@dataclass(frozen=True, slots=True)
class NoteView:
    id: EventId
    text: str
    tags: tuple[str, ...]
    recorded_at: int
    occurred_at: int
    shared_as: EventId | None
    deleted: bool


@dataclass
class PrivateViews:
    notes: list[NoteView]
    checkins: list[IntimacyCheckInView]


def fold_private(private: Space) -> PrivateViews:
    """Notes (with whether each was shared or deleted) and private check-ins.

    Only events of the private space's own member count; it has no other."""
    me = private.me()
    notes: dict[EventId, NoteView] = {}
    checkins: list[IntimacyCheckInView] = []
    for event in causal_order(private.events()):
        member = private.membership.member_of(event.author)
        if me is None or member is None or member.member_id != me.member_id:
            continue
        p = event.payload
        if isinstance(p, PrivateNote):
            notes[event.event_id] = NoteView(
                event.event_id,
                p.text,
                tuple(p.tags),
                event.body.recorded_at,
                event.body.occurred_at,
                None,
                False,
            )
        elif isinstance(p, PrivateNoteShared | PrivateNoteDeleted):
            note = notes.get(EventId(p.note))
            if note is None:
                continue
            if isinstance(p, PrivateNoteShared):
                notes[note.id] = replace(note, shared_as=EventId(p.shared_as))
            else:
                notes[note.id] = replace(note, deleted=True)
        elif isinstance(p, IntimacyCheckIn):
            checkins.append(checkin_view(event, member.member_id, p))
    return PrivateViews(list(notes.values()), checkins)


def find_note(views: PrivateViews, prefix: str) -> NoteView:
    text = prefix.strip().lower()
    matches = [n for n in views.notes if n.id.hex().startswith(text)] if len(text) >= 4 else []
    if len(matches) != 1:
        raise TrellisError(
            f"No single private note has an id starting with '{prefix}'.",
            code=ClientErrorCode.NOT_FOUND if not matches else "ambiguous_id",
        )
    return matches[0]


async def share_note(shared: Space, private: Space, note: NoteView, *, keep_date: bool) -> EventId:
    """Copy a note into the shared space as an ordinary journal entry.

    Dated now unless ``keep_date``: the partner then learns when it was written, which
    is the writer's choice to make. The private space records that it was shared."""
    entry = await shared.append(
        JournalEntry(text=note.text, tags=list(note.tags)),
        occurred_at=note.occurred_at if keep_date else None,
    )
    await private.append(PrivateNoteShared(note=note.id, shared_as=entry.event_id))
    return entry.event_id
