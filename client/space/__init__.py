"""The client library: one device's view of one shared space.

An app embeds this without the CLI::

    space = await Space.create(home, relay_url="http://127.0.0.1:8765", name="Sam",
                               passphrase=passphrase)
    code = await space.invite()
    await space.append(JournalEntry(text="Went for a walk."))
    await space.sync()
    for item in space.journal():
        ...
    await space.close()

Writing is local-first: :meth:`Space.append` stores the signed, encrypted event and
queues it; :meth:`Space.sync` pushes and pulls. Everything received passes the
verifier before it is stored or shown (docs/PROTOCOL.md §9).

The package, by flow (each module's docstring says more): ``facade`` (the
:class:`Space` class and its read API), ``state`` (what an open space holds),
``opening``, ``writing``, ``syncing``, ``pairing``, ``devices``, ``relocation``,
``private_notes``, ``exporting``; ``reports`` (the plain results) and ``ports`` (the
:class:`~client.space.ports.SpaceLike` protocol the outer flows take).
"""

from __future__ import annotations

from client.space.facade import Space
from client.space.ports import SpaceLike
from client.space.reports import DeviceView, MemberView, Status, SyncReport

__all__ = ["DeviceView", "MemberView", "Space", "SpaceLike", "Status", "SyncReport"]
