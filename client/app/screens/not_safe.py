"""Not safe?: guidance for a partner who feels afraid or pressured, their own saved
resources, and what leaving quietly shows the partner (docs/THREAT_MODEL.md §25).

Reachable from every page, locked or not (it needs no passphrase), and it writes,
sends and logs nothing. The resources are the ones ``trellis not-safe --add`` saved
(client/store/not_safe_resources.py); the app only shows them."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from client.app.screen import App, Screen, page
from client.store.not_safe_resources import load_resources


@get("/not-safe")
async def not_safe(app: App) -> Response[Any]:
    return page(
        app,
        "not_safe/not_safe.html",
        current="/not-safe",
        resources=load_resources(app.home),
        home=str(app.home),
    )


SCREEN = Screen(handlers=[not_safe])
