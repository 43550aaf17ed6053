"""How errors reach the user: JSON for the API, a page for browsers, text and redirects for htmx."""

import pytest
from fastapi.testclient import TestClient

from hotline.config import Settings
from hotline.main import create_app


def test_htmx_request_without_session_is_sent_to_login(client):
    response = client.get("/console/queue", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"


def test_htmx_error_is_plain_danish_text(client, make_user, login):
    from hotline.auth.models import Role

    login(make_user(Role.AGENT))
    response = client.get("/api/municipalities/9999", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert "9999" in response.text


def test_browser_navigation_without_session_redirects_to_login(client):
    response = client.get("/console", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/console"


def test_serving_with_the_published_secrets_is_refused_outside_demo_mode(tmp_path):
    with pytest.raises(RuntimeError, match="HOTLINE_SECRET_KEY and HOTLINE_CTI_TOKEN"):
        create_app(Settings(data_dir=tmp_path, demo_mode=False))
    create_app(
        Settings(
            data_dir=tmp_path,
            demo_mode=False,
            secret_key="s3cret-for-production",
            cti_token="t0ken-for-production",
        )
    )


def test_demo_users_api_tokens_stop_working_when_demo_mode_is_off(app, session, client):
    from hotline.auth.models import Role
    from hotline.auth.service import create_user, issue_api_token

    demo = create_user(
        session=session,
        username="demo-x",
        full_name="Demo",
        password="x" * 12,
        role=Role.AGENT,
        is_demo=True,
    )
    token = issue_api_token(session=session, user=demo, name="t")
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/municipalities?q=aarhus", headers=headers).status_code == 200
    app.state.settings.demo_mode = False
    assert client.get("/api/municipalities?q=aarhus", headers=headers).status_code == 401


HTML = {"Accept": "text/html,application/xhtml+xml"}


def test_an_unknown_page_is_a_danish_404_page_with_the_way_back(client):
    response = client.get("/findes-ikke", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1" in response.text and "Siden findes ikke" in response.text
    assert '<a href="/">Gå til forsiden</a>' in response.text


def test_a_signed_in_user_gets_the_error_page_with_their_menu_and_start_page(
    client, make_user, login
):
    from hotline.auth.models import Role

    login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    missing = client.get("/findes-ikke", headers=HTML)
    assert missing.status_code == 404
    assert '<a href="/admin/rules">Gå til din startside</a>' in missing.text
    assert 'action="/logout"' in missing.text  # the header, with "Log ud"
    refused = client.get("/admin/users", headers=HTML)
    assert refused.status_code == 403
    assert "Du har ikke adgang til siden" in refused.text
    assert '<a href="/admin/rules">Gå til din startside</a>' in refused.text


def test_a_service_error_page_says_what_is_missing(client, make_user, login):
    from hotline.auth.models import Role

    login(make_user(Role.SYSTEM_ADMIN))
    response = client.get("/admin/rules/0751/findes-ikke", headers=HTML)
    assert response.status_code == 404
    assert "Siden findes ikke" in response.text
    assert "Emnet findes-ikke findes ikke for denne kommune." in response.text


def test_the_api_answers_json_as_before(client, make_user, login):
    from hotline.auth.models import Role

    assert client.get("/api/findes-ikke", headers=HTML).json() == {"detail": "Not Found"}
    assert client.get("/findes-ikke").json() == {"detail": "Not Found"}  # no browser: JSON
    login(make_user(Role.AGENT))
    refused = client.get("/api/audit/entries", headers=HTML)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "error.permission_denied",
        "detail": "Du har ikke adgang til dette.",
    }


def test_htmx_gets_danish_text_for_an_unknown_address(client):
    response = client.get("/findes-ikke", headers={"HX-Request": "true", **HTML})
    assert response.status_code == 404
    assert response.text == "Der skete en fejl. Prøv igen."


@pytest.fixture
def failing_client(app):
    """A client of an app with a page and an API route that raise (a bug, not a HotlineError)."""

    def broken():
        raise RuntimeError("a bug")

    app.add_api_route("/fejl-til-test", broken)
    app.add_api_route("/api/fejl-til-test", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_an_unexpected_error_is_a_danish_500_page(failing_client):
    response = failing_client.get("/fejl-til-test", headers=HTML)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Der skete en fejl" in response.text and "Fejlkode: 500" in response.text
    assert '<a href="/">Gå til forsiden</a>' in response.text
    assert "a bug" not in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_an_unexpected_error_in_the_api_and_htmx_stays_plain_text(failing_client):
    api = failing_client.get("/api/fejl-til-test", headers=HTML)
    assert (api.status_code, api.text) == (500, "Internal Server Error")
    htmx = failing_client.get("/fejl-til-test", headers={"HX-Request": "true", **HTML})
    assert (htmx.status_code, htmx.text) == (500, "Der skete en fejl. Prøv igen.")
