"""How errors reach the user: JSON for the API, a page for browsers, text and redirects for htmx."""

import pytest

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
