"""Callbacks: booked in the console for the call's municipality, handled by its admins."""

import textwrap

import pytest
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.calls.models import Call, Callback, CallbackStatus, CallState, MailStatus
from tests.conftest import ready

QUESTION = "Borgeren vil tale med en sagsbehandler om boligstøtte."
BOOKING = {
    "caller_phone": "20 12 34 56",
    "question": QUESTION,
    "preferred_time": "i morgen mellem 9 og 12",
}
PAS = """\
---
topic: pas
title: Pas – fornyelse
category: Pas og kørekort
sources:
  - url: https://www.borger.dk/pas
    verified: 2026-11-01
valid_from: 2020-01-01
---
Du fornyer dit pas i Borgerservice.
"""
PAS_AARHUS = """\
---
topic: pas
mode: append
valid_from: 2020-01-01
---
I Aarhus skal du bestille tid på Dokk1.
"""


@pytest.fixture
def rules(session, tmp_path):
    from hotline.rules.importer import import_rules

    for relative, text in {"national/pas.md": PAS, "local/0751/pas.md": PAS_AARHUS}.items():
        path = tmp_path / "rules" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    import_rules(session=session, directory=tmp_path / "rules")
    session.commit()


@pytest.fixture
def on_call(login, make_user, new_call, session):
    """An agent in the console with an Aarhus call and notes: (client, call_id)."""
    _, reference = new_call()
    client = ready(login(make_user(Role.AGENT, full_name="Karen Ærbødig")))
    client.post("/console/calls/next")
    call_id = session.scalar(select(Call.id).where(Call.reference == reference))
    client.post(f"/console/calls/{call_id}/notes", data={"notes": "Spørger om boligstøtte."})
    return client, call_id


HTMX = {"HX-Request": "true"}


def _fresh_browser(client) -> None:
    """Forget the previous user's cookie and CSRF header, so another user can log in."""
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)


def test_the_call_shows_the_button_and_the_form_is_prefilled(on_call, rules):
    client, call_id = on_call
    page = client.get("/console")
    assert f'hx-get="/console/calls/{call_id}/callback"' in page.text
    assert "Book opringning fra Aarhus" in page.text
    form = client.get(f"/console/calls/{call_id}/callback", headers=HTMX)
    assert form.status_code == 200
    assert ">Spørger om boligstøtte.</textarea>" in form.text
    assert 'value="+4520123456"' in form.text
    assert 'value="pas" id="callback-topic-pas"' in form.text


def test_booking_stores_the_callback_and_changes_nothing_else(on_call, rules, session, make_user):
    client, call_id = on_call
    make_user(Role.MUNICIPALITY_ADMIN, "0751")  # without an e-mail address
    booked = client.post(
        f"/console/calls/{call_id}/callback", data={**BOOKING, "topics": ["pas"]}, headers=HTMX
    )
    assert booked.status_code == 200
    assert "Opringningen er booket hos Aarhus Kommune" in booked.text
    assert "ingen e-mail (ingen modtager)" in booked.text
    callback = session.scalar(select(Callback))
    assert callback.municipality_code == "0751" and callback.call_id == call_id
    assert callback.caller_phone == "+4520123456" and callback.question == QUESTION
    assert callback.preferred_time == "i morgen mellem 9 og 12"
    assert callback.status == CallbackStatus.OPEN and callback.mail_status == MailStatus.NONE
    [consulted] = callback.rules_consulted
    assert consulted["topic"] == "pas" and consulted["title"] == "Pas – fornyelse"
    assert len(consulted["rule_version_ids"]) == 2  # national and Aarhus's local layer
    call = session.get(Call, call_id)
    assert call.state == CallState.ACTIVE and call.outcome is None
    assert call.notes == "Spørger om boligstøtte."
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "callback.create"))
    assert audit.municipality_code == "0751" and audit.after["topics"] == ["pas"]
    assert "+4520123456" not in str(audit.after) and QUESTION not in str(audit.after)


def test_mail_is_queued_when_an_admin_has_an_address(on_call, session, make_user):
    client, call_id = on_call
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    admin.email = "admin@aarhus.example"
    session.commit()
    booked = client.post(f"/console/calls/{call_id}/callback", data=BOOKING, headers=HTMX)
    assert "kommunens administratorer får en e-mail" in booked.text
    callback = session.scalar(select(Callback))
    assert callback.mail_status == MailStatus.QUEUED and callback.message_id.startswith("<")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"preferred_time": ""}, "Skriv, hvornår borgeren kan kontaktes."),
        ({"caller_phone": " "}, "Skriv borgerens telefonnummer."),
        ({"question": ""}, "Skriv borgerens spørgsmål."),
        ({"question": "Borgerens cpr er 010203-1234"}, "ser ud til at indeholde et CPR-nummer"),
        ({"topics": ["findes-ikke"]}, "Reglen »findes-ikke« findes ikke for kommunen."),
    ],
)
def test_mistakes_come_back_in_the_form(on_call, session, change, message):
    client, call_id = on_call
    response = client.post(
        f"/console/calls/{call_id}/callback", data={**BOOKING, **change}, headers=HTMX
    )
    assert response.status_code == 422 and message in response.text
    assert "Opringningen er ikke booket" in response.text or "Reglen" in response.text
    assert session.scalar(select(Callback)) is None


def test_without_htmx_an_error_is_422_and_success_goes_back_to_the_console(on_call, session):
    client, call_id = on_call
    bad = client.post(f"/console/calls/{call_id}/callback", data={**BOOKING, "question": ""})
    assert bad.status_code == 422
    ok = client.post(f"/console/calls/{call_id}/callback", data=BOOKING, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/console"
    assert "Opringningen er booket hos Aarhus Kommune" in client.get("/console").text


def test_municipality_change_resets_the_callback_and_essentials_panels(on_call):
    client, call_id = on_call
    chosen = client.post(
        f"/console/calls/{call_id}/municipality", data={"code": "0851"}, headers=HTMX
    )
    assert 'id="callback-panel" class="hl-callback-panel"' in chosen.text
    assert chosen.text.count('hx-swap-oob="true"') >= 4  # rules, reply, essentials, callback
    assert "Book opringning fra Aalborg" in chosen.text
    assert 'hx-get="/console/essentials?municipality=0851"' in chosen.text


def test_api_books_lists_and_marks_done(api_client, make_user, new_call, session):
    new_call()
    agent = api_client(make_user(Role.AGENT))
    call_id = agent.post("/api/calls/next").json()["id"]
    created = agent.post(f"/api/calls/{call_id}/callbacks", json=BOOKING)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "open" and body["caller_phone"] == "+4520123456"
    assert body["call_reference"].startswith("DH-") and body["mail_status"] == "none"
    refused = agent.post(
        f"/api/calls/{call_id}/callbacks", json={**BOOKING, "question": "cpr 0102031234"}
    )
    assert refused.status_code == 422 and refused.json()["error"] == "cpr.in_callback"

    own = api_client(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    other = api_client(make_user(Role.MUNICIPALITY_ADMIN, "0851"))
    supervisor = api_client(make_user(Role.SUPERVISOR))
    assert [c["id"] for c in own.get("/api/callbacks").json()] == [body["id"]]
    assert other.get("/api/callbacks").json() == []
    assert other.get("/api/callbacks", params={"municipality": "0751"}).status_code == 403
    assert len(supervisor.get("/api/callbacks").json()) == 1
    assert agent.get("/api/callbacks").status_code == 403

    done_url = f"/api/callbacks/{body['id']}/done"
    assert supervisor.post(done_url, json={"note": "x"}).status_code == 403
    assert other.post(done_url, json={"note": "x"}).status_code == 403
    done = own.post(done_url, json={"note": "Ringet op, sagen er klaret."})
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert done.json()["handled_by"] == "Test Bruger"
    assert own.post(done_url, json={"note": ""}).status_code == 409
    assert own.get("/api/callbacks", params={"status": "open"}).json() == []
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"callback.create", "callback.done"} <= actions


def test_admin_page_lists_open_then_done_and_marks_done(on_call, session, login, make_user, client):
    agent_client, call_id = on_call
    for time in ("i morgen kl. 9", "fredag eftermiddag"):
        agent_client.post(
            f"/console/calls/{call_id}/callback",
            data={**BOOKING, "preferred_time": time},
            headers=HTMX,
        )
    first, second = session.scalars(select(Callback).order_by(Callback.id)).all()
    _fresh_browser(client)
    admin = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    page = admin.get("/admin/callbacks")
    assert page.status_code == 200 and "Skal ringes op (2)" in page.text
    assert page.text.index("i morgen kl. 9") < page.text.index("fredag eftermiddag")
    assert "Ring til +4520123456" in page.text and "Karen Ærbødig" in page.text
    marked = admin.post(
        f"/admin/callbacks/{first.id}/done",
        data={"note": "Talt med borgeren."},
        follow_redirects=False,
    )
    assert marked.status_code == 303
    page = admin.get(marked.headers["location"])
    assert "Skal ringes op (1)" in page.text and "Talt med borgeren." in page.text
    assert page.text.index("fredag eftermiddag") < page.text.index("Talt med borgeren.")
    again = admin.post(f"/admin/callbacks/{first.id}/done", data={"note": ""})
    assert again.status_code == 409 and "allerede markeret som klaret" in again.text
    assert session.get(Callback, second.id).status == CallbackStatus.OPEN


def test_admin_page_scoping(on_call, login, make_user, client):
    agent_client, call_id = on_call
    agent_client.post(f"/console/calls/{call_id}/callback", data=BOOKING, headers=HTMX)
    assert agent_client.get("/admin/callbacks").status_code == 403
    _fresh_browser(client)
    other = login(make_user(Role.MUNICIPALITY_ADMIN, "0851"))
    page = other.get("/admin/callbacks")
    assert page.status_code == 200 and "+4520123456" not in page.text
    assert other.get("/admin/callbacks", params={"municipality": "0751"}).status_code == 403
    _fresh_browser(client)
    supervisor = login(make_user(Role.SUPERVISOR))
    page = supervisor.get("/admin/callbacks")
    assert "+4520123456" in page.text and "Markér som klaret" not in page.text


def test_booking_needs_a_municipality_and_the_own_open_call(api_client, make_user, cti, session):
    cti(event="newCall", callId="no-line", to="+4599999999", **{"from": "20123456"})
    agent = api_client(make_user(Role.AGENT))
    call_id = agent.post("/api/calls/next").json()["id"]
    missing = agent.post(f"/api/calls/{call_id}/callbacks", json=BOOKING)
    assert missing.status_code == 422 and missing.json()["error"] == "callbacks.need_municipality"
    other = api_client(make_user(Role.AGENT))
    assert other.post(f"/api/calls/{call_id}/callbacks", json=BOOKING).status_code == 403
