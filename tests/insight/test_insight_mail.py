"""The monthly insight reports: made once per participating municipality, sent through real SMTP."""

import asyncio
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hotline.calls.models import MailStatus
from hotline.db import utcnow
from hotline.insight.monthly_mail import create_insight_mails
from hotline.monthly.mail import deliver_due_monthly_mails
from hotline.monthly.models import MonthlyMail
from hotline.monthly.service import due_month
from hotline.monthly.worker import run_monthly_mail_worker
from hotline.municipalities.models import Municipality
from hotline.reports.bill_monthly import create_bill_mails
from hotline.reports.service import ensure_default_cost_rate
from tests.insight.test_insight_data import AARHUS, NOVEMBER, add_call, add_two_months
from tests.insight.test_insight_report import assert_no_personal_data, pdf_text

FIRST_OF_DECEMBER = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 07:00 in Copenhagen
ADDRESSES = {"0751": "indsigt@aarhus.example", "0461": "indsigt@odense.example"}


def take_part(session) -> None:
    """Aarhus and Odense take part with an address, Aalborg without; Herning does not take part."""
    ensure_default_cost_rate(session=session)
    for code, address in (*ADDRESSES.items(), ("0851", None)):
        municipality = session.get(Municipality, code)
        municipality.participating, municipality.email = True, address
    session.get(Municipality, "0657").email = "indsigt@herning.example"
    session.commit()


@pytest.fixture
def participating(session, make_user):
    add_two_months(session, make_user)
    take_part(session)


def insight_mails(session) -> dict[str, MonthlyMail]:
    session.expire_all()
    query = select(MonthlyMail).where(MonthlyMail.kind == "insight")
    return {m.municipality_code: m for m in session.scalars(query)}


def make(make_session, settings, clock=lambda: FIRST_OF_DECEMBER):
    return create_insight_mails(
        make_session=make_session, settings=settings, month=NOVEMBER, clock=clock
    )


def test_each_participating_municipality_gets_one_a_month(
    session, make_session, mail_settings, participating
):
    settings = mail_settings()
    with pytest.raises(ValueError, match="06:00"):
        make(make_session, settings, clock=lambda: datetime(2026, 12, 1, 4, tzinfo=UTC))
    first = make(make_session, settings)
    assert (first.created, first.existing) == (2, 0)
    made = insight_mails(session)
    assert set(made) == set(ADDRESSES)
    aarhus = made[AARHUS]
    assert aarhus.filename == "indsigt_0751_aarhus_2026-11.pdf"
    reader, text = pdf_text(aarhus.pdf)
    assert reader.metadata.title == "Indsigt november 2026 – Aarhus Kommune"
    assert "Pas 3 1 +2" in text and "Rådhuspladsen 2" in text
    assert_no_personal_data(text)
    # A late call changes the page, never a report already made.
    add_call(session, NOVEMBER)
    session.commit()
    second = make(make_session, settings)
    assert (second.created, second.existing) == (0, 2)
    assert insight_mails(session)[AARHUS].pdf == aarhus.pdf


def test_delivery_through_smtp_next_to_the_bill_basis(
    session, make_session, mail_settings, participating, smtp_inbox
):
    inbox = smtp_inbox
    settings = mail_settings(inbox.url)
    make(make_session, settings)
    create_bill_mails(
        make_session=make_session,
        settings=settings,
        month=NOVEMBER,
        clock=lambda: FIRST_OF_DECEMBER,
    )
    # Two insight reports; bill bases for Aarhus and Odense (Aalborg has no address).
    assert deliver_due_monthly_mails(make_session=make_session, settings=settings) == 4
    assert deliver_due_monthly_mails(make_session=make_session, settings=settings) == 0
    by_subject = {message["Subject"]: (to, message) for to, message in inbox.messages}
    assert set(by_subject) == {
        "Indsigt november 2026 – Aarhus Kommune",
        "Indsigt november 2026 – Odense Kommune",
        "Afregningsgrundlag november 2026 – Aarhus Kommune",
        "Afregningsgrundlag november 2026 – Odense Kommune",
    }
    to, message = by_subject["Indsigt november 2026 – Aarhus Kommune"]
    assert to == ["indsigt@aarhus.example"]
    body = message.get_body(("plain",)).get_content()
    assert "jeres månedlige indsigt fra Digital Hotline for november 2026" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "indsigt_0751_aarhus_2026-11.pdf"
    made = insight_mails(session)[AARHUS]
    assert attachment.get_content() == made.pdf
    assert message["Message-ID"].strip() == made.message_id
    assert made.mail_status == MailStatus.SENT and made.sent_at is not None
    assert_no_personal_data(pdf_text(attachment.get_content())[1])
    [bill] = [
        m for t, m in inbox.messages if m["Subject"].startswith("Afregningsgrundlag") and t == to
    ]
    assert next(bill.iter_attachments()).get_filename().startswith("afregningsgrundlag_0751")


def test_the_worker_makes_and_sends_both_kinds(session, make_session, mail_settings):
    take_part(session)  # no calls: bill bases and insight reports of those with an address
    month = due_month(utcnow())
    settings = mail_settings(outbox_interval_s=0.05)

    def kinds():
        session.expire_all()
        return {
            (m.kind, m.municipality_code, m.mail_status)
            for m in session.scalars(select(MonthlyMail))
        }

    async def run_briefly():
        task = asyncio.create_task(run_monthly_mail_worker(make_session, settings))
        for _ in range(400):
            await asyncio.sleep(0.05)
            made = kinds()
            if len(made) == 4 and all(status != MailStatus.QUEUED for *_, status in made):
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_briefly())
    assert kinds() == {
        ("insight", "0751", MailStatus.SENT),
        ("insight", "0461", MailStatus.SENT),
        ("bill", "0751", MailStatus.SENT),
        ("bill", "0461", MailStatus.SENT),
    }
    assert {m.month for m in session.scalars(select(MonthlyMail))} == {month}


def test_the_cli_makes_and_sends_on_demand(
    session, database_url, tmp_path, monkeypatch, participating, smtp_inbox
):
    from hotline.cli import main

    inbox = smtp_inbox
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_MAIL_URL", inbox.url)
    runner = CliRunner()
    first = runner.invoke(main, ["insight", "send", "--month", "2026-11"])
    again = runner.invoke(main, ["insight", "send", "--month", "2026-11"])
    assert first.exit_code == 0, first.output
    assert "2026-11: 2 insight reports made, 0 made before; 2 e-mailed now" in first.output
    assert "sent: 2" in first.output
    assert "2026-11: 0 insight reports made, 2 made before; 0 e-mailed now" in again.output
    assert sorted(to[0] for to, _ in inbox.messages) == sorted(ADDRESSES.values())
    future = runner.invoke(main, ["insight", "send", "--month", "2999-01"])
    assert future.exit_code == 1 and "06:00" in future.output
