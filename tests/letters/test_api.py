"""The archive API: who may fetch a reply's PDF, listing a call's replies, retrying."""

import pytest

from hotline.auth.models import Role
from hotline.letters.models import ReplyStatus
from hotline.letters.service import create_reply
from tests.letters.conftest import reply_form


@pytest.fixture
def reply(session, call, agent, settings):
    reply = create_reply(
        session=session, call=call, author=agent, form=reply_form(), settings=settings
    )
    session.commit()
    return reply


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("author", 200),
        ("supervisor", 200),
        ("system_admin", 200),
        ("admin_same", 200),
        ("admin_other", 403),
        ("other_agent", 403),
    ],
)
def test_archive_pdf_permissions(reply, agent, make_user, api_client, who, status):
    user = {
        "author": lambda: agent,
        "supervisor": lambda: make_user(Role.SUPERVISOR),
        "system_admin": lambda: make_user(Role.SYSTEM_ADMIN),
        "admin_same": lambda: make_user(Role.MUNICIPALITY_ADMIN, "0751"),
        "admin_other": lambda: make_user(Role.MUNICIPALITY_ADMIN, "0851"),
        "other_agent": lambda: make_user(Role.AGENT),
    }[who]()

    response = api_client(user).get(f"/api/replies/{reply.id}.pdf")

    assert response.status_code == status
    if status == 200:
        assert response.headers["content-type"] == "application/pdf"
        assert response.content == reply.pdf
        assert response.headers["content-disposition"] == (
            f'attachment; filename="svar-{reply.reference}.pdf"'
        )


def test_archive_pdf_needs_login(reply, client):
    assert client.get(f"/api/replies/{reply.id}.pdf").status_code == 401


def test_unknown_reply_is_404(agent, api_client, rules):
    assert api_client(agent).get("/api/replies/999999.pdf").status_code == 404


def test_list_replies_of_a_call_without_pdf_bytes(reply, call, agent, make_user, api_client):
    response = api_client(agent).get(f"/api/replies?call_id={call.id}")

    assert response.status_code == 200
    [item] = response.json()
    assert item["id"] == reply.id
    assert item["status"] == "queued"
    assert item["cited_rules"][0]["topic"] == "pas"
    assert "pdf" not in item
    other = make_user(Role.AGENT)
    assert api_client(other).get(f"/api/replies?call_id={call.id}").status_code == 403


def test_create_and_retry_through_the_api(session, call, agent, api_client):
    client = api_client(agent)
    response = client.post(
        f"/api/calls/{call.id}/replies", json=reply_form().model_dump(mode="json")
    )
    assert response.status_code == 201, response.text
    reply_id = response.json()["id"]

    assert client.post(f"/api/replies/{reply_id}/retry").status_code == 409
    from hotline.letters.models import Reply

    session.get(Reply, reply_id).status = ReplyStatus.FAILED
    session.commit()
    response = client.post(f"/api/replies/{reply_id}/retry")
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
