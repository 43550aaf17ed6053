"""The live queue in Chromium: calls appear on consoles and boards without a reload, as patches."""

import uuid

from tests.browser.conftest import log_in, make_ready, mark_document, same_document
from tests.browser.test_hotline_flow import AARHUS_LINE, new_call_on


def test_a_new_call_appears_on_the_console_and_the_board_without_a_reload(
    page, chromium, live_server
):
    log_in(page, "agent")
    make_ready(page)
    board_context = chromium.new_context(base_url=live_server.url, locale="da-DK")
    board = board_context.new_page()
    try:
        log_in(board, "supervisor")
        board.goto("/supervisor")
        mark_document(page)

        caller = "+4520888001"
        reference = new_call_on(live_server, caller=caller)

        page.locator("#queue tr", has_text=caller).first.wait_for(timeout=10_000)
        board.get_by_text(reference).first.wait_for(timeout=10_000)
        assert same_document(page)  # pushed over the stream, not by reloading the page

        # The agent takes it; the board shows them on that call, still without a reload.
        page.locator("#queue tr", has_text=caller).first.get_by_role("button").click()
        page.wait_for_load_state("networkidle")
        agent_row = board.locator("tr", has_text=reference).first
        agent_row.wait_for(timeout=10_000)
        board.wait_for_function(
            "ref => [...document.querySelectorAll('tr')].some("
            "r => r.textContent.includes(ref) && /Aarhus/.test(r.textContent))",
            arg=reference,
            timeout=10_000,
        )
    finally:
        board_context.close()


def test_rows_are_patched_in_place_and_the_keyboard_stays_on_its_row(page, live_server):
    log_in(page, "supervisor")  # supervisors take calls too; the agent has one from the test above
    make_ready(page)
    mark_document(page)
    first_id, first_caller, second_caller = uuid.uuid4().hex, "+4520777001", "+4520777002"
    answer = live_server.post_cti(
        event="newCall", direction="in", callId=first_id, to=AARHUS_LINE, **{"from": first_caller}
    )
    assert answer.status_code == 200, answer.text
    first_row = page.locator("#queue tr", has_text=first_caller)
    first_row.wait_for(timeout=10_000)
    take_first = first_row.get_by_role("button")
    take_first.focus()
    first_take_id = take_first.get_attribute("id")

    # A second call comes as a patch: one new row; the focused row is left where it is.
    second = new_call_on(live_server, caller=second_caller)
    second_row = page.locator("#queue tr", has_text=second_caller)
    second_row.wait_for(timeout=10_000)
    assert page.evaluate("document.activeElement.id") == first_take_id

    # The first caller hangs up: its row goes, the keyboard falls back to "next call", and the
    # positions are numbered afresh.
    assert live_server.post_cti(event="hangup", callId=first_id).status_code == 200
    first_row.wait_for(state="detached", timeout=10_000)
    assert page.evaluate("document.activeElement.id") == "next-call"
    positions = page.locator("#queue .hl-queue-position").all_text_contents()
    assert positions == [f"{n}." for n in range(1, len(positions) + 1)]

    # A patched-in row's button submits the page's one claim form, which holds the CSRF token.
    assert same_document(page)
    take_second = second_row.get_by_role("button")
    assert take_second.get_attribute("form") == "queue-form"
    assert take_second.get_attribute("formaction").endswith("/claim")
    assert page.locator("#queue-form input[name=csrf_token]").get_attribute("value")
    assert second in second_row.inner_text()
