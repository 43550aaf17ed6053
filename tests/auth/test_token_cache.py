"""API token owners remembered per process: no query per call, changes seen soon enough."""

import pytest
from sqlalchemy import Engine, event, select, text, update

from hotline.auth import token_cache
from hotline.auth.models import ApiToken, Role, User
from hotline.db import utcnow

SEARCH = "/api/municipalities?q=8000"


@pytest.fixture
def token_queries():
    """A list that collects every SQL statement reading api_tokens, on any engine (the app's)."""
    seen: list[str] = []

    def collect(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT") and "api_tokens" in statement:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", collect)
    yield seen
    event.remove(Engine, "before_cursor_execute", collect)


def test_a_token_seen_a_moment_ago_needs_no_query(make_user, api_client, token_queries):
    agent = api_client(make_user(Role.AGENT))
    assert agent.get(SEARCH).status_code == 200
    looked_up = len(token_queries)
    assert looked_up == 1
    for _ in range(3):
        assert agent.get(SEARCH).status_code == 200
    assert len(token_queries) == looked_up


def test_the_owner_is_looked_up_again_after_the_ttl(
    make_user, api_client, token_queries, monkeypatch
):
    monkeypatch.setattr(token_cache, "TOKEN_TTL_S", 0.0)
    agent = api_client(make_user(Role.AGENT))
    agent.get(SEARCH)
    looked_up = len(token_queries)
    agent.get(SEARCH)
    assert len(token_queries) > looked_up


def test_a_revocation_by_another_process_is_seen_within_the_ttl(
    make_user, api_client, engine, monkeypatch
):
    now = [1000.0]
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: now[0])
    user = make_user(Role.AGENT)
    agent = api_client(user)
    assert agent.get(SEARCH).status_code == 200
    # Another process revokes the token: plain SQL on its own connection, no ORM event here.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE api_tokens SET revoked_at = :now WHERE user_id = :id"),
            {"now": utcnow(), "id": user.id},
        )
    assert agent.get(SEARCH).status_code == 200  # still remembered: the documented delay
    now[0] += token_cache.TOKEN_TTL_S
    assert agent.get(SEARCH).status_code == 401


def test_a_bulk_deactivation_in_this_process_is_seen_at_once(make_user, api_client, session):
    user = make_user(Role.AGENT)
    agent = api_client(user)
    assert agent.get(SEARCH).status_code == 200
    session.execute(update(User).where(User.id == user.id).values(is_active=False))
    session.commit()
    assert agent.get(SEARCH).status_code == 401


def test_a_role_change_in_this_process_is_seen_at_once(make_user, api_client, session):
    user = make_user(Role.SUPERVISOR)
    supervisor = api_client(user)
    assert supervisor.get("/api/reports/cost.csv?from=2026-11-01&to=2026-11-30").status_code != 403
    user.role = Role.AGENT
    session.commit()
    assert supervisor.get("/api/reports/cost.csv?from=2026-11-01&to=2026-11-30").status_code == 403


def test_a_remembered_admin_still_has_their_municipalities(make_user, api_client):
    admin = api_client(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    for _ in range(2):  # the second call uses the remembered owner, merged into a new session
        assert admin.get("/api/rules/flags?municipality=0751").status_code == 200
        assert admin.get("/api/rules/flags?municipality=0851").status_code == 403


def test_the_remembered_owner_is_a_copy_not_shared_with_any_session(make_user, api_client, session):
    user = make_user(Role.AGENT)
    api_client(user).get(SEARCH)
    [(_expires, remembered)] = token_cache._entries.values()
    assert remembered is not user
    assert remembered.id == user.id and remembered.role == Role.AGENT
    token = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    token.name = "renamed"
    session.commit()
    assert not token_cache._entries  # any change to a token forgets every owner


def test_a_token_request_leaves_the_cookie_session_alone(api_client, login, make_user):
    """A bearer request gets no session cookie, and a browser's cookie beside it is not changed."""
    agent = make_user(Role.AGENT)
    response = api_client(agent).get("/api/calls")
    assert response.status_code == 200 and "set-cookie" not in response.headers

    browser = login(make_user(Role.SUPERVISOR))
    cookie = browser.cookies.get("hotline_session")
    client = api_client(agent)
    client.cookies.set("hotline_session", cookie)
    assert client.get("/api/calls").status_code == 200
    assert "set-cookie" not in client.get("/api/calls").headers
    assert browser.get("/account").status_code == 200  # the browser's login still holds
