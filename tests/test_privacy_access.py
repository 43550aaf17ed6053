"""The right-of-access export: everything stored about one caller number, for system admins."""

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.calls.cti import record_cti_event
from hotline.calls.models import Call, Callback, CallbackStatus, MailStatus
from hotline.calls.retention import CALLBACKS_PURGE, CALLS_PURGE
from hotline.calls.service import save_call_notes
from hotline.db import utcnow
from hotline.insight.models import SurveyInvite
from hotline.letters.models import Channel, Reply, ReplyStatus
from hotline.municipalities.models import Municipality
from hotline.privacy.access import caller_number, masked_number
from hotline.privacy.retention import purge_step

LINE = "+4588000751"
CALLER = "+4520123456"
OTHER = "+4531313131"
CPR = "010203-1234"


@pytest.fixture
def stored(session, make_user):
    """CALLER's two calls (notes, callback, reply), another number's call with a CALLER callback."""
    aarhus = session.get(Municipality, "0751")
    aarhus.participating, aarhus.dialled_number = True, LINE
    session.commit()
    agent = make_user(Role.AGENT, username="karen", full_name="Karen Ærbødig")

    def cti(event: str, cti_id: str, **fields) -> Call:
        payload = {"event": event, "callId": cti_id, "to": LINE, "direction": "in", **fields}
        call = record_cti_event(session=session, payload=payload)
        session.commit()
        return call

    first = cti("newCall", "a-1", **{"from": "20 12 34 56"})
    cti("answer", "a-1", user="karen", **{"from": "20 12 34 56"})
    save_call_notes(session=session, call=first, notes="Spørger om pas til sin søn.", user=agent)
    cti("hangup", "a-1", **{"from": "20 12 34 56"})
    second = cti("newCall", "a-2", **{"from": CALLER})
    other = cti("newCall", "b-1", **{"from": OTHER})
    for call, phone, question in (
        (first, CALLER, "Vil tale med Borgerservice om pas."),
        (other, CALLER, "Ringede fra en anden telefon; ring tilbage på mobilen."),
        (other, OTHER, "Et andet spørgsmål fra et andet nummer."),
    ):
        session.add(
            Callback(
                call_id=call.id,
                municipality_code="0751",
                booked_by_id=agent.id,
                caller_name="Søren Østergård",
                caller_phone=phone,
                question=question,
                preferred_time="i morgen",
            )
        )
    for call, comment in ((first, "Søren her: god hjælp"), (other, "Et andet nummers svar")):
        session.add(
            SurveyInvite(
                call_id=call.id,
                code=f"SVAR{call.id}",
                expires_at=call.offered_at + timedelta(days=14),
                answered_at=call.offered_at,
                score=4,
                comment=comment,
            )
        )
    pdf = b"%PDF-1.7 svar"
    session.add(
        Reply(
            call_id=first.id,
            reference=first.reference,
            municipality_code="0751",
            author_id=agent.id,
            author_name=agent.full_name,
            channel=Channel.EMAIL,
            recipient_name="Søren Østergård",
            recipient_email="soren@borger.example",
            subject="Svar om pas",
            body_md="Kære Søren\n\nDu fornyer dit pas i Borgerservice.",
            status=ReplyStatus.SENT,
            pdf=pdf,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        )
    )
    session.commit()
    return {"first": first, "second": second, "other": other}


def _export(client, number: str = CALLER) -> dict:
    response = client.get("/api/privacy/access", params={"number": number})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith('attachment; filename="indsigt_')
    assert response.headers["cache-control"] == "no-store"
    return json.loads(response.content)


def test_the_export_holds_everything_about_the_number_and_nothing_else(
    stored, api_client, make_user
):
    admin = make_user(Role.SYSTEM_ADMIN, username="sys")

    export = _export(api_client(admin))

    assert export["number"] == CALLER and export["generated_by"] == "sys"
    assert export["retention_days"] == {"calls": 90, "replies": 1826}
    calls = export["calls"]
    references = [stored["first"].reference, stored["second"].reference]
    assert [c["reference"] for c in calls] == references
    first = calls[0]
    assert first["from_number"] == CALLER and first["to_number"] == LINE
    assert first["notes"] == "Spørger om pas til sin søn."
    assert first["municipality"] == {"code": "0751", "name": "Aarhus Kommune"}
    assert first["state"] == "wrap_up" and first["ended_at"]
    questions = [c["question"] for c in export["callbacks"]]
    assert questions == [
        "Vil tale med Borgerservice om pas.",
        "Ringede fra en anden telefon; ring tilbage på mobilen.",
    ]
    assert export["callbacks"][1]["call_reference"] == stored["other"].reference
    [reply] = export["replies"]
    assert reply["subject"] == "Svar om pas" and reply["recipient_email"] == "soren@borger.example"
    assert reply["body_md"].startswith("Kære Søren") and reply["author_name"] == "Karen Ærbødig"
    assert "pdf" not in reply and len(reply["pdf_sha256"]) == 64
    events = [(e["cti_call_id"], e["event"]) for e in export["cti_events"]]
    assert events == [("a-1", "newCall"), ("a-1", "answer"), ("a-1", "hangup"), ("a-2", "newCall")]
    assert export["cti_events"][0]["payload"]["from"] == "20 12 34 56"  # as received
    [answer] = export["survey_answers"]
    assert answer["comment"] == "Søren her: god hjælp" and answer["score"] == 4
    assert answer["call_reference"] == stored["first"].reference
    assert OTHER not in json.dumps(export) and "andet nummers" not in json.dumps(export)


@pytest.mark.parametrize("written", ["20 12 34 56", "+45 20 12 34 56", "004520123456", "20123456"])
def test_the_number_is_normalised_as_the_calls_store_it(written):
    assert caller_number(written) == CALLER


@pytest.mark.parametrize("written", ["", "abc", "12", "+"])
def test_a_number_that_is_no_phone_number_is_refused(
    written, stored, api_client, make_user, session
):
    admin = make_user(Role.SYSTEM_ADMIN)

    response = api_client(admin).get("/api/privacy/access", params={"number": written})

    assert response.status_code == 422
    assert response.json()["error"] == "privacy.number_invalid"
    assert "gyldigt telefonnummer" in response.json()["detail"]
    assert session.scalars(select(AuditEntry)).all() == []


def test_every_export_is_audited_with_the_number_masked(stored, api_client, make_user, session):
    admin = make_user(Role.SYSTEM_ADMIN, username="sys")
    client = api_client(admin)
    _export(client)
    _export(client, "99 99 99 99")  # nothing stored: still an export, still audited

    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "privacy.access_export")
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.actor_id, e.entity_type, e.entity_id) for e in entries] == [
        (admin.id, "caller_number", "+********56"),
        (admin.id, "caller_number", "+********99"),
    ]
    assert entries[0].after == {
        "calls": 2,
        "callbacks": 2,
        "replies": 1,
        "cti_events": 4,
        "survey_answers": 1,
    }
    assert set(entries[1].after.values()) == {0}
    assert CALLER not in json.dumps([e.after for e in entries])


def test_masked_number_keeps_only_the_last_two_digits():
    assert masked_number("+4520123456") == "+********56"
    assert masked_number("+46701234567") == "+*********67"


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_only_system_admins_get_the_export(role, stored, api_client, make_user, session):
    response = api_client(make_user(role)).get("/api/privacy/access", params={"number": CALLER})

    assert response.status_code == 403
    assert session.scalars(select(AuditEntry)).all() == []


def test_cpr_numbers_in_stored_free_text_are_masked_in_the_export(
    stored, api_client, make_user, session
):
    # Stored before the checks existed, or by a path that does not check: masked all the same.
    first = session.get(Call, stored["first"].id)
    first.notes = f"Borgerens CPR {CPR} blev nævnt."
    session.commit()

    export = _export(api_client(make_user(Role.SYSTEM_ADMIN)))

    assert export["calls"][0]["notes"] == "Borgerens CPR XXXXXX-XXXX blev nævnt."
    assert CPR not in json.dumps(export)


def test_after_retention_the_export_has_nothing_more_to_show(
    stored, api_client, make_user, session
):
    later = utcnow() + timedelta(days=91)
    session.execute(
        Callback.__table__.update().values(
            status=CallbackStatus.DONE, handled_at=utcnow(), mail_status=MailStatus.SENT
        )
    )
    purge_step(session, CALLS_PURGE, now=later, retention_days=90)
    purge_step(session, CALLBACKS_PURGE, now=later, retention_days=90)
    session.commit()

    export = _export(api_client(make_user(Role.SYSTEM_ADMIN)))

    assert export["calls"] == [] and export["callbacks"] == [] and export["cti_events"] == []
    assert export["replies"] == []  # found through the calls, which no longer name the caller


def test_the_admin_page_downloads_the_file_with_a_csrf_checked_form(
    stored, login, make_user, session
):
    client = login(make_user(Role.SYSTEM_ADMIN, username="sys"))

    page = client.get("/admin/privacy/access")
    assert page.status_code == 200
    assert "Indsigt i oplysninger om et telefonnummer" in page.text
    assert 'name="csrf_token"' in page.text and 'action="/admin/privacy/access"' in page.text

    token = client.headers.pop("X-CSRF-Token")
    forged = client.post("/admin/privacy/access", data={"number": CALLER})
    assert forged.status_code == 403
    assert session.scalars(select(AuditEntry)).all() == []

    response = client.post(
        "/admin/privacy/access", data={"number": "20 12 34 56", "csrf_token": token}
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:  # JSON and its Danish PDF
        [name] = [n for n in archive.namelist() if n.endswith(".json")]
        assert len(json.loads(archive.read(name))["calls"]) == 2

    wrong = client.post("/admin/privacy/access", data={"number": "abc", "csrf_token": token})
    assert wrong.status_code == 422
    assert "Skriv et gyldigt telefonnummer" in wrong.text and 'value="abc"' in wrong.text
