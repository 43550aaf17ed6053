"""Who may use the calls routes: agent, supervisor, municipality admin, anonymous."""

import pytest
from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call


@pytest.mark.parametrize(
    ("role", "queue", "claim"),
    [
        (Role.AGENT, 200, 200),
        (Role.SUPERVISOR, 200, 200),
        (Role.MUNICIPALITY_ADMIN, 403, 403),
        (Role.SYSTEM_ADMIN, 200, 403),
    ],
)
def test_api_permission_matrix(role, queue, claim, api_client, make_user, new_call, session):
    _, reference = new_call()
    call_id = session.scalar(select(Call.id).where(Call.reference == reference))
    user = make_user(role, "0751") if role == Role.MUNICIPALITY_ADMIN else make_user(role)
    client = api_client(user)
    assert client.get("/api/calls?state=waiting").status_code == queue
    assert client.post(f"/api/calls/{call_id}/claim").status_code == claim


def test_anonymous_gets_401_on_the_api_and_a_login_redirect_on_the_console(client):
    assert client.get("/api/calls").status_code == 401
    assert client.post("/api/calls/next").status_code == 401
    page = client.get("/console", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_municipality_admin_cannot_open_the_console(login, make_user):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    assert client.get("/console", headers={"Accept": "text/html"}).status_code == 403


def test_another_agent_cannot_touch_someone_elses_call(api_client, make_user, new_call):
    new_call()
    owner = api_client(make_user(Role.AGENT))
    call_id = owner.post("/api/calls/next").json()["id"]
    other = api_client(make_user(Role.AGENT))
    wrap = {"contact_reason_code": "pas", "outcome": "answered"}
    assert other.post(f"/api/calls/{call_id}/wrap-up", json=wrap).status_code == 403
    assert (
        other.post(f"/api/calls/{call_id}/municipality", json={"code": "0101"}).status_code == 403
    )
    assert other.get(f"/api/calls/{call_id}").status_code == 403
    supervisor = api_client(make_user(Role.SUPERVISOR))
    assert supervisor.get(f"/api/calls/{call_id}").status_code == 200
    assert supervisor.post(f"/api/calls/{call_id}/wrap-up", json=wrap).status_code == 403


def test_console_forms_require_csrf(login, make_user, new_call):
    new_call()
    client = login(make_user(Role.AGENT))
    del client.headers["X-CSRF-Token"]
    assert client.post("/console/calls/next", follow_redirects=False).status_code == 403
