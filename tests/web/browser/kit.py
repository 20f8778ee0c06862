"""What the browser tests share: Debian's Chromium launched by Playwright (the `browser`
fixture in conftest.py), the artifacts folder, screenshots, and waiting for a page's step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.web.browser.page_cluster import CHROMIUM, ROOT

ARTIFACTS: Final = ROOT / ".artifacts" / "web"
STEP_TIMEOUT_MS: Final = 30_000


def launch() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is not installed: make test-tools installs it"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, timeout=STEP_TIMEOUT_MS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def open_tab(
    browser: Browser, viewport: ViewportSize, console_log: str, *, downloads: bool = False
) -> Iterator[Page]:
    """A fresh English context and tab, its console and page errors appended to
    .artifacts/web/`console_log`; closed after the test."""
    context = browser.new_context(viewport=viewport, accept_downloads=downloads, locale="en-US")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    tab = context.new_page()
    console = (ARTIFACTS / console_log).open("a", encoding="utf-8")
    tab.on("console", lambda message: console.write(f"{message.type}: {message.text}\n"))
    tab.on("pageerror", lambda error: console.write(f"pageerror: {error}\n"))
    try:
        yield tab
    finally:
        context.close()
        console.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def at_step(page: Page, step: str) -> None:
    try:
        page.wait_for_selector(f"main[data-step='{step}']")
    except PlaywrightTimeout:
        main = page.locator("main")
        shown = f"step {main.get_attribute('data-step')!r}: {main.inner_text()!r}"
        raise AssertionError(f"page never reached step {step!r}; it shows {shown}") from None
