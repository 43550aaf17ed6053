"""The console on a municipal laptop (1366×768) and a large screen (1920×1080), in Chromium.

The layout rules are asserted from bounding boxes: the reply's text area shows at least twelve
lines without scrolling inside a box, "Afslut opkald" stays in the viewport whatever tab is
open, no scroll area sits inside or above another, and nothing scrolls sideways.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, make_ready, mark_document, same_document
from tests.browser.test_hotline_flow import new_call_on

SIZES = [(1366, 768), (1920, 1080)]

# What the agent sees of the layout, measured in the page.
MEASURE = """() => {
  const rect = (el) => el.getBoundingClientRect();
  const body = document.getElementById("reply-body");
  const panels = document.querySelector(".hl-work-panels");
  const actions = document.querySelector(".hl-reply-actions");
  let lines = 0;
  if (body && body.offsetParent) {
    const b = rect(body), p = rect(panels), a = actions ? rect(actions) : {top: Infinity};
    const style = getComputedStyle(body);
    const inner = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom)
      + parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
    const top = Math.max(b.top, p.top, 0);
    const bottom = Math.min(b.bottom, p.bottom, a.top, innerHeight);
    lines = Math.floor((bottom - top - inner) / parseFloat(style.lineHeight));
  }
  const submit = rect(document.querySelector("#wrap-up-form button[type=submit]"));
  const scrolling = [...document.querySelectorAll("body *")].filter((el) => {
    const y = getComputedStyle(el).overflowY;
    return el.tagName !== "TEXTAREA" && (y === "auto" || y === "scroll")
      && el.scrollHeight > el.clientHeight + 1 && el.offsetParent;
  }).map((el) => {
    const r = rect(el);
    return {name: el.id || el.className, left: r.left, right: r.right};
  });
  return {
    lines,
    submitInView: submit.top >= 0 && submit.bottom <= innerHeight && submit.height > 0,
    scrollWidth: document.documentElement.scrollWidth,
    width: innerWidth,
    scrolling,
  };
}"""


def stacked_scroll_areas(scrolling: list[dict]) -> list[tuple[str, str]]:
    """Pairs of scroll areas in the same column (their horizontal extents overlap)."""
    return [
        (a["name"], b["name"])
        for i, a in enumerate(scrolling)
        for b in scrolling[i + 1 :]
        if min(a["right"], b["right"]) - max(a["left"], b["left"]) > 1
    ]


@pytest.fixture
def laptop(chromium, live_server):
    """A page at the common municipal screen size."""
    context = chromium.new_context(
        base_url=live_server.url, locale="da-DK", viewport={"width": 1366, "height": 768}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    # A form sent with errors is answered 422, which the browser logs; nothing else may be.
    assert [e for e in errors if "status of 422" not in e] == []


def take_a_call(page, live_server, caller: str) -> str:
    """The ready agent takes a new call on Aarhus's line; returns its reference."""
    reference = new_call_on(live_server, caller=caller)
    expect(page.locator("#queue tr", has_text=reference)).to_be_visible()
    page.locator("#next-call").click()
    expect(page.locator("#call-heading")).to_have_text(reference)
    expect(page.locator("#reply-body")).to_be_visible()
    return reference


def wrap_up(page, reference: str) -> None:
    """Finish the open call with a reason and an outcome."""
    page.select_option("#contact-reason", "pas")
    page.locator("#wrap-up-form button[type=submit]").click()
    expect(page.locator(".hl-console-flash")).to_contain_text(f"Opkald {reference} afsluttet")


def test_the_reply_has_room_and_the_wrap_up_stays_in_view(laptop, live_server):
    page = laptop
    log_in(page, "agent")
    make_ready(page)
    reference = take_a_call(page, live_server, caller="+4520888001")
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        shown = page.evaluate(MEASURE)
        assert shown["lines"] >= (12 if height < 900 else 20), (width, shown)
        assert shown["submitInView"], (width, "reply")
        assert shown["scrollWidth"] <= shown["width"], (width, shown)
        assert stacked_scroll_areas(shown["scrolling"]) == [], (width, shown["scrolling"])

        # The callback form and the survey link open in their tabs: the wrap-up stays in view.
        page.locator("#tab-callback").click()
        page.locator("#callback-panel button").click()
        expect(page.locator("#callback-form")).to_be_visible()
        page.locator("#tab-survey").click()
        page.locator("#survey-link-panel button").click()
        expect(page.locator("#survey-url")).to_be_visible()
        for tab in ("callback", "survey", "notes"):
            page.locator(f"#tab-{tab}").click()
            expect(page.locator(f"#work-{tab}")).to_be_visible()
            shown = page.evaluate(MEASURE)
            assert shown["submitInView"], (width, tab)
            assert shown["scrollWidth"] <= shown["width"], (width, tab)
            assert stacked_scroll_areas(shown["scrolling"]) == [], (width, tab, shown["scrolling"])

        # Back to the reply: it kept its room.
        page.locator("#tab-reply").click()
        assert page.evaluate(MEASURE)["lines"] >= 12
        page.reload()
        expect(page.locator("#reply-body")).to_be_visible()
    wrap_up(page, reference)


def test_errors_are_at_their_fields_and_the_focus_goes_to_the_first(laptop, live_server):
    page = laptop
    log_in(page, "agent")
    make_ready(page)
    reference = take_a_call(page, live_server, caller="+4520888002")

    # An overlong reply says so at the field while it is typed, with the limit, before sending.
    body = page.locator("#reply-body")
    body.fill("x" * 20_001)
    message = page.locator("#reply-body-length")
    expect(message).to_have_text("Svaret er for langt: 20.001 tegn, højst 20.000.")
    expect(body).to_have_attribute("aria-invalid", "true")
    assert "reply-body-length" in body.get_attribute("aria-describedby")
    body.press("Backspace")
    expect(message).to_have_count(0)
    expect(body).not_to_have_attribute("aria-invalid", "true")

    # Sent anyway, too long and with a bad address: each error at its field, the focus on the first.
    body.fill("x" * 20_001)
    page.fill("#reply-recipient-email", "ikke en adresse")
    page.locator("#reply-send").click()
    expect(page.locator("#body_md-error")).to_contain_text("højst 20.000")
    expect(page.locator("#recipient_email-error")).to_be_visible()
    expect(page.locator("#reply-body")).to_be_focused()
    expect(page.locator("#reply-body")).to_have_value("x" * 20_001)  # nothing lost

    # A CPR number in the notes never leaves the browser: the notes' tab opens at the warning.
    page.locator("#tab-notes").click()
    page.fill("#call-notes", "Borgeren gav CPR 010190-1234")
    page.locator("#tab-reply").click()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/wrap-up") else None)
    page.locator("#wrap-up-form button[type=submit]").click()
    expect(page.locator("#call-notes")).to_be_focused()
    assert sent == []
    expect(page.locator("#tab-notes")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#notes-warning")).to_contain_text("CPR")

    # A wrap-up with three errors: all are shown at their fields; the notes' tab opens on the first.
    page.fill("#call-notes", "n" * 10_001)
    expect(page.locator("#call-notes-length")).to_have_text(
        "Noterne er for lange: 10.001 tegn, højst 10.000."
    )
    page.locator("#tab-reply").click()
    page.check("#avoidable")
    page.fill("#avoidable-url", "ikke en adresse")
    page.locator("#wrap-up-form button[type=submit]").click()
    expect(page.locator("#call-notes-error")).to_contain_text("10.000")
    expect(page.locator("#contact-reason-error")).to_contain_text("henvendelsesårsag")
    expect(page.locator("#avoidable-url-error")).to_be_visible()
    expect(page.locator("#call-notes")).to_be_focused()
    expect(page.locator("#tab-notes")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#wrap-up-form button[type=submit]")).to_be_in_viewport()
    # Only the wrap-up came back: the reply being written is still there.
    expect(page.locator("#reply-body")).to_have_value("x" * 20_001)

    page.fill("#call-notes", "Borgeren spurgte om pas.")
    page.uncheck("#avoidable")
    wrap_up(page, reference)


def test_an_agent_who_is_not_ready_takes_no_call(laptop, live_server):
    page = laptop
    log_in(page, "agent")
    page.goto("/console")
    expect(page.locator("#agent-state")).to_have_text("Ikke klar")
    reference = new_call_on(live_server, caller="+4520888003")
    expect(page.locator("#queue tr", has_text=reference)).to_be_visible()

    # The button says why; neither it nor the shortcut takes the call; no row has a take button.
    next_call = page.locator("#next-call")
    expect(next_call).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#next-call-why")).to_contain_text("Du er meldt ikke klar")
    expect(page.locator("#queue tr", has_text=reference).get_by_role("button")).to_have_count(0)
    page.keyboard.press("n")
    expect(next_call).to_be_focused()
    next_call.click(force=True)  # force: Playwright itself won't click an aria-disabled button
    page.wait_for_timeout(300)
    expect(page.locator("#call-heading")).to_have_count(0)
    with live_server.api("supervisor") as api:
        waiting = api.get("/api/calls", params={"state": "waiting"}).json()
    assert reference in [c["reference"] for c in waiting]

    # Ready: the same shortcut takes it.
    page.locator("body").click()
    page.keyboard.press("s")
    expect(page.locator("#agent-state")).to_have_text("Klar")
    expect(next_call).not_to_have_attribute("aria-disabled", "true")
    page.keyboard.press("n")
    expect(page.locator("#call-heading")).to_have_text(reference)
    wrap_up(page, reference)


def test_enter_on_hits_that_just_arrived_chooses_without_reloading(laptop, live_server):
    page = laptop
    log_in(page, "agent")
    make_ready(page)
    reference = take_a_call(page, live_server, caller="+4520888004")
    page.locator("#reply-body").fill("Et svar, der ikke må gå tabt.")
    mark_document(page)
    # Widen the moment between hits arriving and htmx wiring them up, as a busy machine does.
    page.evaluate("() => { htmx.config.defaultSettleDelay = 800; }")
    page.keyboard.press("Escape")
    page.keyboard.press("m")
    page.keyboard.type("Skagen")
    expect(page.locator("#municipality-hits")).to_contain_text("Frederikshavn Kommune")
    page.keyboard.press("Enter")
    expect(page.locator(".hl-municipality-chosen")).to_contain_text("Frederikshavn Kommune")
    expect(page.locator("#municipality-q")).to_be_focused()
    assert same_document(page)  # chosen by htmx, not by reloading the console
    expect(page.locator("#reply-body")).to_have_value("Et svar, der ikke må gå tabt.")
    wrap_up(page, reference)
