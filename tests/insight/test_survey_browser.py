"""The survey in Chromium: the agent makes the link with the keyboard; the citizen answers with
the keyboard, without cookies, on a page axe-core finds no serious WCAG 2.1 AA problem on."""

from playwright.sync_api import expect

from tests.browser.conftest import chromium, live_server, log_in, page  # noqa: F401
from tests.browser.test_accessibility import axe_page, blocking_violations  # noqa: F401
from tests.browser.test_hotline_flow import new_call_on
from tests.browser.test_keyboard_path import tab_to

CALLER = "+4520888001"


def _survey_url_made_by_the_agent(agent_page) -> str:
    log_in(agent_page, "agent")
    agent_page.goto("/console")
    row = agent_page.locator("#queue tr", has_text=CALLER).first
    row.wait_for()
    row.get_by_role("button").click()
    agent_page.wait_for_load_state("networkidle")
    button = agent_page.get_by_role("button", name="Vis link til tilfredshedsundersøgelse")
    button.focus()
    agent_page.keyboard.press("Enter")
    link = agent_page.locator("#survey-url")
    expect(link).to_be_focused()
    return link.input_value()


def test_the_agent_makes_the_link_and_the_citizen_answers_with_the_keyboard(
    page,  # noqa: F811
    axe_page,  # noqa: F811
    live_server,  # noqa: F811
):
    new_call_on(live_server, caller=CALLER)
    url = _survey_url_made_by_the_agent(page)
    assert url.startswith(f"{live_server.url}/t/")

    citizen = axe_page
    response = citizen.goto(url)
    assert response.status == 200
    assert blocking_violations(citizen) == []
    assert citizen.context.cookies() == []

    tab_to(citizen, "#score-1")
    for _ in range(3):
        citizen.keyboard.press("ArrowDown")
    expect(citizen.locator("#score-4")).to_be_checked()
    citizen.keyboard.press("Tab")
    expect(citizen.locator("#comment")).to_be_focused()
    citizen.keyboard.type("Tak, meget hjælpsom – men lidt lang ventetid.")
    citizen.keyboard.press("Tab")
    with citizen.expect_navigation():
        citizen.keyboard.press("Enter")

    expect(citizen.get_by_role("heading", name="Tak for dit svar")).to_be_visible()
    assert blocking_violations(citizen) == []
    citizen.goto(url)
    expect(citizen.get_by_text("Tak – vi har allerede fået dit svar").first).to_be_visible()
    assert citizen.context.cookies() == []
