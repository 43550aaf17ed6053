"""The reply composer in the agent console: fragment, preview, e-mail via htmx, PDF download."""

import io
import re

from pypdf import PdfReader

from hotline.auth.models import Role
from hotline.calls.models import CallState
from hotline.letters.models import Reply, ReplyStatus

FORM = {
    "recipient_name": "Søren Østergård",
    "recipient_address": "Åboulevarden 12\n8000 Aarhus C",
    "recipient_email": "soren@borger.example",
    "subject": "Svar på din henvendelse til Aarhus Kommune",
    "body_md": "Kære Søren\n\nHer er svaret om dit pas.",
    "topics": ["pas", "storskrald"],
}


def test_composer_without_municipality_asks_for_it(login, make_call, agent, rules):
    call = make_call(agent, None)
    response = login(agent).get(f"/console/calls/{call.id}/reply")
    assert response.status_code == 200
    assert "Vælg borgerens kommune først" in response.text
    assert "<form" not in response.text


def test_composer_form(login, call, agent):
    response = login(agent).get(f"/console/calls/{call.id}/reply")

    html = response.text
    assert response.status_code == 200
    assert 'value="Svar på din henvendelse til Aarhus Kommune"' in html
    assert 'name="topics" value="pas" id="cite-pas"' in html
    assert 'id="cite-storskrald"' in html and "Tilbydes ikke" in html
    assert 'name="csrf_token"' in html
    assert f'formaction="/console/calls/{call.id}/reply/preview" formtarget="_blank"' in html
    assert "Forhåndsvis PDF" in html and "Send som e-mail" in html and "Hent PDF" in html
    assert "<script" not in html and "style=" not in html and "onclick" not in html


def test_other_agents_cannot_open_the_composer(login, call, make_user):
    other = make_user(Role.AGENT)
    assert login(other).get(f"/console/calls/{call.id}/reply").status_code == 403


def test_preview_returns_the_pdf_inline_and_stores_nothing(login, call, agent, session):
    response = login(agent).post(f"/console/calls/{call.id}/reply/preview", data=FORM)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Søren Østergård" in text and call.reference in text
    assert session.query(Reply).count() == 0


def test_send_as_email_swaps_in_the_list(login, call, agent, session):
    client = login(agent)
    response = client.post(
        f"/console/calls/{call.id}/reply",
        data={**FORM, "channel": "email"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "I kø" in response.text
    assert "Svaret er lagt i udbakken" in response.text
    [reply] = session.query(Reply).all()
    assert reply.status == ReplyStatus.QUEUED
    assert f'href="/api/replies/{reply.id}.pdf"' in response.text
    # The fresh form no longer holds the sent text.
    assert "Her er svaret om dit pas." not in response.text


def test_validation_errors_rerender_the_form_keeping_the_text(login, call, agent, session):
    response = login(agent).post(
        f"/console/calls/{call.id}/reply",
        data={**FORM, "recipient_email": "", "channel": "email"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert "Skriv borgerens e-mailadresse" in response.text
    assert "Her er svaret om dit pas." in response.text
    assert re.search(r'id="cite-pas"\s+checked', response.text)
    assert session.query(Reply).count() == 0


def test_download_pdf_is_an_attachment_and_archived(login, call, agent, session):
    response = login(agent).post(f"/console/calls/{call.id}/reply", data={**FORM, "channel": "pdf"})

    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="svar-{call.reference}.pdf"'
    )
    [reply] = session.query(Reply).all()
    assert reply.status == ReplyStatus.DOWNLOADED
    assert response.content == reply.pdf


def test_failed_reply_shows_reason_and_retry(login, call, agent, session):
    client = login(agent)
    client.post(
        f"/console/calls/{call.id}/reply",
        data={**FORM, "channel": "email"},
        headers={"HX-Request": "true"},
    )
    reply = session.query(Reply).one()
    reply.status = ReplyStatus.FAILED
    reply.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
    session.commit()

    listing = client.get(f"/console/calls/{call.id}/replies")
    assert "Fejlet: ConnectionRefusedError" in listing.text
    assert f'hx-post="/console/replies/{reply.id}/retry"' in listing.text

    retried = client.post(f"/console/replies/{reply.id}/retry", headers={"HX-Request": "true"})
    assert retried.status_code == 200
    assert "I kø" in retried.text


def test_posting_without_csrf_is_refused(login, call, agent):
    client = login(agent)
    del client.headers["X-CSRF-Token"]
    response = client.post(f"/console/calls/{call.id}/reply", data={**FORM, "channel": "pdf"})
    assert response.status_code == 403


def test_citing_an_unknown_topic_rerenders_the_composer_with_the_danish_message(
    login, call, agent, session
):
    client = login(agent)
    data = {**FORM, "topics": ["pas", "findes-ikke"], "channel": "email"}

    sent = client.post(f"/console/calls/{call.id}/reply", data=data, headers={"HX-Request": "true"})
    preview = client.post(f"/console/calls/{call.id}/reply/preview", data=data)

    assert sent.status_code == 422 and preview.status_code == 422
    for response in (sent, preview):
        assert "Reglen »findes-ikke« findes ikke for kommunen." in response.text
        assert "Her er svaret om dit pas." in response.text
    assert session.query(Reply).count() == 0


def test_a_closed_call_shows_why_instead_of_the_composer(login, call, agent, session):
    client = login(agent)
    client.post(f"/console/calls/{call.id}/reply", data={**FORM, "channel": "pdf"})
    call.state = CallState.DONE
    session.commit()

    response = client.get(f"/console/calls/{call.id}/reply")

    assert response.status_code == 200
    assert "Opkaldet er afsluttet; der kan ikke sendes flere svar." in response.text
    assert 'id="reply-form"' not in response.text
    assert "Svar på din henvendelse til Aarhus Kommune" in response.text  # the reply sent before


def test_sending_on_a_closed_call_is_refused_with_the_reason(login, call, agent, session):
    call.state = CallState.ABANDONED
    session.commit()
    client = login(agent)

    sent = client.post(
        f"/console/calls/{call.id}/reply",
        data={**FORM, "channel": "email"},
        headers={"HX-Request": "true"},
    )
    preview = client.post(f"/console/calls/{call.id}/reply/preview", data=FORM)

    assert sent.status_code == 200 and preview.status_code == 409
    for response in (sent, preview):
        assert "Opkaldet er afsluttet; der kan ikke sendes flere svar." in response.text
        assert 'id="reply-form"' not in response.text
    assert session.query(Reply).count() == 0
