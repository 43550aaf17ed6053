"""The login page in a real browser: DKFDS styles load, the CSP holds, demo users get in."""

from tests.browser.conftest import log_in


def test_login_page_uses_vendored_dkfds_and_no_inline_script(page):
    responses = []
    page.on("response", lambda r: responses.append(r))
    page.goto("/login")
    assert page.locator("h1").inner_text() == "Log ind"
    stylesheets = [r.url for r in responses if r.url.endswith(".css")]
    assert any("/static/dkfds/css/dkfds.min.css" in url for url in stylesheets)
    assert all(r.status == 200 for r in responses if "/static/" in r.url)
    # DKFDS's font is applied, so the stylesheet really loaded.
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "IBM Plex Sans" in font


def test_wrong_password_shows_a_danish_error(page):
    page.goto("/login")
    page.fill("#username", "agent")
    page.fill("#password", "forkert")
    page.click("button[type=submit]")
    assert "Forkert brugernavn eller adgangskode" in page.locator("main .alert-error").inner_text()
    page.console_errors.clear()  # the 401 of the form post is logged by Chromium


def test_agent_logs_in_and_lands_on_the_console(page):
    log_in(page, "agent")
    assert page.url.endswith("/console")
