"""The user's own account: details, personal API tokens, logging out everywhere."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hotline.audit.models import AuditEntry
from hotline.auth.models import ApiToken, Role, User, UserSession
from hotline.auth.service import issue_api_token
from hotline.calls.models import AgentState, AgentStatus
from tests.auth.test_sessions import read_session
from tests.conftest import log_in_client

HTML = {"Accept": "text/html"}
SEARCH = "/api/municipalities?q=8000"


def _audit(session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _token_of(session, user: User, name: str) -> ApiToken:
    session.expire_all()
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == name)
    ).one()


def _bearer(app, value: str) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {value}"})


def test_the_page_shows_the_users_details_and_tokens(make_user, login, session):
    user = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Sofie Ågård")
    issue_api_token(session=session, user=user, name="Regneark")
    session.commit()
    page = login(user).get("/account", headers=HTML)
    assert page.status_code == 200
    assert "Min konto" in page.text and "Sofie Ågård" in page.text and "Aarhus" in page.text
    assert "Regneark" in page.text and "Aldrig" in page.text and "Tilbagekald" in page.text
    assert 'href="/account"' in page.text  # the header links to it


def test_a_new_token_is_shown_once_works_and_is_audited(make_user, login, app, session):
    user = make_user(Role.SUPERVISOR)
    browser = login(user)
    page = browser.post("/account/tokens", data={"name": "Power BI"}, headers=HTML)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    [value] = re.findall(r'id="new-token">(hl_[^<]+)<', page.text)
    assert _bearer(app, value).get(SEARCH).status_code == 200
    assert value not in browser.get("/account", headers=HTML).text  # only that once
    token = _token_of(session, user, "Power BI")
    [entry] = _audit(session, "api_token.create")
    assert entry.actor_id == user.id and entry.entity_id == str(token.id)
    assert value not in str(entry.after) and token.token_sha256 not in str(entry.after)


def test_a_token_needs_a_name(make_user, login):
    browser = login(make_user(Role.AGENT))
    page = browser.post("/account/tokens", data={"name": "   "}, headers=HTML)
    assert page.status_code == 422 and "Giv nøglen et navn" in page.text


def test_a_revoked_token_stops_working_at_once_and_the_revocation_is_audited(
    make_user, login, app, session
):
    user = make_user(Role.AGENT)
    value = issue_api_token(session=session, user=user, name="Script")
    session.commit()
    script = _bearer(app, value)
    assert script.get(SEARCH).status_code == 200  # now remembered by this process's token cache
    token = _token_of(session, user, "Script")

    browser = login(user)
    response = browser.post(f"/account/tokens/{token.id}/revoke", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/account?done=revoked"
    assert script.get(SEARCH).status_code == 401
    page = browser.get("/account?done=revoked", headers=HTML).text
    assert "Nøglen er tilbagekaldt" in page and "Tilbagekaldt " in page
    assert _token_of(session, user, "Script").revoked_at is not None
    [entry] = _audit(session, "api_token.revoke")
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"] is not None
    # Revoking it again changes nothing and is not audited twice.
    assert browser.post(f"/account/tokens/{token.id}/revoke").status_code == 200
    assert len(_audit(session, "api_token.revoke")) == 1


def test_nobody_sees_or_revokes_another_users_token(make_user, login, api_client, session):
    owner, other = make_user(Role.AGENT), make_user(Role.SYSTEM_ADMIN)
    issue_api_token(session=session, user=owner, name="Ejers nøgle")
    session.commit()
    token = _token_of(session, owner, "Ejers nøgle")

    browser = login(other)
    assert "Ejers nøgle" not in browser.get("/account", headers=HTML).text
    response = browser.post(f"/account/tokens/{token.id}/revoke", headers=HTML)
    assert response.status_code == 404
    api = api_client(other)
    assert "Ejers nøgle" not in str(api.get("/api/account/tokens").json())
    response = api.post(f"/api/account/tokens/{token.id}/revoke")
    assert response.status_code == 404 and response.json()["error"] == "account.token.not_found"
    assert api.post("/api/account/tokens/99999999999/revoke").status_code == 404
    assert _token_of(session, owner, "Ejers nøgle").revoked_at is None


def test_the_api_lists_and_revokes_the_callers_tokens(make_user, api_client, session):
    user = make_user(Role.AGENT)
    issue_api_token(session=session, user=user, name="Gammel")
    session.commit()
    api = api_client(user)  # its own token is called "test"
    listed = api.get("/api/account/tokens").json()
    assert {t["name"] for t in listed} == {"Gammel", "test"}
    assert all(set(t) == {"id", "name", "created_at", "last_used_at", "revoked_at"} for t in listed)
    own = next(t for t in listed if t["name"] == "test")
    # Its use is recorded as the request that used it commits: the next listing shows it.
    listed_again = api.get("/api/account/tokens").json()
    assert next(t for t in listed_again if t["name"] == "test")["last_used_at"] is not None

    revoked = api.post(f"/api/account/tokens/{own['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert api.get("/api/account/tokens").status_code == 401  # it revoked itself


def test_a_token_cannot_make_tokens_but_a_login_session_can(make_user, api_client, login, app):
    user = make_user(Role.AGENT)
    refused = api_client(user).post("/api/account/tokens", json={"name": "Nøgle nr. 2"})
    assert refused.status_code == 403 and refused.json()["error"] == "account.token.needs_login"

    browser = login(user)  # the session cookie, with the CSRF header
    made = browser.post("/api/account/tokens", json={"name": "Nøgle nr. 2"})
    assert made.status_code == 201 and made.json()["name"] == "Nøgle nr. 2"
    assert _bearer(app, made.json()["token"]).get(SEARCH).status_code == 200
    without_csrf = browser.post(
        "/api/account/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "forged"}
    )
    assert without_csrf.status_code == 403


def test_log_out_everywhere_ends_every_session_of_the_user_only(make_user, app, client, session):
    # (client: the app's lifespan runs around the test; each browser here is a TestClient of it)
    user, colleague = make_user(Role.AGENT), make_user(Role.AGENT)
    here, there = log_in_client(TestClient(app), user), log_in_client(TestClient(app), user)
    theirs = log_in_client(TestClient(app), colleague)
    value = issue_api_token(session=session, user=user, name="Script")
    session.commit()
    assert here.post("/console/state", data={"state": "available"}).status_code == 200
    assert session.get(AgentStatus, user.id).state == AgentState.AVAILABLE

    response = here.post("/account/logout-everywhere", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "Du er logget ud alle steder" in here.get("/login").text
    for browser in (here, there):
        assert browser.get("/console", follow_redirects=False).status_code == 401
    assert theirs.get("/console").status_code == 200
    assert _bearer(app, value).get(SEARCH).status_code == 200  # API tokens are revoked one by one
    session.expire_all()
    assert session.get(AgentStatus, user.id).state == AgentState.AWAY
    [entry] = _audit(session, "user.logout_everywhere")
    assert (
        entry.actor_id == user.id
        and entry.after["session_epoch"] == entry.before["session_epoch"] + 1
    )
    here.headers.pop("X-CSRF-Token")  # the old session's; the login form brings a new one
    assert log_in_client(here, user).get("/console").status_code == 200


def test_log_out_everywhere_through_the_api(make_user, api_client, login, app):
    user = make_user(Role.SUPERVISOR)
    browser = login(user)
    api = api_client(user)
    assert api.post("/api/account/logout-everywhere").json() == {"logged_out": True}
    assert browser.get("/supervisor", follow_redirects=False).status_code == 401
    assert api.get(SEARCH).status_code == 200

    again = log_in_client(TestClient(app), user)
    assert again.post("/api/account/logout-everywhere").status_code == 200
    assert again.get("/supervisor", follow_redirects=False).status_code == 401


def _copy_of(browser: TestClient, app) -> TestClient:
    """A second browser holding a copy of the first one's cookies and CSRF header."""
    thief = TestClient(app)
    for cookie in browser.cookies.jar:
        thief.cookies.set(cookie.name, cookie.value, domain=cookie.domain, path=cookie.path)
    thief.headers["X-CSRF-Token"] = browser.headers["X-CSRF-Token"]
    return thief


def test_logout_ends_the_session_on_the_server_for_every_copy_of_its_cookie(make_user, app, client):
    user = make_user(Role.AGENT)
    browser = log_in_client(TestClient(app), user)
    other_login = log_in_client(TestClient(app), user)
    copy = _copy_of(browser, app)
    assert copy.get("/console").status_code == 200  # the copy works while the session lives

    response = browser.post("/logout", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = copy.get("/console", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert copy.get("/console", follow_redirects=False).status_code == 401
    assert copy.post("/console/state", data={"state": "available"}).status_code == 401
    assert other_login.get("/console").status_code == 200  # only that session ended


def test_the_database_holds_only_a_hash_of_the_session_id(make_user, app, client, session):
    browser = log_in_client(TestClient(app), make_user(Role.AGENT))
    [row] = session.scalars(select(UserSession)).all()
    sid = read_session(browser)["sid"]
    assert len(sid) >= 40 and row.id_sha256 == hashlib.sha256(sid.encode()).hexdigest()


def test_sessions_past_the_maximum_age_are_deleted_at_the_next_login(
    make_user, app, client, session, settings
):
    user = make_user(Role.AGENT)
    log_in_client(TestClient(app), user)
    old = datetime.now(UTC) - timedelta(seconds=settings.session_max_age_s + 60)
    session.execute(update(UserSession).values(started_at=old))
    session.commit()
    log_in_client(TestClient(app), user)
    session.expire_all()
    assert [row.started_at > old for row in session.scalars(select(UserSession))] == [True]
