"""The Trellis client library and CLI: one device's view of one shared space.

What an app needs is importable from here::

    from client import Space, TrellisError, payloads

    space = await Space.open(home, passphrase=passphrase)
    await space.append(payloads.JournalEntry(text="A quiet, good day.", mood=4))

The names load on first use (PEP 562), so ``trellis --help``, which imports this
package, stays light: nothing of asyncio, SQLite or libsodium is loaded until an app or
a command asks for :class:`Space`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from client.errors import (
        ClientErrorCode,
        HomeError,
        InviteCodeError,
        PassphraseError,
        RelayCertificateError,
        RelayProtocolError,
        RelayRefused,
        RelayUnreachable,
        TrellisError,
        UsageError,
    )
    from client.space import DeviceView, MemberView, Space, Status, SyncReport
    from schemas import payloads

_WHERE: dict[str, str] = {
    "Space": "client.space",
    "SyncReport": "client.space",
    "Status": "client.space",
    "MemberView": "client.space",
    "DeviceView": "client.space",
    "ClientErrorCode": "client.errors",
    "TrellisError": "client.errors",
    "UsageError": "client.errors",
    "PassphraseError": "client.errors",
    "HomeError": "client.errors",
    "InviteCodeError": "client.errors",
    "RelayUnreachable": "client.errors",
    "RelayCertificateError": "client.errors",
    "RelayRefused": "client.errors",
    "RelayProtocolError": "client.errors",
}

__all__ = [
    "ClientErrorCode",
    "DeviceView",
    "HomeError",
    "InviteCodeError",
    "MemberView",
    "PassphraseError",
    "RelayCertificateError",
    "RelayProtocolError",
    "RelayRefused",
    "RelayUnreachable",
    "Space",
    "Status",
    "SyncReport",
    "TrellisError",
    "UsageError",
    "payloads",
]


def __getattr__(name: str) -> Any:
    if name == "payloads":
        return importlib.import_module("schemas.payloads")
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'client' has no attribute {name!r}")
    return getattr(importlib.import_module(where), name)
