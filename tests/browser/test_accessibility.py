"""WCAG 2.1 AA: axe-core in Chromium finds no violation of any impact on pages and error pages."""

import json
from pathlib import Path

import pytest

from tests.browser.conftest import log_in, make_ready
from tests.browser.test_hotline_flow import new_call_on

AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core 4.14.1 (MPL-2.0), from npm
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def axe_page(chromium, live_server):
    """A page whose context lets the test inject axe-core (the app's CSP would refuse it)."""
    context = chromium.new_context(base_url=live_server.url, bypass_csp=True, locale="da-DK")
    page = context.new_page()
    yield page
    context.close()


def blocking_violations(page) -> list[str]:
    """The WCAG 2.1 A/AA violations of any impact on the page as it is now."""
    return violations(page, WCAG_TAGS)


def violations(page, tags: list[str], impacts: set[str] | None = None) -> list[str]:
    """The violations of the rules with these tags, of these impacts (None: any)."""
    page.add_script_tag(path=str(AXE))
    # Only the violations are read: axe-core then gives the other kinds of result one node each,
    # which halves its run on a large page (the violations are found and listed in full).
    only = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]}
    options = json.dumps(only)
    result = page.evaluate(f"async () => await axe.run(document, {options})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result["violations"]
        if impacts is None or v["impact"] in impacts
    ]


def test_the_login_page(axe_page):
    axe_page.goto("/login")
    assert blocking_violations(axe_page) == []


def test_the_agent_console_with_an_active_call(axe_page, live_server):
    caller = "+4520777001"
    new_call_on(live_server, caller=caller)
    log_in(axe_page, "agent")
    assert blocking_violations(axe_page) == []  # the queue, "Ikke klar"
    make_ready(axe_page)
    row = axe_page.locator("#queue tr", has_text=caller).first
    row.wait_for()
    row.get_by_role("button").click()
    axe_page.wait_for_load_state("networkidle")
    axe_page.locator("#rule-topics [data-topic=pas]").click()
    axe_page.locator("#rule-detail").get_by_text("Dokk1").first.wait_for()
    assert blocking_violations(axe_page) == []  # call, rules panel, reply composer
    axe_page.locator("#rule-search").fill("hunden har tygget i passet")
    axe_page.locator(".hl-weak-badge").first.wait_for()
    axe_page.locator("#municipality-q").fill("Lystrup")
    axe_page.locator("#municipality-hits .hl-hit-context").first.wait_for()
    assert blocking_violations(axe_page) == []  # weak search hits and the municipality picker
    # The right column's tabs: notes, the callback form and the survey link, each shown.
    axe_page.locator("#tab-callback").click()
    axe_page.locator("#callback-panel button").click()
    axe_page.locator("#callback-form").wait_for()
    assert blocking_violations(axe_page) == []
    axe_page.locator("#tab-survey").click()
    axe_page.locator("#survey-link-panel button").click()
    axe_page.locator("#survey-url").wait_for()
    axe_page.locator("#tab-notes").click()
    assert blocking_violations(axe_page) == []


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("admin-aarhus", "/admin/rules"),
        ("admin-aarhus", "/admin/rules/0751/pas"),
        ("admin-aarhus", "/admin/rules/0751/pas/history"),
        ("admin-aarhus", "/admin/rules/flags"),
        ("admin-aarhus", "/arkiv"),
        ("admin-aarhus", "/insight/0751"),
        ("admin-aarhus", "/admin/survey"),
        ("admin-aarhus", "/admin/search"),
        ("supervisor", "/supervisor"),
        ("supervisor", "/supervisor/cost-model"),
        ("supervisor", "/supervisor/calls?from=2026-11-01&to=2026-11-30&municipality=0751"),
        ("supervisor", "/arkiv"),
        ("supervisor", "/supervisor/survey"),
        ("supervisor", "/admin/audit"),
        ("supervisor", "/account"),
        ("sysadmin", "/admin/users"),
        ("sysadmin", "/admin/users/new"),
        ("sysadmin", "/admin/privacy/access"),
    ],
)
def test_the_admin_and_supervisor_pages(axe_page, sign_in, username, path):
    sign_in(axe_page.context, username)
    response = axe_page.goto(path)
    assert response.status == 200
    axe_page.wait_for_load_state("networkidle")
    assert blocking_violations(axe_page) == []


@pytest.mark.parametrize(
    ("username", "path", "status"),
    [
        (None, "/findes-ikke", 404),
        ("agent", "/findes-ikke", 404),
        ("sysadmin", "/admin/rules/0751/findes-ikke", 404),
        ("admin-aarhus", "/admin/users", 403),
        ("agent", "/supervisor", 403),
    ],
)
def test_the_error_pages_have_no_violation_at_all(axe_page, sign_in, username, path, status):
    # Best practice too (landmarks, headings), and every impact down to minor.
    if username:
        sign_in(axe_page.context, username)
    response = axe_page.goto(path)
    assert response.status == status
    assert violations(axe_page, [*WCAG_TAGS, "best-practice"]) == []


def test_the_check_itself_catches_a_violation(axe_page):
    # An unlabelled text field and a button without a name: both critical in axe-core.
    axe_page.goto("/login")
    axe_page.evaluate(
        "() => document.body.insertAdjacentHTML('beforeend', "
        "'<input type=text id=bad-field><button id=bad-button></button>')"
    )
    found = blocking_violations(axe_page)
    assert any(v.startswith("label ") for v in found), found
    assert any(v.startswith("button-name ") for v in found), found


def test_the_rule_form_with_several_errors(axe_page, sign_in):
    sign_in(axe_page.context, "admin-aarhus")
    axe_page.goto("/admin/rules/0751/pas")
    axe_page.fill("#body_md", " ")
    axe_page.fill("#fee_dkk", "gratis")
    axe_page.fill("#valid_from", "2026-05-01")
    axe_page.fill("#valid_to", "2026-04-01")
    axe_page.get_by_role("button", name="Gem kladde").click()
    axe_page.wait_for_load_state("networkidle")

    # Focus is on the error summary, which links to each field marked with its message.
    assert axe_page.evaluate("document.activeElement.id") == "error-summary"
    links = axe_page.locator("#error-summary a")
    assert links.count() == 3
    assert axe_page.locator(".form-group.form-error").count() == 3
    assert blocking_violations(axe_page) == []
    links.nth(1).click()
    assert axe_page.evaluate("document.activeElement.id") == "fee_dkk"
