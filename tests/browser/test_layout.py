"""No page scrolls sideways or fails axe: every page each role can reach, at 1366×768 and 1920×1080.

The pages come from the app's own routes (every GET route outside /api/ that answers the role
with a whole HTML page), so a new page is covered without being listed here. Path parameters are
filled from the demo data; a page that needs query values gets them from QUERY.
"""

import re
import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from hotline.auth.models import Role, User
from hotline.calls.models import Call
from hotline.config import Settings
from hotline.db import make_engine, make_sessionmaker
from hotline.insight.survey import ensure_invite
from hotline.main import create_app
from hotline.web.navigation import header_menu
from tests.browser.conftest import log_in
from tests.browser.test_hotline_flow import AARHUS_LINE, new_call_on
from tests.test_permission_matrix import app_routes

SIZES = [(1366, 768), (1920, 1080)]
ROLES = {
    "agent": Role.AGENT,
    "supervisor": Role.SUPERVISOR,
    "admin-aarhus": Role.MUNICIPALITY_ADMIN,
    "admin-aalborg": Role.MUNICIPALITY_ADMIN,
    "sysadmin": Role.SYSTEM_ADMIN,
}
MUNICIPALITY = {"admin-aalborg": "0851"}  # everyone else looks at Aarhus (0751)
# FastAPI's generated API description: not the hotline's pages.
NOT_PAGES = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
_first = date.today().replace(day=1)
# Query values of pages that answer 422 without them ({code}: the user's municipality).
QUERY = {
    "/supervisor/calls": {"from": _first.isoformat(), "to": date.today().isoformat()},
    "/console/rules": {"municipality": "{code}"},
    "/console/rules/{slug}": {"municipality": "{code}"},
    "/console/essentials": {"municipality": "{code}"},
    "/console/municipalities": {"q": "Aarhus"},
}
# Pages the demo data has nothing for, and why.
NO_DEMO_DATA = {
    "/supervisor/report-jobs/{job_id}": "a job exists only once a POST has started one",
    "/supervisor/report-jobs/{job_id}/download": "the same job's file",
}
MISSING = "/findes-ikke"  # the 404 page, for every role
MEASURE = """() => {
  const logout = document.querySelector('.hl-user button');
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
          logout: logout ? logout.getBoundingClientRect().right : null};
}"""
BOARD_BOXES = """() => ['board-agents', 'board-queue'].map(id => {
  const box = document.getElementById(id).getBoundingClientRect();
  return {left: box.left, right: box.right, top: box.top, bottom: box.bottom};
})"""


@pytest.fixture(scope="module")
def busy_hotline(live_server) -> dict[str, str]:
    """Calls waiting and answered, a survey invite; returns demo values of path parameters."""
    for number in range(3):
        new_call_on(live_server, caller=f"+452099000{number}")
    # The agent and the supervisor answer one each on the phone; the platform tells the hotline.
    references = {}
    for number, username in enumerate(("agent", "supervisor")):
        event = {"callId": uuid.uuid4().hex, "to": AARHUS_LINE, "from": f"+452099100{number}"}
        assert live_server.post_cti(event="newCall", direction="in", **event).status_code == 200
        answered = live_server.post_cti(event="answer", user=username, **event)
        assert answered.status_code == 200, answered.text
        references[username] = answered.json()["reference"]
    engine = make_engine(live_server.env["HOTLINE_DATABASE_URL"])
    with make_sessionmaker(engine)() as session:
        first_call = session.scalar(select(Call.id).order_by(Call.id))
        invite = ensure_invite(session=session, call_id=first_call, settings=Settings())
        values = {
            "call_id": str(
                session.scalar(select(Call.id).where(Call.reference == references["agent"]))
            ),
            "user_id": str(session.scalar(select(User.id).where(User.username == "agent"))),
            "slug": "pas",
            "survey_code": invite.code,
        }
        session.commit()
    engine.dispose()
    return values


@pytest.fixture(scope="module")
def route_paths(tmp_path_factory) -> list[str]:
    """Every GET path template outside /api/ the app serves."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("routes"), demo_mode=True))
    return sorted(
        path
        for method, path in app_routes(app)
        if method == "GET"
        and not path.startswith("/api/")
        and path not in NOT_PAGES
        and path not in NO_DEMO_DATA
    )


def fill(template: str, values: dict[str, str]) -> str:
    """The path with its parameters filled in, and its QUERY values."""
    if template == "/t/{code}":  # the public survey page's code is the invite's
        values = {**values, "code": values["survey_code"]}

    def value(match: re.Match) -> str:
        name = match.group(1)
        assert name in values, (
            f"{template}: give {{{name}}} a demo value, or add it to NO_DEMO_DATA"
        )
        return values[name]

    path = re.sub(r"{(\w+)(?::\w+)?}", value, template)
    query = {k: v.format(**values) for k, v in QUERY.get(template, {}).items()}
    return str(httpx.URL(path, params=query)) if query else path


def reachable_pages(base_url: str, cookies: dict[str, str], paths: list[str]) -> list[str]:
    """The paths that answer with a whole HTML page (not a fragment, file, stream or refusal)."""
    pages = []
    with httpx.Client(base_url=base_url, cookies=cookies, timeout=15) as client:
        for path in paths:
            with client.stream("GET", path, headers={"Accept": "text/html"}) as response:
                assert response.status_code != 422, f"{path}: add its query values to QUERY"
                if response.status_code != 200:
                    continue  # a refusal (403), a redirect, or an id this role may not see
                if not response.headers.get("content-type", "").startswith("text/html"):
                    continue  # a stream or a download: do not read it
                if response.read().lstrip()[:15].lower() == b"<!doctype html>":
                    pages.append(path)
    return pages


def overflowing(page, paths: list[str]) -> list[str]:
    """Each path, at each size, that scrolls sideways or puts "Log ud" out of sight."""
    found = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for path in paths:
            page.goto(path, wait_until="load")
            page.wait_for_function("() => !document.querySelector('.htmx-request')")
            seen = page.evaluate(MEASURE)
            if seen["scroll"] > seen["inner"]:
                found.append(f"{path} at {width}px: {seen['scroll']} px wide")
            if seen["logout"] is not None and seen["logout"] > seen["inner"]:
                found.append(f"{path} at {width}px: 'Log ud' ends at {seen['logout']} px")
    return found


@pytest.mark.parametrize("username", list(ROLES))
def test_no_page_scrolls_sideways(
    chromium, live_server, sign_in, busy_hotline, route_paths, username
):
    values = {**busy_hotline, "code": MUNICIPALITY.get(username, "0751")}
    context = chromium.new_context(base_url=live_server.url, locale="da-DK")
    try:
        page = context.new_page()
        sign_in(context, username)
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        paths = [fill(template, values) for template in route_paths]
        pages = reachable_pages(live_server.url, cookies, paths)
        # Every link of the role's menu leads to one of them.
        menu = {link.href for link in header_menu(User(role=ROLES[username])).links}
        assert menu <= set(pages), f"menu links that are no page: {menu - set(pages)}"
        assert overflowing(page, [*pages, MISSING]) == []
    finally:
        context.close()


def test_no_public_page_scrolls_sideways(chromium, live_server, busy_hotline, route_paths):
    paths = [fill(template, {**busy_hotline, "code": "0751"}) for template in route_paths]
    pages = reachable_pages(live_server.url, {}, paths)
    assert {"/login", f"/t/{busy_hotline['survey_code']}"} <= set(pages)
    context = chromium.new_context(base_url=live_server.url, locale="da-DK")
    try:
        assert overflowing(context.new_page(), [*pages, MISSING]) == []
    finally:
        context.close()


def test_the_supervisor_board_keeps_its_tables_apart(chromium, live_server, busy_hotline):
    agent = chromium.new_context(base_url=live_server.url, locale="da-DK")
    board = chromium.new_context(base_url=live_server.url, locale="da-DK")
    try:
        log_in(agent.new_page(), "agent")  # an open console: the agent is on the board
        page = board.new_page()
        log_in(page, "supervisor")
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.goto("/supervisor", wait_until="load")
            page.locator("#board-agents tbody tr").first.wait_for()
            page.locator("#board-queue tbody tr").first.wait_for()
            # Both boxes in one go: the live stream may swap the board in between two calls.
            agents, queue = page.evaluate(BOARD_BOXES)
            beside = agents["right"] <= queue["left"]
            below = queue["top"] >= agents["bottom"]
            assert beside or below, (width, agents, queue)
    finally:
        board.close()
        agent.close()


@pytest.mark.parametrize("username", list(ROLES))
def test_axe_finds_no_violation_on_any_page(
    chromium, live_server, sign_in, busy_hotline, route_paths, username
):
    from tests.browser.test_accessibility import WCAG_TAGS, violations

    values = {**busy_hotline, "code": MUNICIPALITY.get(username, "0751")}
    # bypass_csp: the test injects axe-core, which the app's own CSP would refuse.
    context = chromium.new_context(base_url=live_server.url, locale="da-DK", bypass_csp=True)
    try:
        page = context.new_page()
        sign_in(context, username)
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        pages = reachable_pages(live_server.url, cookies, [fill(t, values) for t in route_paths])
        assert {link.href for link in header_menu(User(role=ROLES[username])).links} <= set(pages)
        found = {}
        for path in [*pages, MISSING]:
            page.goto(path, wait_until="load")
            page.wait_for_function("() => !document.querySelector('.htmx-request')")
            if problems := violations(page, WCAG_TAGS):
                found[path] = problems
        assert found == {}
    finally:
        context.close()
