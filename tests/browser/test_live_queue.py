"""The live queue in Chromium: a new call appears on open consoles and boards without a reload."""

from tests.browser.conftest import log_in, make_ready, mark_document, same_document
from tests.browser.test_hotline_flow import new_call_on


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
