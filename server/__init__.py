"""The Trellis relay: a blind store-and-forward service for end-to-end encrypted logs.

The relay keeps each space's envelopes in arrival order, checks what it can see (who
signed, whether the author's chain continues) and forwards them to the partner's
devices. It cannot read a payload and never tries (docs/THREAT_MODEL.md).

Theory of operation, one module per job:

    settings.py      every tunable, with its default and help text
    cli.py           ``trellis-relay``: flags/env -> Settings -> uvicorn
    app.py           ``create_app(settings)``: routes, lifespan, error mapping
    errors.py        RelayError, the one exception root, carrying a stable code
    ingest.py        sans-I/O envelope checks and author-chain rules
    session.py       sans-I/O state machine of one sync connection
    writer.py        the single writer task: group commit, then acks and fan-out
    hub.py           in-process fan-out of committed events to connected devices
    store.py         the Store interface (small enough for a PostgreSQL twin)
    sqlite_store.py  the aiosqlite implementation, numbered SQL migrations
    http_api.py      HTTP endpoints: spaces (http_invites.py: invites; http_health.py)
    membership.py    sans-I/O checks of genesis, invite and redemption requests
    sync.py          the websocket shell that feeds session.py
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("trellis")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"
