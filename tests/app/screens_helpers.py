"""Two partners' apps in this test's event loop, paired through a real relay, each
reached with httpx as its browser would: for the practice screens' HTTP-level tests."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import httpx

from client.app.state import AppState
from client.space import Space
from tests.app.inprocess import ORIGIN, app_client, csrf_of, post, sign_in
from tests.integration.pairing import PASSPHRASE, pair


@dataclass
class Partner:
    """One partner's running app and the browser-like client that talks to it."""

    state: AppState
    client: httpx.AsyncClient
    csrf: str

    @property
    def space(self) -> Space:
        return self.state.require()

    async def get(self, path: str) -> str:
        answer = await self.client.get(path, follow_redirects=True)
        assert answer.status_code == 200, (path, answer.status_code)
        return unescape(answer.text)

    async def send(self, path: str, data: dict[str, str] | list[tuple[str, str]]) -> str:
        """Post a form as the page does (token, Origin) and return the page it leads to,
        with the sentence the app shows once."""
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        answer = await _post_fields(self.client, path, [("csrf", self.csrf), *fields])
        assert answer.status_code == 303, (path, answer.status_code, answer.text[:300])
        return await self.get(answer.headers["location"])


async def _post_fields(
    client: httpx.AsyncClient, path: str, fields: list[tuple[str, str]]
) -> httpx.Response:
    """A form with repeated fields (clauses, checkboxes), encoded as a browser does."""
    return await client.post(
        path,
        content=urlencode(fields).encode(),
        headers={
            "Origin": ORIGIN,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


async def _open(stack: AsyncExitStack, home: Path) -> Partner:
    state, client = await stack.enter_async_context(app_client(home))
    await sign_in(state, client)
    csrf = csrf_of((await client.get("/unlock")).text)
    answer = await post(client, "/unlock", {"csrf": csrf, "passphrase": PASSPHRASE})
    assert answer.headers["location"] == "/today"
    return Partner(state, client, csrf)


@asynccontextmanager
async def two_partners(tmp_path: Path, relay_url: str) -> AsyncIterator[tuple[Partner, Partner]]:
    """Alex and Blake paired, each with their app unlocked and syncing live."""
    alex_space, blake_space = await pair(tmp_path, relay_url)
    await alex_space.close()
    await blake_space.close()
    async with AsyncExitStack() as stack:
        alex = await _open(stack, tmp_path / "alex")
        blake = await _open(stack, tmp_path / "blake")
        yield alex, blake


async def arrives(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Wait until ``check`` holds: the partner's event has come over the live session."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():
        assert loop.time() < deadline, "the partner's event did not arrive"
        await asyncio.sleep(0.05)


def flash(html: str) -> str:
    """The sentence the app showed once after a form."""
    found = re.search(r'<p class="flash[^"]*" role="[a-z]+">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def hex_ids(html: str, prefix: str) -> list[str]:
    return re.findall(prefix + r"([0-9a-f]{64})", html)
