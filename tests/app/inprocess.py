"""The app in this test's own event loop, reached with httpx: for rules that need no
browser (the gate, locking). Cheaper than a browser and exact about headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from client.app.security import Access
from client.app.server import create_app
from client.app.state import AppState

PORT = 48123
"""Any port: nothing listens in-process; the gate only compares it with Host."""
ORIGIN = f"http://127.0.0.1:{PORT}"


@asynccontextmanager
async def app_client(home: Path) -> AsyncIterator[tuple[AppState, httpx.AsyncClient]]:
    """A fresh app for ``home`` and a client that has not redeemed the token yet."""
    state = AppState(home=home, access=Access(port=PORT))
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        try:
            yield state, client
        finally:
            await state.stop()


async def sign_in(state: AppState, client: httpx.AsyncClient) -> None:
    """Redeem the one-time token as the browser does on its first visit."""
    token = state.access.start_url().split("token=", 1)[1]
    answer = await client.get(f"/?token={token}")
    assert answer.status_code == 303


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "every page carries the anti-forgery token"
    return found.group(1)


async def post(
    client: httpx.AsyncClient, path: str, data: dict[str, str], *, origin: str | None = ORIGIN
) -> httpx.Response:
    headers = {} if origin is None else {"Origin": origin}
    return await client.post(path, data=data, headers=headers)


async def unlock(client: httpx.AsyncClient, passphrase: str) -> str:
    """Unlock through the page as a partner does; the page's anti-forgery token."""
    csrf = csrf_of((await client.get("/unlock")).text)
    await post(client, "/unlock", {"csrf": csrf, "passphrase": passphrase})
    return csrf
