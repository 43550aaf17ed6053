"""Cookie sessions: idle and maximum age, the console's stream keeping one alive, cookie flags."""

import json
import time
from base64 import b64decode, b64encode

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from starlette.requests import Request

from hotline.auth.deps import session_time_left
from hotline.auth.models import Role
from hotline.web import live_views
from tests.conftest import TEST_PASSWORD, _csrf_from

COOKIE = "hotline_session"
HTML = {"Accept": "text/html"}
MINUTE = 60


def read_session(client: TestClient) -> dict:
    """The session the browser holds (the cookie is signed, not encrypted)."""
    raw = client.cookies[COOKIE].encode()
    return json.loads(b64decode(_signer(client).unsign(raw)))


def write_session(client: TestClient, data: dict) -> None:
    """Give the browser a validly signed cookie holding this session."""
    value = _signer(client).sign(b64encode(json.dumps(data).encode())).decode()
    [held] = [cookie for cookie in client.cookies.jar if cookie.name == COOKIE]
    client.cookies.set(COOKIE, value, domain=held.domain, path=held.path)


def _signer(client: TestClient) -> TimestampSigner:
    return TimestampSigner(client.app.state.settings.secret_key)


def _back_after(client: TestClient, *, idle_s: float, logged_in_s: float | None = None) -> None:
    """The browser comes back after idle_s seconds without a request."""
    data, now = read_session(client), int(time.time())
    data["seen"] = now - int(idle_s)
    if logged_in_s is not None:
        data["started"] = now - int(logged_in_s)
    write_session(client, data)


@pytest.fixture
def agent_browser(make_user, login):
    return login(make_user(Role.AGENT))


def test_a_session_ends_after_an_hour_without_a_request(agent_browser):
    _back_after(agent_browser, idle_s=60 * MINUTE + 5)
    response = agent_browser.get("/console", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/console"
    page = agent_browser.get("/login")
    assert "Du er blevet logget ud efter 60 minutters inaktivitet." in page.text
    assert "inaktivitet" not in agent_browser.get("/login").text  # said once
    assert agent_browser.get("/console", headers=HTML, follow_redirects=False).status_code == 303


def test_a_request_within_the_hour_keeps_the_session_and_counts_as_activity(agent_browser):
    _back_after(agent_browser, idle_s=59 * MINUTE)
    assert agent_browser.get("/console", headers=HTML).status_code == 200
    assert time.time() - read_session(agent_browser)["seen"] < 10


def test_the_idle_time_is_a_setting(agent_browser, settings):
    settings.session_idle_minutes = 15
    _back_after(agent_browser, idle_s=16 * MINUTE)
    assert agent_browser.get("/api/calls", params={"state": "waiting"}).status_code == 401
    assert "efter 15 minutters inaktivitet" in agent_browser.get("/login").text


def test_an_htmx_request_after_the_idle_time_is_sent_to_the_login_page(agent_browser):
    _back_after(agent_browser, idle_s=2 * 60 * MINUTE)
    response = agent_browser.get("/console/queue", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"


def test_a_session_ends_eight_hours_after_login_however_busy(agent_browser):
    _back_after(agent_browser, idle_s=0, logged_in_s=8 * 60 * MINUTE + 5)
    response = agent_browser.get("/console", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    page = agent_browser.get("/login").text
    assert "Du er blevet logget ud, fordi du har været logget ind i 8 timer." in page


def test_a_session_without_timestamps_must_log_in_again(agent_browser):
    data = read_session(agent_browser)
    del data["started"], data["seen"]
    write_session(agent_browser, data)
    assert agent_browser.get("/console", follow_redirects=False).status_code == 401


def test_seen_is_rewritten_at_most_once_a_minute(agent_browser):
    agent_browser.get("/console")
    response = agent_browser.get("/console")
    assert response.status_code == 200 and "set-cookie" not in response.headers
    _back_after(agent_browser, idle_s=61)
    assert "set-cookie" in agent_browser.get("/console").headers


def test_an_open_console_stream_counts_as_activity(agent_browser, monkeypatch):
    monkeypatch.setattr(live_views, "STREAM_MAX_SECONDS", 0)  # end after the first render
    _back_after(agent_browser, idle_s=59 * MINUTE)
    with agent_browser.stream("GET", "/console/stream") as response:
        assert response.status_code == 200
        response.read()
    assert time.time() - read_session(agent_browser)["seen"] < 10


def test_a_stream_reconnects_before_the_session_could_go_idle_or_reach_its_maximum(app, settings):
    now = int(time.time())

    def time_left(started: int) -> float:
        scope = {"type": "http", "app": app, "session": {"started": started, "seen": now}}
        return session_time_left(Request(scope))

    assert time_left(now) == pytest.approx(30 * MINUTE, abs=2)  # half the idle time
    assert time_left(now - 8 * 3600 + 100) == pytest.approx(100, abs=2)  # the maximum age
    assert time_left(now - 9 * 3600) == 0


def test_the_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    cookie = _login_cookie(client, make_user)
    assert "; httponly" in cookie and "; samesite=lax" in cookie
    assert "; secure" not in cookie  # plain HTTP on loopback: a Secure cookie would never return


def test_the_session_cookie_is_secure_over_https_and_hsts_is_sent(app, make_user):
    with TestClient(app, base_url="https://hotline.example") as browser:
        cookie = _login_cookie(browser, make_user)
        assert "; secure" in cookie and "; httponly" in cookie and "; samesite=lax" in cookie
        response = browser.get("/login")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_session_cookie_is_secure_when_the_setting_says_so(settings):
    from hotline.main import create_app

    settings.secure_cookies = True
    with TestClient(create_app(settings)) as browser:
        response = browser.get("/login")  # its session holds the CSRF token
        assert "; secure" in response.headers["set-cookie"]
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def _login_cookie(browser: TestClient, make_user) -> str:
    browser.get("/login")
    user = make_user(Role.AGENT)
    token = _csrf_from(browser.get("/login").text)
    form = {"username": user.username, "password": TEST_PASSWORD, "csrf_token": token}
    response = browser.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303
    return response.headers["set-cookie"].lower()


@pytest.mark.parametrize("path", ["/login", "/api/municipalities/0751", "/healthz"])
def test_every_response_has_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP


def test_pages_are_never_stored_and_static_files_may_be(agent_browser):
    # Every route of the permission matrix is checked for no-store there; here the exceptions.
    assert agent_browser.get("/console").headers["Cache-Control"] == "no-store"
    assert agent_browser.get("/nowhere").headers["Cache-Control"] == "no-store"
    static = agent_browser.get("/static/app/favicon.svg")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_a_logged_in_browser_gets_the_same_flags_on_every_new_cookie(agent_browser):
    _back_after(agent_browser, idle_s=61)
    cookie = agent_browser.get("/console").headers["set-cookie"].lower()
    assert "; httponly" in cookie and "; samesite=lax" in cookie
