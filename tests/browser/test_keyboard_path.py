"""The whole call path in Chromium with the keyboard alone: shortcuts, Tab and Enter, no mouse."""

import re
from email import message_from_bytes, policy

from playwright.sync_api import expect

from tests.browser.test_hotline_flow import new_call_on, wait_for
from tests.live import DEMO_PASSWORD

NO_MUNICIPALITY_LINE = "+4570707070"  # not a municipality's line: the agent finds the municipality
CALLER = "+4520999001"
SHORTCUT_HINTS = (
    "N næste opkald",
    "M find kommune",
    "R søg i regler",
    "Ctrl+Enter send svar",
    "A afslut",
    "Esc forlad feltet",
    "S skift status",
)


def tab_to(page, selector: str, max_presses: int = 40) -> None:
    """Press Tab until the element matching selector has the focus; fails if it never does."""
    for _ in range(max_presses):
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reached with Tab")


def test_an_agent_handles_a_whole_call_with_the_keyboard_alone(page, live_server):
    # Log in: the username field has the focus, Tab to the password, Enter submits.
    page.goto("/login")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type("agent")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto("/console")

    # Every shortcut is shown on screen.
    hints = page.locator(".hl-shortcuts")
    expect(hints).to_be_visible()
    for hint in SHORTCUT_HINTS:
        expect(hints).to_contain_text(hint)

    # S: the agent makes themselves available.
    expect(page.locator("#agent-state")).to_have_text("Ikke klar")
    page.keyboard.press("s")
    expect(page.locator("#agent-state")).to_have_text("Klar")

    # The telephony platform offers a call; N takes it.
    reference = new_call_on(live_server, to=NO_MUNICIPALITY_LINE, caller=CALLER)
    with live_server.api("agent") as api:
        waiting = api.get("/api/calls", params={"state": "waiting"}).json()
    call_id = next(c["id"] for c in waiting if c["reference"] == reference)
    expect(page.locator("#queue tr", has_text=reference)).to_be_visible()
    expect(page.locator("#next-call")).to_be_enabled()
    page.keyboard.press("n")
    expect(page.locator("#call-heading")).to_have_text(reference)
    expect(page.locator(".hl-municipality-none")).to_be_visible()

    # M: find the municipality by postal code; Enter chooses the first hit, even when pressed
    # before the search has answered. The focus stays in the field; Escape leaves it.
    page.keyboard.press("m")
    expect(page.locator("#municipality-q")).to_be_focused()
    page.keyboard.type("8000")
    page.keyboard.press("Enter")
    expect(page.locator(".hl-municipality-chosen")).to_contain_text("Aarhus Kommune")
    expect(page.locator("#municipality-q")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#municipality-q")).not_to_be_focused()

    # R: search the rules; Enter opens the first hit, and the console stays.
    expect(page.locator("#rule-search")).to_be_attached()
    expect(page.locator(".hl-rules-search")).to_contain_text("Tryk R for at søge")
    page.keyboard.press("r")
    expect(page.locator("#rule-search")).to_be_focused()
    page.keyboard.type("pas")
    page.keyboard.press("Enter")
    first_hit = page.locator("#rule-topics[data-q=pas] .hl-rule-link").first
    expect(first_hit).to_have_attribute("aria-current", "true")
    topic = first_hit.get_attribute("data-topic")
    expect(page.locator(f"#rule-detail article[data-topic={topic}]")).to_be_visible()
    assert re.search(r"/console$", page.url), page.url

    # Tab on to the rule's "use in reply" button; Enter cites it in the reply.
    tab_to(page, f"#rule-detail [data-cite-topic={topic}]")
    page.keyboard.press("Enter")
    expect(page.locator(f"#cite-{topic}")).to_be_checked()

    # Tab on to the composer, write the reply and send it with Ctrl+Enter.
    expect(page.locator("#reply-send-hint")).to_have_text("Ctrl+Enter sender som e-mail")
    tab_to(page, "#reply-body")
    page.keyboard.type("Tak for din henvendelse om pas.")
    tab_to(page, "#reply-recipient-name")
    page.keyboard.type("Jens Tastesen")
    tab_to(page, "#reply-recipient-email")
    page.keyboard.type("jens.tastesen@example.dk")
    page.keyboard.press("Control+Enter")
    notice = page.locator("#reply-composer .alert-success")
    expect(notice).to_contain_text("Svaret er lagt i udbakken")
    expect(notice).to_be_focused()
    expect(page.locator(f"#replies-{call_id}")).to_contain_text("Svar på din henvendelse")
    # This module's server has sent no other mail.
    message_file = wait_for(lambda: next(iter((live_server.maildir / "new").glob("*")), None))
    message = message_from_bytes(message_file.read_bytes(), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "jens.tastesen@example.dk"

    # A: wrap up; type-ahead chooses the reason, the arrow keys the outcome, Enter submits.
    page.keyboard.press("a")
    reason = page.locator("#contact-reason")
    expect(reason).to_be_focused()
    page.keyboard.type("Pas")
    expect(reason).to_have_value("pas")
    page.keyboard.press("Tab")
    expect(page.locator("#outcome-answered")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#outcome-referred")).to_be_checked()
    tab_to(page, "#wrap-up-form button[type=submit]")
    page.keyboard.press("Enter")

    # The call is closed: no active call, the agent is back at the queue and available again.
    expect(page.locator(".hl-console-flash")).to_contain_text(f"Opkald {reference} afsluttet")
    expect(page.locator("#empty-heading")).to_have_text("Intet aktivt opkald")
    expect(page.locator("#call-heading")).to_have_count(0)
    expect(page.locator("#next-call")).to_be_visible()
    expect(page.locator("#agent-state")).to_have_text("Klar")
    with live_server.api("supervisor") as api:
        done = api.get(f"/api/calls/{call_id}").json()
    assert done["state"] == "done"
    assert done["contact_reason_code"] == "pas" and done["outcome"] == "referred"
    assert done["municipality_code"] == "0751"


def test_a_caller_in_their_own_words_finds_the_municipality_and_the_rule(page, live_server):
    page.goto("/login")
    page.fill("#username", "agent")
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto("/console")
    if page.locator("#agent-state").inner_text() != "Klar":
        page.keyboard.press("s")
        expect(page.locator("#agent-state")).to_have_text("Klar")
    reference = new_call_on(live_server, to=NO_MUNICIPALITY_LINE, caller="+4520999002")
    expect(page.locator("#queue tr", has_text=reference)).to_be_visible()
    page.keyboard.press("n")
    expect(page.locator("#call-heading")).to_have_text(reference)

    # A place of a municipality outside the hotline: chosen, it says what to do instead.
    page.keyboard.press("m")
    page.keyboard.type("Kongens Lyngby")
    expect(page.locator("#municipality-hits")).to_contain_text("Lyngby-Taarbæk Kommune")
    expect(page.locator("#municipality-hits .hl-hit").first).to_contain_text("Ikke med i hotline")
    tab_to(page, "#municipality-hits li:first-child .hl-hit")
    page.keyboard.press("Enter")
    banner = page.locator(".hl-not-participating")
    expect(banner).to_contain_text("Lyngby-Taarbæk Kommune er ikke med i Digital Hotline")
    expect(page.locator("#reply-composer .hl-not-participating")).to_be_visible()
    # The hit chosen with Tab and Enter is gone with the old list: the keyboard is back in the
    # search, and the composer loading with its warning does not take it away.
    expect(page.locator("#municipality-q")).to_be_focused()

    # The caller lives in Risskov, in Aarhus: the district's name finds the municipality.
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("Risskov")
    expect(page.locator("#municipality-hits")).to_contain_text("8240 Risskov – Aarhus Kommune")
    page.keyboard.press("Enter")
    expect(page.locator(".hl-municipality-chosen")).to_contain_text("Aarhus Kommune")
    expect(page.locator(".hl-not-participating")).to_have_count(0)
    expect(page.locator("#municipality-q")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#municipality-q")).not_to_be_focused()

    # A search with a typo, Enter: the right rule opens.
    expect(page.locator(".hl-rules-search")).to_contain_text("Tryk R for at søge")
    expect(page.locator("#rule-topics .hl-rule-link").first).to_be_visible()
    page.keyboard.press("r")
    expect(page.locator("#rule-search")).to_be_focused()
    page.keyboard.type("mistet det gule sundhedkort")
    page.keyboard.press("Enter")
    expect(page.locator("#rule-detail article[data-topic=sundhedskort]")).to_be_visible()
    expect(page.locator(".hl-rule-link[aria-current]")).to_have_attribute(
        "data-topic", "sundhedskort"
    )
