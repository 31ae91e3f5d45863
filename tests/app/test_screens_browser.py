"""The practice screens in a real browser: two ``trellis app`` processes for a couple
paired through a real relay, Debian's Chromium driven by Playwright. An agreement
proposed in one browser is accepted in the other, a disclosure is acknowledged, an
export is downloaded. A failing test leaves a screenshot of both pages
(tests/app/conftest.py).

With ``TRELLIS_DOC_SCREENSHOTS=docs/screenshots`` set, the last test also writes the
README's screenshots of the main screens from these same pages."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from client.export import verify_export
from tests.integration.cli import TRELLIS
from tests.integration.pairing import PASSPHRASE, pair
from tests.integration.relay_process import REPO_ROOT, RelayProcess

CHROMIUM = os.environ.get("TRELLIS_CHROMIUM", "/usr/bin/chromium")
DOC_SCREENSHOTS = os.environ.get("TRELLIS_DOC_SCREENSHOTS")
"""A folder to write the README's screenshots to (docs/screenshots), or unset."""
REVIEW_SCREENSHOTS = os.environ.get("TRELLIS_REVIEW_SCREENSHOTS")
"""A folder for full-page pictures of every screen at both widths, to look at them."""
EVERY_SCREEN = (
    "/today",
    "/agreements",
    "/plan",
    "/windows",
    "/disclosures",
    "/checkins",
    "/sobriety",
    "/gratitude",
    "/intimacy",
    "/intimacy/words",
    "/timeline",
    "/verify",
    "/export",
)
LIVE_MS = 30_000
"""How long a partner's event may take to reach the other's page: a bound for a loaded
test machine (expect returns as soon as it shows)."""
# Every expectation waits up to this long (Playwright's default is 5 s): creating or
# joining a space derives the real passphrase key in the app process, which takes
# seconds on a loaded machine. Each returns as soon as it holds.
expect.set_options(timeout=20_000)
IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()
_URL = re.compile(r"^(http://127\.0\.0\.1:(\d+)/\?token=\S+)$", re.MULTILINE)


class _App:
    """``trellis --home HOME app --no-browser`` and the one-time address it prints."""

    def __init__(self, home: Path) -> None:
        self.log = home.with_suffix(".log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [TRELLIS, "--home", str(home), "app", "--no-browser"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO_ROOT,
            )
        deadline = time.monotonic() + 60  # start-up on a loaded machine; returns at once
        while not (found := _URL.search(self.log.read_text(errors="replace"))):
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.05)
        self.start_url, self.origin = found.group(1), f"http://127.0.0.1:{found.group(2)}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@dataclass
class Partner:
    page: Page
    app: _App

    def go(self, path: str) -> None:
        self.page.goto(f"{self.app.origin}{path}")


@dataclass
class Couple:
    alex: Partner
    blake: Partner


async def _paired(folder: Path, relay_url: str) -> None:
    alex, blake = await pair(folder, relay_url)
    await alex.close()
    await blake.close()


@pytest.fixture(scope="module")
def couple(relay: RelayProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Couple]:
    """Alex (laptop width) and Blake (phone width), paired, each app unlocked in its page."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"The browser tests need Chromium at {CHROMIUM} (Debian's 'chromium').")
    folder = tmp_path_factory.mktemp("couple")
    asyncio.run(_paired(folder, relay.url))
    apps = {name: _App(folder / name) for name in ("alex", "blake")}
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            partners = []
            for name, size in (("alex", (1100, 900)), ("blake", (390, 844))):
                context = browser.new_context(
                    viewport={"width": size[0], "height": size[1]}, accept_downloads=True
                )
                page = context.new_page()
                page.goto(apps[name].start_url)
                page.get_by_label("Passphrase").fill(PASSPHRASE)
                page.get_by_role("button", name="Unlock").click()
                expect(page).to_have_url(f"{apps[name].origin}/today")
                partners.append(Partner(page, apps[name]))
            yield Couple(*partners)
        finally:
            browser.close()
            for app in apps.values():
                app.stop()


@pytest.fixture(autouse=True)
def _screenshots_on_failure(request: pytest.FixtureRequest, couple: Couple) -> None:
    request.node.open_pages = lambda: {"alex": couple.alex.page, "blake": couple.blake.page}


def test_an_agreement_proposed_in_one_browser_is_accepted_in_the_other(couple: Couple) -> None:
    alex, blake = couple.alex, couple.blake
    blake.go("/agreements")
    alex.go("/agreements")
    alex.page.get_by_label("Title").fill("Honest evenings")
    alex.page.get_by_label("Clause 1").fill("We tell each other when we go out")
    alex.page.get_by_label("Review it together on").fill(IN_A_MONTH)
    alex.page.get_by_role("button", name="Propose").click()
    expect(alex.page.get_by_role("status").first).to_contain_text("Proposed.")
    # Blake's open page shows it without a reload (live update).
    expect(blake.page.get_by_text("Honest evenings")).to_be_visible(timeout=LIVE_MS)
    blake.page.get_by_role("link", name="Honest evenings").click()
    blake.page.get_by_role("button", name="Accept").click()
    expect(blake.page.get_by_role("status").first).to_contain_text(
        "Accepted. The agreement is now in force for both of you."
    )
    # Alex is on the agreement's own page since proposing: it updates live too.
    expect(alex.page.get_by_role("heading", name="Honest evenings")).to_be_visible()
    expect(alex.page.get_by_text("accepted by Blake")).to_be_visible(timeout=LIVE_MS)


def test_a_disclosure_is_acknowledged(couple: Couple) -> None:
    alex, blake = couple.alex, couple.blake
    blake.go("/disclosures")
    alex.go("/disclosures")
    alex.page.get_by_label("What kind").select_option("slip")
    alex.page.get_by_label("In one line: specific, not graphic").fill("Stayed up late on my phone")
    alex.page.get_by_text("middle: a risk").click()
    alex.page.get_by_role("button", name="Share").click()
    expect(alex.page.get_by_role("status").first).to_contain_text("Thank you for your honesty.")
    expect(blake.page.get_by_text("Stayed up late on my phone")).to_be_visible(timeout=LIVE_MS)
    blake.page.get_by_label("Words back (optional)").fill("Thank you for telling me")
    blake.page.get_by_role("button", name="Seen").click()
    expect(blake.page.get_by_role("status").first).to_contain_text("Marked as seen.")
    alex.go("/disclosures")
    expect(alex.page.get_by_text("Blake: seen")).to_be_visible(timeout=LIVE_MS)
    expect(alex.page.get_by_text("Blake answered: Thank you for telling me")).to_be_visible()


def test_recovery_records_and_the_pacing_plan_are_exported(couple: Couple, tmp_path: Path) -> None:
    """The choices ``trellis export --pacing --recovery --since`` has, on the page."""
    alex = couple.alex
    alex.go("/intimacy")
    propose = alex.page.get_by_role("button", name="Propose", exact=True)
    if not propose.is_visible():
        alex.page.locator("summary", has_text="Propose").click()
    propose.click()
    expect(alex.page.get_by_role("status").first).to_be_visible()
    alex.go("/export")
    alex.page.get_by_label("The pacing plan and every move in it").check()
    alex.page.get_by_label(
        "Recovery records: slips and disclosures, check-ins, signals and windows"
    ).check()
    alex.page.get_by_label("The report's first page covers from").fill(date.today().isoformat())
    alex.page.get_by_label("Who it is for (e.g. Dr. Rivera)").first.fill("Dr. Rivera")
    alex.page.get_by_label("Why (e.g. our session on 12 January)").first.fill("our session")
    alex.page.get_by_label("The last day it may be used (within a year)").first.fill(IN_A_MONTH)
    alex.page.get_by_text("the data (JSON)").click()
    with alex.page.expect_download() as info:
        alex.page.get_by_role("button", name="Download").click()
    saved = tmp_path / "export.json"
    info.value.save_as(saved)
    result, findings = verify_export(saved.read_bytes())
    assert not findings
    assert result is not None
    assert result.title == "Pacing plan; Recovery records"
    kinds = {e.kind for e in result.revealed}
    assert {"pacing_plan_proposed", "disclosure"} <= kinds
    assert "agreement_proposed" not in kinds  # no agreement was ticked


def test_an_export_downloads_and_verifies(couple: Couple, tmp_path: Path) -> None:
    alex = couple.alex
    alex.go("/export")
    alex.page.get_by_label("Honest evenings").check()
    alex.page.get_by_label("Who it is for (e.g. Dr. Rivera)").first.fill("Dr. Rivera")
    alex.page.get_by_label("Why (e.g. our session on 12 January)").first.fill("our session")
    alex.page.get_by_label("The last day it may be used (within a year)").first.fill(IN_A_MONTH)
    with alex.page.expect_download() as info:
        alex.page.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename.endswith(".html")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    result, findings = verify_export(saved.read_bytes())
    assert not findings
    assert result is not None
    assert result.declaration.recipient == "Dr. Rivera"
    if DOC_SCREENSHOTS:
        _doc_screenshots(couple, Path(DOC_SCREENSHOTS))
    if REVIEW_SCREENSHOTS:
        folder = Path(REVIEW_SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        for who, partner in (("alex", couple.alex), ("blake", couple.blake)):
            for path in EVERY_SCREEN:
                partner.go(path)
                name = path.strip("/").replace("/", "-")
                partner.page.screenshot(path=str(folder / f"{who}-{name}.png"), full_page=True)


def _doc_screenshots(couple: Couple, folder: Path) -> None:
    """The README's pictures of the main screens, from the tests' own browser."""
    folder.mkdir(parents=True, exist_ok=True)
    alex, blake = couple.alex, couple.blake
    for path, name in (
        ("/today", "today"),
        ("/agreements", "agreements"),
        ("/disclosures", "disclosures"),
        ("/checkins", "checkins"),
        ("/sobriety", "sober-days"),
        ("/timeline", "timeline"),
        ("/export", "export"),
    ):
        alex.go(path)
        alex.page.screenshot(path=str(folder / f"{name}.png"), full_page=False)
    blake.go("/disclosures")
    blake.page.screenshot(path=str(folder / "disclosures-phone.png"), full_page=False)
