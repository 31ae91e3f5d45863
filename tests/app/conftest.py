"""Fixtures for the local app's tests: a real relay, homes with a space, and (for the
browser tests) one Chromium for the whole session with a screenshot of every open
page saved when a test fails."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.integration.relay_process import RelayProcess

SCREENSHOTS = Path(os.environ.get("TRELLIS_SCREENSHOTS", "test-screenshots"))
"""Where a failing browser test leaves a screenshot of each open page."""


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    process = RelayProcess(tmp_path_factory.mktemp("relay") / "relay.db").start()
    try:
        yield process
    finally:
        process.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if call.when == "call" and getattr(report, "failed", False):
        pages = getattr(item, "open_pages", None)
        if pages:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            for name, page in pages().items():
                path = SCREENSHOTS / f"{item.name}-{name}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                except Exception as exc:  # the browser may be what failed
                    path.with_suffix(".txt").write_text(f"no screenshot: {exc!r}\n")
    return report


CHROMIUM = os.environ.get("TRELLIS_CHROMIUM", "/usr/bin/chromium")
"""Debian's Chromium (tests/tools/ensure_system_packages.sh installs it for make test)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module, its pages reused by the module's tests.

    Not per session: Playwright's sync API keeps its event loop running in this
    thread while it is open, and pytest-asyncio cannot run an async test meanwhile;
    closing it at the end of the module lets async tests of other modules run."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM}: install Debian's 'chromium' "
            "package (make test does it when run as root), or set TRELLIS_CHROMIUM."
        )
    # Chromium's sandbox needs user namespaces that root in a container may not have.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield chromium
        finally:
            chromium.close()
