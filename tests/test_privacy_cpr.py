"""CPR numbers: refused in replies, and masked in every export of free text (both databases)."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, Outcome
from hotline.calls.service import seed_contact_reasons
from hotline.db import make_sessionmaker, utcnow
from hotline.kit.cpr import mask_cpr
from hotline.kit.dates import COPENHAGEN
from hotline.letters.models import Reply
from hotline.letters.service import ReplyIn, reply_form_errors
from hotline.reports.call_detail import call_detail_csv
from hotline.reports.drilldown import call_lines
from hotline.reports.export import safe_text
from hotline.reports.filters import ReportFilters

CPR = "010203-1234"
REPLY = dict(
    channel="email",
    recipient_name="Søren Østergård",
    recipient_address="Åboulevarden 12\n8000 Aarhus C",
    recipient_email="soren@borger.example",
    subject="Svar på din henvendelse",
    body_md="Kære Søren\n\nTak for din henvendelse.",
)
# Avoidable-page URLs as an agent might paste them; the masked ones hold something CPR-shaped.
URLS = {
    "https://selvbetjening.example.dk/sag?cpr=0102031234": True,
    "https://selvbetjening.example.dk/borger/010203-1234/oversigt": True,
    "https://selvbetjening.example.dk/borger/010203‑1234": True,  # a non-breaking hyphen
    "https://selvbetjening.example.dk/a/311299-4321;b=1": True,
    "https://selvbetjening.example.dk/a/320101-1234": False,  # no 32nd day
    "https://selvbetjening.example.dk/a/011301-1234": False,  # no 13th month
    "https://selvbetjening.example.dk/ref/12345678901234": False,
    "https://selvbetjening.example.dk/sag/2026-010203-1234-7": False,
    "https://selvbetjening.example.dk/tlf/+4501020312": False,
}


@pytest.mark.parametrize(
    "field", ["recipient_name", "recipient_address", "recipient_email", "subject", "body_md"]
)
def test_a_reply_with_a_cpr_number_is_refused(field):
    value = f"{CPR}@borger.example" if field == "recipient_email" else f"CPR {CPR}"
    form = ReplyIn(**(REPLY | {field: value}))

    assert reply_form_errors(form) == {field: "cpr.in_reply"}
    assert reply_form_errors(form, for_preview=True) == {field: "cpr.in_reply"}
    assert reply_form_errors(ReplyIn(**REPLY)) == {}


def test_the_api_refuses_a_reply_with_a_cpr_number(session, make_user, api_client):
    agent = make_user(Role.AGENT)
    call = Call(reference="DH-CPR1", municipality_code="0751", agent_id=agent.id)
    call.state = CallState.ACTIVE
    session.add(call)
    session.commit()
    body = REPLY | {"body_md": f"Dit CPR-nummer er {CPR}.", "topics": []}

    response = api_client(agent).post(f"/api/calls/{call.id}/replies", json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "cpr.in_reply"
    assert "CPR-nummer" in response.json()["detail"]
    assert session.scalars(select(Reply)).all() == []


@pytest.fixture
def avoidable_calls(session):
    """One answered, avoidable call per URL in URLS, today."""
    seed_contact_reasons(session=session)
    now = utcnow() - timedelta(minutes=30)
    for n, url in enumerate(URLS):
        answered = now + timedelta(seconds=n)
        session.add(
            Call(
                reference=f"DH-URL{n:03d}",
                municipality_code="0751",
                state=CallState.DONE,
                offered_at=now,
                answered_at=answered,
                ended_at=answered + timedelta(minutes=2),
                wrapped_up_at=answered + timedelta(minutes=3),
                contact_reason_code="pas",
                outcome=Outcome.ANSWERED,
                avoidable=True,
                avoidable_url=url,
            )
        )
    session.commit()
    today = now.astimezone(COPENHAGEN).date()
    return ReportFilters(start=today, end=today)


def test_the_call_detail_export_masks_cpr_numbers_in_urls(avoidable_calls, engine):
    body = b"".join(call_detail_csv(make_sessionmaker(engine), avoidable_calls))

    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    exported = {row["reference"]: row["undgaaelig_url"] for row in rows}
    for n, (url, masked) in enumerate(URLS.items()):
        cell = exported[f"DH-URL{n:03d}"]
        assert cell == safe_text(mask_cpr(url)), url  # PostgreSQL's pattern agrees with Python's
        assert ("XXXXXX-XXXX" in cell) == masked, url
    assert "cpr=0102031234" not in body.decode("utf-8")


def test_the_report_drilldown_masks_cpr_numbers_in_urls(avoidable_calls, session):
    lines, _ = call_lines(session=session, filters=avoidable_calls)

    shown = {line.reference: line.avoidable_url for line in lines}
    for n, url in enumerate(URLS):
        assert shown[f"DH-URL{n:03d}"] == mask_cpr(url)
