"""The lock and a partner who is writing, in a real browser (Debian's Chromium driven
by Playwright, real ``trellis app`` processes, a real relay): typing keeps the app
open; when it locks anyway, the text is kept under the lock card and comes back on
unlock; without script, the refused form comes back after unlock; two tabs follow one
lock, and a quick exit in one ends both (docs/THREAT_MODEL.md §27)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from client.app.state import META_IDLE_LOCK
from client.keys.vault import CHEAP_COST
from client.space import Space
from tests.app.app_process import AppProcess
from tests.integration.relay_process import RelayProcess

PASSPHRASE = "a long and private passphrase"
IDLE_LOCK_S = 4
"""The quick app's idle lock: its page sends a keep-alive every second while typing."""
WRITING = "I want to tell you about last night. It is hard to write,"


async def _home(home: Path, relay_url: str, idle_lock_s: int | None) -> None:
    space = await Space.create(
        home, relay_url=relay_url, name="Alex", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    )
    if idle_lock_s is not None:
        await space.put_local({META_IDLE_LOCK: str(idle_lock_s).encode()})
    await space.close()


@pytest.fixture(scope="module")
def apps(
    relay: RelayProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, AppProcess]]:
    """``quick`` locks after 4 s without use; ``calm`` keeps the default 5 minutes."""
    folder = tmp_path_factory.mktemp("lock")
    # In a thread of its own: Playwright's sync API may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _home(folder / "quick", relay.url, IDLE_LOCK_S)).result()
        pool.submit(asyncio.run, _home(folder / "calm", relay.url, None)).result()
    started = {name: AppProcess(folder / name).start() for name in ("quick", "calm")}
    try:
        yield started
    finally:
        for app in started.values():
            app.stop()


@pytest.fixture(scope="module")
def contexts(browser: Browser, apps: dict[str, AppProcess]) -> Iterator[dict[str, BrowserContext]]:
    """One signed-in browser context per app (the URL token works once)."""
    made = {name: browser.new_context(viewport={"width": 900, "height": 800}) for name in apps}
    try:
        for name, context in made.items():
            page = context.new_page()
            page.goto(apps[name].start_url)
            _unlock(page, apps[name])
            page.close()
        yield made
    finally:
        for context in made.values():
            context.close()


@pytest.fixture(autouse=True)
def _screenshots_on_failure(
    request: pytest.FixtureRequest, contexts: dict[str, BrowserContext]
) -> None:
    request.node.open_pages = lambda: {
        f"{name}-{i}": page
        for name, context in contexts.items()
        for i, page in enumerate(context.pages)
    }


def _unlock(page: Page, app: AppProcess) -> None:
    if page.url.endswith("/unlock"):
        page.get_by_label("Passphrase").fill(PASSPHRASE)
        page.get_by_role("button", name="Unlock").click()
        expect(page).to_have_url(f"{app.origin}/today")


def _open(context: BrowserContext, app: AppProcess, path: str) -> Page:
    page = context.new_page()
    page.goto(f"{app.origin}{path}")
    _unlock(page, app)
    if not page.url.endswith(path):
        page.goto(f"{app.origin}{path}")
    expect(page).to_have_url(f"{app.origin}{path}")
    return page


def test_typing_keeps_the_app_open(
    apps: dict[str, AppProcess], contexts: dict[str, BrowserContext]
) -> None:
    page = _open(contexts["quick"], apps["quick"], "/journal")
    box = page.get_by_label("What would you like to share?")
    box.click()
    deadline = time.monotonic() + IDLE_LOCK_S * 2
    while time.monotonic() < deadline:  # twice the idle time, typing all along
        box.press_sequentially("a few words ", delay=40)
        page.wait_for_timeout(300)
    expect(page.get_by_role("heading", name="Journal")).to_be_visible()
    expect(page.locator("#lock-card")).to_have_count(0)
    page.reload()
    expect(page).to_have_url(f"{apps['quick'].origin}/journal")  # not locked
    page.close()


def test_the_lock_keeps_what_was_being_written(
    apps: dict[str, AppProcess], contexts: dict[str, BrowserContext]
) -> None:
    app = apps["quick"]
    page = _open(contexts["quick"], app, "/journal")
    page.get_by_label("What would you like to share?").fill(WRITING)
    page.get_by_text("2 · low").click()
    # Then nobody touches it: the idle lock comes, the page's content leaves, the card asks.
    card = page.locator("#lock-card")
    expect(card).to_be_visible(timeout=(IDLE_LOCK_S + 6) * 1000)
    expect(page).to_have_url(f"{app.origin}/journal")
    assert page.locator("textarea").count() == 0
    assert page.locator("#entries").count() == 0
    assert WRITING not in page.content()
    assert page.evaluate("window.localStorage.length + window.sessionStorage.length") == 0

    page.get_by_label("Passphrase").fill("not the passphrase")
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(card).to_be_visible()
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Unlock").click()
    box = page.get_by_label("What would you like to share?")
    expect(box).to_have_value(WRITING)
    expect(page.get_by_text("2 · low").locator("input")).to_be_checked()
    expect(page.get_by_role("status").first).to_contain_text("What you were writing is back")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#entries")).to_contain_text(WRITING)
    page.close()


def test_without_script_a_refused_form_comes_back_after_unlock(
    browser: Browser, apps: dict[str, AppProcess], contexts: dict[str, BrowserContext]
) -> None:
    app = apps["calm"]
    state = contexts["calm"].storage_state()
    plain = browser.new_context(java_script_enabled=False, storage_state=state)
    try:
        page = plain.new_page()
        page.goto(f"{app.origin}/journal")
        _unlock(page, app)
        page.goto(f"{app.origin}/journal")
        page.get_by_label("What would you like to share?").fill(WRITING + " (no script)")
        other = _open(contexts["calm"], app, "/today")
        other.get_by_role("button", name="Lock").click()
        expect(other).to_have_url(f"{app.origin}/unlock")
        page.get_by_role("button", name="Save").click()
        expect(
            page.get_by_role("heading", name="Trellis locked while you were away")
        ).to_be_visible()
        page.get_by_label("Passphrase").fill(PASSPHRASE)
        page.get_by_role("button", name="Unlock").click()
        expect(page.get_by_text(WRITING + " (no script)")).to_be_visible()
        page.get_by_role("button", name="Send it").click()
        expect(page).to_have_url(f"{app.origin}/journal")
        expect(page.locator("#entries")).to_contain_text(WRITING + " (no script)")
        other.close()
    finally:
        plain.close()


def test_two_tabs_follow_one_lock_and_one_quick_exit(
    apps: dict[str, AppProcess], contexts: dict[str, BrowserContext]
) -> None:
    app, context = apps["calm"], contexts["calm"]
    writing = _open(context, app, "/journal")
    other = _open(context, app, "/today")
    writing.get_by_label("What would you like to share?").fill(WRITING + " (two tabs)")
    # One tab locks: the other follows at once, keeping its unsent text under the card.
    other.get_by_role("button", name="Lock").click()
    expect(other).to_have_url(f"{app.origin}/unlock")
    expect(writing.locator("#lock-card")).to_be_visible()
    assert writing.locator("textarea").count() == 0
    writing.get_by_label("Passphrase").fill(PASSPHRASE)
    writing.get_by_role("button", name="Unlock").click()
    expect(writing.get_by_label("What would you like to share?")).to_have_value(
        WRITING + " (two tabs)"
    )
    # A tab with nothing unsent goes to the unlock page when the lock comes.
    other.goto(f"{app.origin}/today")
    expect(other).to_have_url(f"{app.origin}/today")
    # Lock pressed in the tab that is writing: the text stays there too.
    writing.get_by_role("button", name="Lock").click()
    expect(writing.locator("#lock-card")).to_be_visible()
    expect(other).to_have_url(f"{app.origin}/unlock")
    _unlock(other, app)
    # Quick exit in one tab ends both, unsent text and all.
    writing.goto(f"{app.origin}/journal")
    writing.get_by_label("What would you like to share?").fill("never mind")
    other.keyboard.press("Escape")
    other.keyboard.press("Escape")
    expect(other).to_have_url(f"{app.origin}/bye")
    expect(writing).to_have_url(f"{app.origin}/bye")
    assert "never mind" not in writing.content()
    writing.close()
    other.close()
