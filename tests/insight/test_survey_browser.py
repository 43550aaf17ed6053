"""The survey in Chromium: the agent makes the link with the keyboard; the citizen answers with
the keyboard, without cookies, on a page axe-core finds no serious WCAG 2.1 AA problem on. And the
whole loop: reply e-mail with the link, the answer, the supervisor's class, the admin's results,
the month's insight page and PDF."""

import re
from datetime import datetime
from email import message_from_bytes, policy

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from hotline.kit.dates import COPENHAGEN, MONTHS
from tests.browser.conftest import chromium, live_server, log_in, make_ready, page  # noqa: F401
from tests.browser.test_accessibility import axe_page, blocking_violations  # noqa: F401
from tests.browser.test_hotline_flow import new_call_on, wait_for
from tests.browser.test_keyboard_path import tab_to

pytestmark = pytest.mark.browser  # Chromium: not in the lowest-versions run

LOOP_CALLER = "+4520777002"
CITIZEN_EMAIL = "karen.borger@example.dk"
CPR = "010203-1234"
COMMENT = f"Svaret var forkert og jeg er utilfreds. Mit cpr er {CPR}"
MASKED_COMMENT = "Svaret var forkert og jeg er utilfreds. Mit cpr er XXXXXX-XXXX"
CPR_SHAPES = (CPR, "0102031234", "010203")
CALLER_SHAPES = (LOOP_CALLER, "20777002", "20 77 70 02")


def _other_user_page(browser, server, errors: list[str]):
    """A page in a browser context of its own (no cookies), its console errors put in errors."""
    context = browser.new_context(base_url=server.url, accept_downloads=True, locale="da-DK")
    other = context.new_page()
    other.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    other.on("pageerror", lambda e: errors.append(str(e)))
    return other


def _mail_to(server, address: str):
    """The sent message to the address, once the outbox has delivered it."""
    for path in (server.maildir / "new").glob("*"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if any(a.addr_spec == address for a in message["To"].addresses):
            return message
    return None


def _assert_leaks_nothing(text: str) -> None:
    for secret in (*CPR_SHAPES, *CALLER_SHAPES):
        assert secret not in text, secret


def test_the_citizen_experience_loop_from_reply_to_monthly_insight(
    page,  # noqa: F811
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    tmp_path,
):
    # 1. A call on Aarhus's line: the agent takes it, replies by e-mail and wraps up.
    reference = new_call_on(live_server, caller=LOOP_CALLER)
    log_in(page, "agent")
    make_ready(page)
    page.goto("/console")
    row = page.locator("#queue tr", has_text=LOOP_CALLER).first
    row.get_by_role("button").click()
    expect(page.locator("#call-heading")).to_have_text(reference)
    expect(page.locator("#municipality-picker")).to_contain_text("Aarhus Kommune")
    page.fill("#reply-recipient-name", "Karen Borger")
    page.fill("#reply-recipient-email", CITIZEN_EMAIL)
    page.fill("#reply-body", "Du kan bestille tid til nyt pas på aarhus.dk.")
    page.locator("#reply-send").click()
    expect(page.get_by_text("Svaret er lagt i udbakken og bliver sendt om lidt.")).to_be_visible()
    page.select_option("#contact-reason", "pas")
    page.check("#outcome-answered")
    page.locator("#wrap-up-form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text(f"Opkald {reference} afsluttet.")

    # 2. The e-mail the citizen gets invites to the survey with the short link.
    message = wait_for(lambda: _mail_to(live_server, CITIZEN_EMAIL))
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Vil du fortælle os, hvordan det gik? Svar på ét spørgsmål her:" in plain
    link = re.search(rf"{re.escape(live_server.url)}/t/[2-9A-Z]{{8}}\b", plain)
    assert link, plain
    survey_url = link.group(0)
    assert f'href="{survey_url}"' in html

    # 3. The citizen opens the link without any cookie, answers 2 with an angry comment.
    errors: list[str] = []
    citizen = _other_user_page(chromium, live_server, errors)
    assert citizen.goto(survey_url).status == 200
    expect(
        citizen.get_by_role("heading", name="Hvordan gik din henvendelse til Digital Hotline?")
    ).to_be_visible()
    citizen.get_by_label("2 – Utilfreds").check()
    citizen.get_by_label("Vil du fortælle lidt mere? (frivilligt)").fill(COMMENT)
    citizen.get_by_role("button", name="Send svar").click()
    expect(citizen.get_by_role("heading", name="Tak for dit svar")).to_be_visible()
    assert citizen.context.cookies() == []
    citizen.context.close()
    month = datetime.now(COPENHAGEN).date()
    month_name = f"{MONTHS[month.month - 1]} {month.year}"

    # 4. The supervisor sees the comment with the CPR number masked and the suggested class ...
    supervisor = _other_user_page(chromium, live_server, errors)
    log_in(supervisor, "supervisor")
    supervisor.get_by_role("link", name="Tilfredshed", exact=True).click()
    supervisor.wait_for_url("**/supervisor/survey")
    pending = supervisor.locator("section[aria-labelledby=review] .hl-survey-answer").filter(
        has_text=MASKED_COMMENT
    )
    expect(pending).to_have_count(1)
    for seen in ("2 – Utilfreds", "Aarhus Kommune", "Pas", "Forslag: Negativ."):
        expect(pending).to_contain_text(seen)
    expect(pending).to_contain_text("Fundet: forkert, utilfreds.")
    _assert_leaks_nothing(supervisor.locator("main").inner_text())
    # ... keeps the suggestion (already chosen) and saves it: the answer moves to the confirmed.
    expect(pending.get_by_label("Negativ", exact=True)).to_be_checked()
    pending.get_by_role("button", name="Gem klasse").click()
    expect(supervisor.get_by_text("Klassen er gemt.")).to_be_visible()
    expect(pending).to_have_count(0)
    confirmed = supervisor.locator(
        "section[aria-labelledby=confirmed-heading] .hl-survey-answer"
    ).filter(has_text=MASKED_COMMENT)
    expect(confirmed).to_contain_text("Bekræftet som Negativ.")
    expect(confirmed.get_by_role("button", name="Ret klasse")).to_be_visible()
    supervisor.context.close()

    # 5. The Aarhus admin sees the answer counted under its contact reason, as negative ...
    admin = _other_user_page(chromium, live_server, errors)
    log_in(admin, "admin-aarhus")
    admin.get_by_role("link", name="Tilfredshed", exact=True).click()
    admin.wait_for_url("**/admin/survey")
    # The keyboard test wraps its call up as "Flytning": the row of "Pas" is this call's alone.
    by_reason = admin.locator("#survey-by-reason-table tbody tr").filter(
        has=admin.get_by_role("rowheader", name="Pas", exact=True)
    )
    cells = by_reason.locator("td")
    expect(cells).to_have_text(["1", "2,00", "0", "1", "0", "0", "0", "0,0 %", "0,0 %", "100,0 %"])
    expect(admin.locator("#survey-by-municipality-table")).to_contain_text("Aarhus Kommune")
    _assert_leaks_nothing(admin.locator("main").inner_text())

    # ... and in this month's insight, which it chooses on the insight page (last month's is
    # the default), with the comment masked under the negative ones.
    admin.get_by_role("link", name="Indsigt", exact=True).click()
    admin.fill("#insight-month", f"{month:%Y-%m}")
    admin.get_by_role("button", name="Vis", exact=True).click()
    expect(admin.locator("#insight-municipalities")).to_have_text(month_name)
    admin.locator("main").get_by_role("link", name="Aarhus Kommune").click()
    admin.wait_for_url(f"**/insight/0751?month={month:%Y-%m}")
    expect(admin.get_by_role("heading", level=1)).to_have_text(
        f"Indsigt {month_name} – Aarhus Kommune"
    )
    satisfaction = admin.locator("section[aria-labelledby=insight-satisfaction]")
    expect(
        satisfaction.get_by_role("row").filter(has_text="Karakter 2").get_by_role("cell")
    ).to_have_text("1")
    negative = satisfaction.locator("h3:text-is('Negative kommentarer') + ul")
    expect(negative).to_contain_text(MASKED_COMMENT)
    _assert_leaks_nothing(admin.locator("main").inner_text())

    # The PDF on Aarhus's letterhead says the same, and nothing about the caller.
    with admin.expect_download() as download_info:
        admin.get_by_role("link", name="Hent rapporten som PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"indsigt_0751_aarhus_{month:%Y-%m}.pdf"
    pdf_path = tmp_path / "indsigt.pdf"
    download.save_as(pdf_path)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(pdf_path).pages)
    for expected in (
        f"Indsigt {month_name} – Aarhus Kommune",
        "Karakter 2 1",
        "Negative kommentarer",
        MASKED_COMMENT,
    ):
        assert expected in text, expected
    _assert_leaks_nothing(text)
    admin.context.close()
    assert errors == [], f"browser console errors: {errors}"


CALLER = "+4520888001"


def _survey_url_made_by_the_agent(agent_page) -> str:
    log_in(agent_page, "agent")
    make_ready(agent_page)
    agent_page.goto("/console")
    row = agent_page.locator("#queue tr", has_text=CALLER).first
    row.wait_for()
    row.get_by_role("button").click()
    agent_page.wait_for_load_state("networkidle")
    # The survey link has its own tab beside the reply: chosen with the keyboard.
    agent_page.get_by_role("tab", name="Tilfredshed").focus()
    agent_page.keyboard.press("Enter")
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

    # The agent wraps the call up (another reason than the loop test's), free for the next call.
    page.select_option("#contact-reason", "flytning")
    page.check("#outcome-answered")
    page.locator("#wrap-up-form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("afsluttet.")
