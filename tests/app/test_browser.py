"""The local app in a real browser: two partners, two ``trellis app`` processes, one
real relay, Debian's Chromium driven by Playwright. The couple pairs through the
pages once (module fixture); each test then uses both open pages as the partners
would. A failing test leaves a screenshot of both pages (tests/app/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.app.app_process import AppProcess
from tests.app.conftest import SCREENSHOTS
from tests.integration.relay_process import RelayProcess

PASSPHRASE = "a long and private passphrase"
LIVE_S = 30.0
"""How long a partner's event may take to show on the other's open page: a bound for a
loaded test machine, met at once on a quiet one (the bench measures the real figure;
the issue asks for under 1 s)."""
# Every expectation waits up to this long (Playwright's default is 5 s): creating or
# joining a space derives the real passphrase key in the app process, which takes
# seconds on a loaded machine. Each returns as soon as it holds.
expect.set_options(timeout=20_000)
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1100, "height": 900}


@dataclass
class Couple:
    alex: Page
    blake: Page
    apps: dict[str, AppProcess]
    console: list[str] = field(default_factory=list)


def _start(page: Page, app: AppProcess, name: str, relay: str, code: str | None) -> None:
    page.goto(app.start_url)
    expect(page).to_have_url(f"{app.origin}/welcome")
    if code is None:
        page.get_by_label("Your name, as your partner will see it").first.fill(name)
        page.locator("#start-relay").fill(relay)
        page.locator("#start-pass").fill(PASSPHRASE)
        page.locator("#start-pass2").fill(PASSPHRASE)
        page.get_by_role("button", name="Start our space").click()
    else:
        page.locator("#join-code").fill(code)
        page.locator("#join-name").fill(name)
        page.locator("#join-pass").fill(PASSPHRASE)
        page.locator("#join-pass2").fill(PASSPHRASE)
        page.get_by_role("button", name="Join").click()
    expect(page).to_have_url(f"{app.origin}/pairing")


@pytest.fixture(scope="module")
def couple(
    browser: Browser, relay: RelayProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Couple]:
    """Alex starts a space in the app, makes an invite code there; Blake joins with it
    in theirs (at phone width)."""
    homes = tmp_path_factory.mktemp("homes")
    apps = {name: AppProcess(homes / name).start() for name in ("alex", "blake")}
    alex_context = browser.new_context(viewport=LAPTOP)
    blake_context = browser.new_context(viewport=PHONE)
    alex, blake = alex_context.new_page(), blake_context.new_page()
    pair = Couple(alex, blake, apps)
    for page in (alex, blake):
        page.on("console", lambda m, c=pair.console: _keep(c, m))
    try:
        _start(alex, apps["alex"], "Alex", relay.url, None)
        alex.get_by_role("button", name="Make a code").click()
        code = alex.locator("#invite-code").inner_text().strip()
        _photograph(alex, "alex-invite")
        _start(blake, apps["blake"], "Blake", relay.url, code)
        yield pair
    finally:
        alex_context.close()
        blake_context.close()
        for app in apps.values():
            app.stop()


def _photograph(page: Page, name: str) -> None:
    """Kept in test-screenshots/screens/ (README's pictures come from there)."""
    folder = SCREENSHOTS / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _keep(console: list[str], message: ConsoleMessage) -> None:
    console.append(message.text)


@pytest.fixture(autouse=True)
def _screenshots_on_failure(request: pytest.FixtureRequest, couple: Couple) -> None:
    request.node.open_pages = lambda: {"alex": couple.alex, "blake": couple.blake}


def _go(page: Page, app: AppProcess, path: str) -> None:
    page.goto(f"{app.origin}{path}")
    expect(page).to_have_url(f"{app.origin}{path}")


def test_pairing_shows_the_same_safety_number_on_both_sides(couple: Couple) -> None:
    _go(couple.alex, couple.apps["alex"], "/pairing")
    _go(couple.blake, couple.apps["blake"], "/pairing")
    alex_number = couple.alex.locator("#safety-number").inner_text().split()
    blake_number = couple.blake.locator("#safety-number").inner_text().split()
    assert len(alex_number) >= 6
    assert alex_number == blake_number
    expect(couple.blake.get_by_text("Read your number aloud")).to_be_visible()
    couple.alex.get_by_role("button", name="It matched, in person").click()
    expect(couple.alex.get_by_text("You confirmed this number together.")).to_be_visible()


def test_journal_entries_reach_the_partner_live_both_ways(couple: Couple) -> None:
    alex, blake = couple.alex, couple.blake
    _go(alex, couple.apps["alex"], "/journal")
    _go(blake, couple.apps["blake"], "/journal")
    alex.get_by_label("What would you like to share?").fill("Went for a long walk <b>today</b>.")
    alex.get_by_text("4 · good").click()
    alex.get_by_label("Tags (optional, separated by spaces)").fill("walk evening")
    alex.get_by_role("button", name="Save").click()
    expect(alex.get_by_role("status").first).to_contain_text("Saved. Delivered.")
    # Blake's page was not reloaded: the entry arrives live, as text (never markup).
    entries = blake.locator("#entries")
    expect(entries).to_contain_text("Went for a long walk <b>today</b>.", timeout=LIVE_S * 1000)
    expect(entries).to_contain_text("mood 4/5")
    assert entries.locator("b").count() == 0

    blake.get_by_label("What would you like to share?").fill("Thank you for telling me.")
    blake.get_by_role("button", name="Save").click()
    expect(alex.locator("#entries")).to_contain_text(
        "Thank you for telling me.", timeout=LIVE_S * 1000
    )
    # Only one's own entries can be updated or withdrawn.
    blake_entry = alex.locator("article", has_text="Thank you for telling me.")
    expect(blake_entry.get_by_role("link", name="Update")).to_have_count(0)


def test_an_own_entry_is_updated_and_withdrawn(couple: Couple) -> None:
    alex, blake = couple.alex, couple.blake
    _go(alex, couple.apps["alex"], "/journal")
    _go(blake, couple.apps["blake"], "/journal")
    alex.get_by_label("What would you like to share?").fill("A first draft.")
    alex.get_by_role("button", name="Save").click()
    expect(blake.locator("#entries")).to_contain_text("A first draft.", timeout=LIVE_S * 1000)
    entry = alex.locator("article", has_text="A first draft.")
    entry.get_by_role("link", name="Update").click()
    alex.get_by_label("Entry").fill("A second, kinder draft.")
    alex.get_by_role("button", name="Save the update").click()
    expect(alex.get_by_role("status").first).to_contain_text("The earlier text stays")
    expect(blake.locator("#entries")).to_contain_text(
        "A second, kinder draft.", timeout=LIVE_S * 1000
    )
    alex.locator("article", has_text="A second, kinder draft.").get_by_role(
        "button", name="Withdraw"
    ).click()
    expect(alex.get_by_role("status").first).to_contain_text("Hidden from the journal.")
    expect(blake.locator("#entries")).not_to_contain_text(
        "A second, kinder draft.", timeout=LIVE_S * 1000
    )


def test_a_signal_shows_live_as_a_banner_on_every_page(couple: Couple) -> None:
    alex, blake = couple.alex, couple.blake
    _go(blake, couple.apps["blake"], "/today")
    _go(alex, couple.apps["alex"], "/signals")
    alex.get_by_text("I need to stop now.").click()
    alex.get_by_role("button", name="Stop", exact=True).click()
    expect(alex.get_by_role("status").first).to_contain_text("Stop given. A stop owes no return.")
    banner = blake.locator("#banner")
    expect(banner).to_contain_text("Alex asked to stop.", timeout=LIVE_S * 1000)
    expect(banner).to_contain_text("I need to stop now.")
    _photograph(blake, "blake-banner")
    for path in ("/journal", "/pairing", "/settings", "/signals"):
        _go(blake, couple.apps["blake"], path)
        expect(blake.locator("#banner")).to_contain_text("Alex asked to stop.")
    # The sender sees no banner of their own signal, and can clear it.
    expect(alex.locator("#banner")).to_be_empty()
    alex.get_by_role("button", name="I am back: clear it").click()
    expect(blake.locator("#banner")).to_be_empty(timeout=LIVE_S * 1000)


def test_lock_and_unlock(couple: Couple) -> None:
    alex, app = couple.alex, couple.apps["alex"]
    _go(alex, app, "/journal")
    alex.get_by_role("button", name="Lock").click()
    expect(alex).to_have_url(f"{app.origin}/unlock")
    alex.goto(f"{app.origin}/journal")
    expect(alex).to_have_url(f"{app.origin}/unlock")
    alex.get_by_label("Passphrase").fill("not the passphrase")
    alex.get_by_role("button", name="Unlock").click()
    expect(alex.get_by_role("alert")).to_be_visible()
    alex.get_by_label("Passphrase").fill(PASSPHRASE)
    alex.get_by_role("button", name="Unlock").click()
    expect(alex).to_have_url(f"{app.origin}/today")


def test_quick_exit_by_escape_twice_leaves_nothing_behind(couple: Couple) -> None:
    blake, app = couple.blake, couple.apps["blake"]
    _go(blake, app, "/journal")
    expect(blake.locator("#entries")).to_contain_text("Went for a long walk")
    blake.keyboard.press("Escape")
    blake.keyboard.press("Escape")
    expect(blake).to_have_url(f"{app.origin}/bye")
    assert "Trellis" not in blake.content()
    blake.go_back()
    # Back brings the journal's address at most, never its content: the app is locked.
    expect(blake.locator("body")).not_to_contain_text("Went for a long walk")
    blake.goto(f"{app.origin}/journal")
    expect(blake).to_have_url(f"{app.origin}/unlock")
    blake.get_by_label("Passphrase").fill(PASSPHRASE)
    blake.get_by_role("button", name="Unlock").click()
    expect(blake).to_have_url(f"{app.origin}/today")


def test_quick_exit_button(couple: Couple) -> None:
    alex, app = couple.alex, couple.apps["alex"]
    _go(alex, app, "/today")
    alex.get_by_role("button", name="Quick exit").click()
    expect(alex).to_have_url(f"{app.origin}/bye")
    alex.goto(f"{app.origin}/today")
    expect(alex).to_have_url(f"{app.origin}/unlock")
    alex.get_by_label("Passphrase").fill(PASSPHRASE)
    alex.get_by_role("button", name="Unlock").click()
    expect(alex).to_have_url(f"{app.origin}/today")


def test_no_page_broke_the_content_security_policy(couple: Couple) -> None:
    """Runs last: the console of both pages through every test above."""
    for path in ("/today", "/journal", "/signals", "/pairing", "/settings"):
        _go(couple.alex, couple.apps["alex"], path)
    broken = [m for m in couple.console if "Content Security Policy" in m]
    assert broken == []


def test_screens_at_phone_width_fit_without_sideways_scrolling(couple: Couple) -> None:
    blake, app = couple.blake, couple.apps["blake"]
    for path in ("/today", "/journal", "/signals", "/pairing", "/settings"):
        _go(blake, app, path)
        width = blake.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], path


def test_a_long_unbroken_note_keeps_quick_exit_in_reach(couple: Couple) -> None:
    """A partner's note of one long unbroken word (a hostile partner's, or a cat on the
    keyboard) in the banner must not widen the page: at phone width the page keeps
    its width and Quick exit stays on screen."""
    alex, blake = couple.alex, couple.blake
    _go(blake, couple.apps["blake"], "/today")
    _go(alex, couple.apps["alex"], "/signals")
    alex.get_by_label("Or your own words").fill("W" * 400)
    alex.get_by_role("button", name="Slow down", exact=True).click()
    expect(blake.locator("#banner")).to_contain_text("WWWW", timeout=LIVE_S * 1000)
    try:
        for path in ("/today", "/signals"):
            _go(blake, couple.apps["blake"], path)
            assert blake.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            expect(blake.get_by_role("button", name="Quick exit")).to_be_in_viewport()
    finally:
        _go(alex, couple.apps["alex"], "/signals")
        alex.get_by_role("button", name="I am back: clear it").click()
        expect(blake.locator("#banner")).to_be_empty(timeout=LIVE_S * 1000)


def test_every_screen_has_a_heading_and_is_photographed(couple: Couple) -> None:
    """Each main screen for both partners, saved to test-screenshots/screens/ (the
    README's pictures are taken from there)."""
    for who, page in (("alex", couple.alex), ("blake", couple.blake)):
        for path in ("/today", "/journal", "/signals", "/pairing", "/settings"):
            _go(page, couple.apps[who], path)
            expect(page.locator("h1")).to_have_count(1)
            _photograph(page, f"{who}{path.replace('/', '-')}")
