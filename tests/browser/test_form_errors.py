"""Forms sent by htmx with mistakes: answered 422 with the form, which htmx swaps in (base.html)."""

from playwright.sync_api import expect

EDIT_PAGE = "/admin/rules/0751/pas"


def test_a_preview_with_mistakes_is_answered_422_and_shown_at_once(page, sign_in):
    sign_in(page.context, "admin-aarhus")
    page.goto(EDIT_PAGE)
    page.fill("#fee_dkk", "gratis")
    with page.expect_response(lambda r: r.url.endswith("/draft/preview")) as answer:
        page.get_by_role("button", name="Vis forhåndsvisning").click()

    assert answer.value.status == 422
    problems = page.locator("#draft-preview .alert-error")
    expect(problems).to_contain_text("Skriv gebyret som et helt antal kroner")
    expect(problems.locator('a[href="#fee_dkk"]')).to_be_visible()
    expect(page.locator("#draft-preview-heading")).to_be_focused()
    expect(page.locator("#hl-flash")).to_be_hidden()
    assert page.input_value("#fee_dkk") == "gratis"  # only the preview's area was swapped


def test_a_422_that_is_not_html_is_not_swapped_but_reported(page, sign_in):
    sign_in(page.context, "admin-aarhus")
    page.goto(EDIT_PAGE)
    area = page.locator("#draft-preview")
    before = area.inner_html()
    # A malformed query is refused by FastAPI with JSON, not with a fragment to show.
    with page.expect_response(lambda r: "/console/rules?" in r.url) as answer:
        page.evaluate(
            "() => htmx.ajax('GET', '/console/rules?municipality=x', {target: '#draft-preview'})"
        )

    assert answer.value.status == 422
    expect(page.locator("#hl-flash")).to_have_text("Der skete en fejl. Prøv igen.")
    assert area.inner_html() == before
    # htmx logs the failed request, as it does every other.
    page.console_errors[:] = [e for e in page.console_errors if "Code 422" not in e]
