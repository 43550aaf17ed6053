"""Logging in with the form, CSRF, demo users and bearer tokens."""

from datetime import timedelta

from sqlalchemy import select

from hotline.auth.models import ApiToken, Role
from hotline.db import utcnow
from tests.conftest import TEST_PASSWORD, _csrf_from


def test_login_with_right_password_starts_a_session(client, make_user, login):
    user = make_user(Role.AGENT)
    login(user)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"


def test_login_with_wrong_password_is_refused_in_danish(client, make_user):
    user = make_user(Role.AGENT)
    token = _csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"username": user.username, "password": "wrong", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Forkert brugernavn eller adgangskode" in response.text


def test_login_without_csrf_token_is_refused(client, make_user):
    user = make_user(Role.AGENT)
    client.get("/login")
    response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 403


def test_password_is_stored_as_argon2_hash(make_user):
    user = make_user(Role.AGENT)
    assert user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash


def test_demo_user_is_refused_when_demo_mode_is_off(app, session, client):
    from hotline.auth.service import create_user

    create_user(
        session=session,
        username="demo-agent",
        full_name="Demo",
        password=TEST_PASSWORD,
        role=Role.AGENT,
        is_demo=True,
    )
    session.commit()
    app.state.settings.demo_mode = False
    token = _csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"username": "demo-agent", "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 401


def test_api_requires_authentication(client):
    response = client.get("/api/municipalities?q=aarhus")
    assert response.status_code == 401
    assert response.json()["error"] == "error.not_authenticated"


def test_bearer_token_authenticates_the_api(make_user, api_client):
    agent = api_client(make_user(Role.AGENT))
    response = agent.get("/api/municipalities?q=8000")
    assert response.status_code == 200
    assert [m["municipality"]["code"] for m in response.json()] == ["0751"]


def test_revoked_or_wrong_token_is_refused(client):
    response = client.get(
        "/api/municipalities?q=aarhus", headers={"Authorization": "Bearer hl_nonsense"}
    )
    assert response.status_code == 401


def test_a_revoked_token_or_a_deactivated_owner_is_refused(make_user, api_client, session):
    user = make_user(Role.AGENT)
    agent = api_client(user)
    assert agent.get("/api/municipalities?q=8000").status_code == 200

    token = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    token.revoked_at = utcnow()
    session.commit()
    assert agent.get("/api/municipalities?q=8000").status_code == 401

    token.revoked_at = None
    user.is_active = False
    session.commit()
    assert agent.get("/api/municipalities?q=8000").status_code == 401


def test_token_use_is_recorded_at_most_once_a_minute(make_user, api_client, session):
    user = make_user(Role.AGENT)
    agent = api_client(user)

    agent.get("/api/municipalities?q=8000")
    token = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    first_use = token.last_used_at
    agent.get("/api/municipalities?q=8000")
    session.refresh(token)
    assert first_use is not None and token.last_used_at == first_use

    token.last_used_at = first_use - timedelta(minutes=2)
    session.commit()
    agent.get("/api/municipalities?q=8000")
    session.refresh(token)
    assert token.last_used_at > first_use
