"""The resolve route's JSON, kept per process: a change from any process is in the next answer."""

import json
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hotline.auth.models import ApiToken, Role
from hotline.auth.service import issue_api_token
from hotline.db import make_engine, utcnow
from hotline.kit.errors import NotFound
from hotline.main import create_app
from hotline.rules import api as rules_api
from hotline.rules import resolved_json
from hotline.rules.cache import resolved_cache, topic_state
from hotline.rules.resolve import resolve_rule, today_in_denmark
from hotline.rules.resolved_json import resolve_rule_json
from tests.rules.conftest import write_rule
from tests.rules.test_cache import _add_version_elsewhere

ON = date(2026, 6, 1)
RESOLVE = "/api/rules/resolve"
LOCAL_RULE = {"expected_version": 0, "mode": "replace", "body_md": "Kun i København."}


@pytest.fixture
def pas(kb, imported):
    write_rule(kb, "national/pas.md", "Nationalt pas.", fields={"fee_dkk": 891}, tags=["pas"])
    write_rule(kb, "local/0751/pas.md", "Aarhus pas.", mode="replace", title="Pas i Aarhus")
    imported()


@pytest.fixture
def two_processes(settings, session, make_user, pas):
    """Two apps on the same database, each with its own engine and memory, as two processes."""
    user = make_user(Role.MUNICIPALITY_ADMIN, "0101")
    token = issue_api_token(session=session, user=user, name="test")
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    with (
        TestClient(create_app(settings), headers=headers) as first,
        TestClient(create_app(settings), headers=headers) as second,
    ):
        yield first, second


def _json(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def _resolve_json(session, **query) -> bytes:
    return resolve_rule_json(connection=session.connection(), **query)


@pytest.mark.parametrize("code", ["0751", "0101"])
def test_the_json_is_what_resolve_rule_gives(session, pas, code):
    body = _resolve_json(session, topic_slug="pas", municipality_code=code, on=ON)
    resolved = resolve_rule(session=session, topic_slug="pas", municipality_code=code, on=ON)

    assert json.loads(body) == json.loads(resolved.model_dump_json())


def test_a_state_seen_before_is_answered_from_memory(session, pas):
    first = _resolve_json(session, topic_slug="pas", municipality_code="0751", on=ON)
    second = _resolve_json(session, topic_slug="pas", municipality_code="0751", on=ON)
    other_day = _resolve_json(
        session, topic_slug="pas", municipality_code="0751", on=date(2026, 6, 2)
    )

    assert second is first
    assert json.loads(other_day)["on"] == "2026-06-02"


def test_unknown_municipality_and_topic_are_not_found(session, pas):
    with pytest.raises(NotFound) as municipality:
        _resolve_json(session, topic_slug="pas", municipality_code="9999", on=ON)
    with pytest.raises(NotFound) as topic:
        _resolve_json(session, topic_slug="nej", municipality_code="0751", on=ON)

    assert municipality.value.key == "municipalities.not_found"
    assert topic.value.key == "rules.not_found"


def test_a_rule_newer_than_the_state_read_is_not_kept(engine, session, pas, monkeypatch):
    old_state = topic_state(session, "pas", "0751")
    session.rollback()
    _add_version_elsewhere(engine, "Nyt fra Aarhus.")
    monkeypatch.setattr(resolved_json, "topic_state_on", lambda *_args: old_state)

    body = _resolve_json(session, topic_slug="pas", municipality_code="0751", on=ON)

    assert json.loads(body)["sections"][0]["body_md"] == "Nyt fra Aarhus."
    assert len(resolved_cache(engine)._entries) == 0


def test_a_version_saved_on_another_engine_is_in_the_next_answer(
    api_client, make_user, database_url, pas
):
    client = api_client(make_user(Role.AGENT))
    params = {"municipality": "0751", "topic": "pas"}
    before = _json(client.get(RESOLVE, params=params))
    other = make_engine(database_url)  # another server process's engine and connections
    try:
        _add_version_elsewhere(other, "Nyt fra Aarhus.")
    finally:
        other.dispose()

    after = _json(client.get(RESOLVE, params=params))

    assert [s["body_md"] for s in before["sections"]] == ["Aarhus pas."]
    assert [s["body_md"] for s in after["sections"]] == ["Nyt fra Aarhus."]
    assert after["local"]["version"] == 2 and after["local"]["author"] == "Anden proces"


def test_a_local_rule_saved_by_one_process_is_resolved_by_the_other(two_processes):
    first, second = two_processes
    params = {"municipality": "0101", "topic": "pas"}
    before = _json(first.get(RESOLVE, params=params))

    saved = second.put("/api/rules/local/0101/pas", json=LOCAL_RULE)
    after = _json(first.get(RESOLVE, params=params))

    assert saved.status_code == 200, saved.text
    assert before["mode"] == "national" and before["local"] is None
    assert after["mode"] == "replace"
    assert [s["body_md"] for s in after["sections"]] == ["Kun i København."]
    assert after == _json(second.get(RESOLVE, params=params))


def test_a_national_import_makes_a_local_rule_stale_at_once(api_client, make_user, kb, imported):
    write_rule(kb, "national/pas.md", "Nationalt pas.")
    write_rule(kb, "local/0751/pas.md", "Aarhus pas.", mode="append")
    imported()
    client = api_client(make_user(Role.AGENT))
    params = {"municipality": "0751", "topic": "pas"}
    before = _json(client.get(RESOLVE, params=params))

    write_rule(kb, "national/pas.md", "Nyt nationalt pas.")
    imported()
    after = _json(client.get(RESOLVE, params=params))

    assert before["stale"] is False and after["stale"] is True
    assert [s["body_md"] for s in after["sections"]] == ["Nyt nationalt pas.", "Aarhus pas."]


def test_an_answer_in_memory_still_needs_a_signed_in_user(api_client, client, make_user, pas):
    params = {"municipality": "0751", "topic": "pas"}
    _json(api_client(make_user(Role.AGENT)).get(RESOLVE, params=params))

    anonymous = client.get(RESOLVE, params=params)
    wrong_token = client.get(RESOLVE, params=params, headers={"Authorization": "Bearer nope"})

    assert anonymous.status_code == 401 and wrong_token.status_code == 401


def test_a_recent_token_is_answered_without_a_session(api_client, make_user, pas, monkeypatch):
    client = api_client(make_user(Role.AGENT))
    params = {"municipality": "0751", "topic": "pas"}
    first = _json(client.get(RESOLVE, params=params))  # looks the token up: now remembered
    opened, request_session = [], rules_api._request_session
    monkeypatch.setattr(
        rules_api, "_request_session", lambda r: opened.append(r) or request_session(r)
    )

    again = _json(client.get(RESOLVE, params=params))

    assert again == first and opened == []


def test_a_token_revoked_in_this_process_is_refused_at_once(api_client, make_user, session, pas):
    user = make_user(Role.AGENT)
    client = api_client(user)
    params = {"municipality": "0751", "topic": "pas"}
    _json(client.get(RESOLVE, params=params))

    session.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(revoked_at=utcnow()))
    session.commit()

    assert client.get(RESOLVE, params=params).status_code == 401


def test_a_plain_query_gets_what_fastapi_gives_for_the_same_query(api_client, make_user, pas):
    client = api_client(make_user(Role.AGENT))
    params = {"municipality": "0751", "topic": "pas"}
    today = today_in_denmark().isoformat()

    plain = client.get(RESOLVE, params=params)
    solved = client.get(RESOLVE, params={**params, "on": today})

    assert plain.status_code == solved.status_code == 200
    assert plain.content == solved.content and plain.headers == solved.headers


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"municipality": "751", "topic": "pas"}, 422),
        ({"municipality": "0751\n", "topic": "pas"}, 422),
        ({"municipality": "0751", "topic": "p" * 101}, 422),
        ({"municipality": "0751"}, 422),
        ({"topic": "pas"}, 422),
        ({"municipality": "0751", "topic": "pas", "on": "igår"}, 422),
        ({"municipality": "9999", "topic": "pas"}, 404),
        ({"municipality": "0751", "topic": ""}, 404),
    ],
)
def test_a_query_that_is_not_plain_gets_fastapis_answer(api_client, make_user, pas, params, status):
    response = api_client(make_user(Role.AGENT)).get(RESOLVE, params=params)

    assert response.status_code == status
    if status == 422:
        assert response.json()["errors"][0]["field"].startswith("query.")
