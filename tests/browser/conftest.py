"""Browser tests: Debian's Chromium driven by Playwright against the real running server."""

import os
import shutil

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.calls.sse import log_in as log_in_over_http
from tests.conftest import require
from tests.live import DEMO_PASSWORD, start_live_server, stop_live_server

# CI runs the suite on both databases side by side: a busy machine can take more than Playwright's
# default 5 s to answer a send or a search. A condition that holds passes as soon as it holds.
expect.set_options(timeout=15_000)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A real server with the demo data, for this module's tests."""
    server = start_live_server(
        tmp_path_factory.mktemp("live"), os.environ.get("HOTLINE_TEST_DATABASE_URL")
    )
    yield server
    stop_live_server(server)


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, launched headless by Playwright.

    Module-scoped: Playwright's sync API runs an event loop in this thread while it is open, and
    tests after the browser modules call asyncio.run().
    """
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    require(os.path.exists(executable), "Chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser context and page; fails the test on a console error (CSP included)."""
    context = chromium.new_context(base_url=live_server.url, accept_downloads=True, locale="da-DK")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()
    # A form sent with mistakes is answered 422, which Chromium logs; nothing else may be.
    errors = [e for e in errors if "status of 422" not in e]
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture(scope="module")
def sign_in(live_server):
    """Give a browser context a demo user's session without the login form: sign_in(context, user).

    For tests of the pages behind the login: each user logs in once per module (over HTTP).
    """
    cookies: dict[str, list[dict]] = {}

    def sign_in(context, username: str) -> None:
        if username not in cookies:
            with httpx.Client(base_url=live_server.url, timeout=15) as client:
                log_in_over_http(client, username, DEMO_PASSWORD)
                cookies[username] = [
                    {"name": c.name, "value": c.value, "url": live_server.url, "httpOnly": True}
                    for c in client.cookies.jar
                ]
        context.add_cookies(cookies[username])

    return sign_in


def log_in(page, username: str) -> None:
    """Log in through the login form with the demo password."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def make_ready(page) -> None:
    """The logged-in agent says "Klar" on the console (only an agent who is ready takes calls)."""
    from playwright.sync_api import expect

    page.goto("/console")
    if page.locator("#agent-state").inner_text() != "Klar":
        page.locator("#agent-state-toggle").click()
        expect(page.locator("#agent-state")).to_have_text("Klar")


def mark_document(page) -> None:
    """Mark the page's current document, so a later reload (which drops the mark) can be seen."""
    page.evaluate("() => { window.hotlineTestMark = true; }")


def same_document(page) -> bool:
    """Whether the document marked by mark_document is still the one shown (no reload since)."""
    return page.evaluate("() => window.hotlineTestMark === true")
