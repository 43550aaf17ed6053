"""The bill basis: PDFs read back, the zip, the API, and the monthly e-mails through real SMTP."""

import asyncio
import hashlib
import io
import mailbox
import threading
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, MailStatus, Outcome
from hotline.calls.reasons import seed_contact_reasons
from hotline.db import utcnow
from hotline.kit.numbers import danish_number, kr, rate_kr
from hotline.monthly.mail import deliver_due_monthly_mails
from hotline.monthly.models import MonthlyMail
from hotline.monthly.service import due_month
from hotline.monthly.worker import run_bill_worker
from hotline.municipalities.models import Municipality
from hotline.reports.bill import (
    bill_bases_zip,
    bill_basis_pdf,
    bill_filename,
    hotline_letterhead,
    name_slug,
    rates_in_period,
    summary_pdf,
)
from hotline.reports.bill_monthly import create_bill_mails
from hotline.reports.period import month_end
from hotline.reports.service import cost_report, ensure_default_cost_rate
from tests.live import free_port
from tests.smtp import Inbox

NOVEMBER = date(2026, 11, 1)
# 07:00 in Copenhagen on 1 December: November's bill bases are due.
FIRST_OF_DECEMBER = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
CALLER = "+4520123456"
CPR_NOTE = "Borgeren oplyste CPR 010203-1234 og bad om hjælp"
PERSONAL = (CALLER, "20123456", "010203-1234", "0102031234", "Borgeren oplyste", "Karen Ærbødig")
FILES = {
    "afregningsgrundlag_0751_aarhus_2026-11.pdf",
    "afregningsgrundlag_0851_aalborg_2026-11.pdf",
    "afregningsgrundlag_alle_2026-11.pdf",
}


def add_call(session, n, code, *, talk=0, acw=0, month=NOVEMBER, reason="pas", agent=None):
    offered = datetime.combine(month, datetime.min.time(), UTC) + timedelta(days=9, minutes=n)
    answered = offered + timedelta(seconds=30)
    ended = answered + timedelta(seconds=talk)
    session.add(
        Call(
            reference=f"DH-B{n:05d}",
            municipality_code=code,
            from_number=CALLER,
            state=CallState.DONE,
            offered_at=offered,
            answered_at=answered,
            ended_at=ended,
            wrapped_up_at=ended + timedelta(seconds=acw),
            outcome=Outcome.ANSWERED,
            contact_reason_code=reason,
            notes=CPR_NOTE,
            avoidable=n == 1,
            agent_id=agent.id if agent else None,
        )
    )


def add_month_of_calls(session, agent=None, month=NOVEMBER) -> None:
    """Aarhus 3 answered calls, Aalborg 2, one of unknown municipality: 6 answered in all."""
    seed_contact_reasons(session=session)
    ensure_default_cost_rate(session=session)
    calls = [("0751", 187, 61), ("0751", 421, 33), ("0751", 59, 7), ("0851", 233, 119)]
    calls += [("0851", 97, 13), (None, 77, 5)]
    for n, (code, talk, acw) in enumerate(calls):
        add_call(session, n, code, talk=talk, acw=acw, month=month, agent=agent)
    session.commit()


@pytest.fixture
def november(session, make_user):
    add_month_of_calls(session, agent=make_user(Role.AGENT, full_name="Karen Ærbødig"))
    return cost_report(session=session, start=NOVEMBER, end=month_end(NOVEMBER))


@pytest.fixture
def letterhead(settings):
    return hotline_letterhead(settings.letterheads_dir)


def pdf_text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    # Lines wrap where the layout says: compare the words only.
    return reader, " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def assert_no_personal_data(text: str) -> None:
    for secret in PERSONAL:
        assert secret not in text


def test_danish_formats_and_file_names():
    assert danish_number(Decimal("1234.5"), 2) == "1.234,50"
    assert kr(Decimal("1234.5")) == "1.234,50 kr."
    assert kr(Decimal("-12312.11")) == "-12.312,11 kr."
    assert kr(None) == "–"
    assert rate_kr(Decimal("0.1000")) == "0,10 kr." and rate_kr(Decimal("0.0125")) == "0,0125 kr."
    assert name_slug("Høje-Taastrup Kommune") == "hoeje-taastrup"
    assert name_slug("Lyngby-Taarbæk Kommune") == "lyngby-taarbaek"


def test_a_municipality_s_bill_basis(session, november, letterhead):
    rates = rates_in_period(session=session, start=november.start, end=november.end)
    pdf = bill_basis_pdf(november, "0751", letterhead, rates=rates)
    reader, text = pdf_text(pdf)
    assert reader.metadata.title == "Afregningsgrundlag november 2026 – Aarhus Kommune"
    assert reader.metadata.author == "Hotline"
    assert reader.metadata.subject == (
        "Afregningsgrundlag for perioden 1. november 2026 – 30. november 2026"
    )
    pages = len(reader.pages)
    assert f"Side {pages} af {pages}" in text
    # 25.000 kr. platform fee split by answered calls: Aarhus 3 of 6. Variable: 768 s handled at
    # 450 kr./h + 667 s talk at 0,10 kr./min = 97,11 kr. Baseline 3 x 95 kr.
    for figure in (
        "Digital Hotline",
        "Aarhus Kommune",
        "12.500,00 kr.",
        "97,11 kr.",
        "12.597,11 kr.",
        "4.199,04 kr.",  # per answered call
        "285,00 kr.",
        "-12.312,11 kr.",
        "-4.320,0 %",
        "Aarhus Kommune havde 3 af 6 besvarede opkald",
        "25.000,00 kr.",
        "Pas (3)",
        "33,3 %",  # avoidable: 1 of 3 answered
        "450,00 kr. pr. time",
        "0,10 kr. pr. minut",
        "95,00 kr. pr. opkald",
        "11,12",  # talk minutes: 667 s
        "søn",  # the hour-of-week chart
    ):
        assert figure in text, figure
    assert_no_personal_data(text)


def test_a_municipality_without_calls_gets_a_bill_basis_of_nothing(session, november, letterhead):
    pdf = bill_basis_pdf(november, "0461", letterhead, rates=[], name="Odense Kommune")
    _, text = pdf_text(pdf)
    assert "Odense Kommune" in text and "0,00 kr." in text


def test_the_summary_has_the_table_the_totals_and_both_charts(session, november, letterhead):
    rates = rates_in_period(session=session, start=november.start, end=november.end)
    reader, text = pdf_text(summary_pdf(november, letterhead, rates=rates))
    assert reader.metadata.title == "Afregningsgrundlag november 2026 – alle kommuner"
    for figure in ("0751 Aarhus Kommune", "0851 Aalborg Kommune", "Ukendt kommune", "I alt"):
        assert figure in text, figure
    assert "12.597,11 kr." in text and "25.000,00 kr." in text
    assert "Fast omkostning" in text and "Variabel omkostning" in text  # the cost chart
    assert "søn" in text  # the hour chart
    table_page = reader.pages[1].mediabox
    assert table_page.width > table_page.height  # the table is on a landscape page
    assert_no_personal_data(text)


def test_the_zip_has_a_bill_basis_per_municipality_and_the_summary(session, november, letterhead):
    rates = rates_in_period(session=session, start=november.start, end=november.end)
    archive = zipfile.ZipFile(io.BytesIO(bill_bases_zip(november, letterhead, rates=rates)))
    assert set(archive.namelist()) == FILES
    for name in FILES:
        _, text = pdf_text(archive.read(name))
        assert_no_personal_data(text)
    _, aalborg = pdf_text(archive.read("afregningsgrundlag_0851_aalborg_2026-11.pdf"))
    assert "Aalborg Kommune havde 2 af 6 besvarede opkald" in aalborg


# --- the API ---

URL = "/api/reports/cost.pdf"
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def supervisor_client(api_client, make_user):
    return api_client(make_user(Role.SUPERVISOR))


def test_api_one_municipality_gives_its_bill_basis(supervisor_client, november):
    response = supervisor_client.get(URL, params={**PERIOD, "municipality": "0751"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "afregningsgrundlag_0751_aarhus_2026-11.pdf" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    reader, text = pdf_text(response.content)
    assert reader.metadata.title.endswith("Aarhus Kommune") and "12.597,11 kr." in text


def test_api_without_a_municipality_gives_the_summary_or_the_zip(supervisor_client, november):
    summary = supervisor_client.get(URL, params=PERIOD)
    assert summary.status_code == 200
    assert "afregningsgrundlag_alle_2026-11.pdf" in summary.headers["content-disposition"]
    assert pdf_text(summary.content)[0].metadata.title.endswith("alle kommuner")
    archive = supervisor_client.get(URL, params={**PERIOD, "format": "zip"})
    assert archive.headers["content-type"] == "application/zip"
    assert set(zipfile.ZipFile(io.BytesIO(archive.content)).namelist()) == FILES


def test_api_filters_narrow_the_summary_and_the_zip(supervisor_client, november):
    two = supervisor_client.get(URL, params={**PERIOD, "municipality": ["0751", "0851"]})
    _, text = pdf_text(two.content)
    assert "Kun de valgte kommuner er med" in text and "Ukendt kommune" not in text
    north = supervisor_client.get(URL, params={**PERIOD, "region": "1081", "format": "zip"})
    assert set(zipfile.ZipFile(io.BytesIO(north.content)).namelist()) == {
        "afregningsgrundlag_0851_aalborg_2026-11.pdf",
        "afregningsgrundlag_alle_2026-11.pdf",
    }


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"format": "xml"}, 422, "Ukendt format: xml. Brug pdf eller zip."),
        ({"municipality": "0751", "region": "1081"}, 422, "ligger ikke i den valgte region"),
        ({"municipality": "9999"}, 404, "Kommunen med kode 9999 findes ikke."),
        ({"municipality": "751"}, 422, "Ugyldig kommunekode"),
        ({"from": "2026-11-31"}, 422, "Ugyldig dato"),
    ],
)
def test_api_refuses_nonsense_in_danish(supervisor_client, november, params, status, message):
    response = supervisor_client.get(URL, params={**PERIOD, **params})
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_api_is_for_supervisors_and_system_admins(api_client, make_user, client, november):
    assert client.get(URL, params=PERIOD).status_code == 401
    for role, codes in ((Role.AGENT, ()), (Role.MUNICIPALITY_ADMIN, ("0751",))):
        assert api_client(make_user(role, *codes)).get(URL, params=PERIOD).status_code == 403
    assert api_client(make_user(Role.SYSTEM_ADMIN)).get(URL, params=PERIOD).status_code == 200


# --- the monthly e-mails ---


def take_part(session, month=NOVEMBER) -> None:
    """Aarhus and Odense participate with an address (Odense had no calls); Aalborg without."""
    add_month_of_calls(session, month=month)
    addresses = {"0751": "okonomi@aarhus.example", "0851": None, "0461": "okonomi@odense.example"}
    for code, address in addresses.items():
        municipality = session.get(Municipality, code)
        municipality.participating, municipality.email = True, address
    session.commit()


def mails(session) -> dict[str, MonthlyMail]:
    session.expire_all()
    return {m.municipality_code: m for m in session.scalars(select(MonthlyMail))}


def test_the_month_is_due_from_six_in_the_morning_on_the_first():
    assert due_month(datetime(2026, 12, 1, 4, 59, tzinfo=UTC)) == date(2026, 10, 1)
    assert due_month(datetime(2026, 12, 1, 5, 0, tzinfo=UTC)) == NOVEMBER
    assert due_month(datetime(2027, 1, 15, 12, 0, tzinfo=UTC)) == date(2026, 12, 1)


def test_each_month_is_made_once_per_municipality(session, make_session, mail_settings):
    take_part(session)
    settings = mail_settings()
    with pytest.raises(ValueError, match="06:00"):  # November is not over at 05:00
        create_bill_mails(
            make_session=make_session,
            settings=settings,
            month=NOVEMBER,
            clock=lambda: datetime(2026, 12, 1, 4, 0, tzinfo=UTC),
        )
    first = create_bill_mails(
        make_session=make_session,
        settings=settings,
        month=NOVEMBER,
        clock=lambda: FIRST_OF_DECEMBER,
    )
    assert (first.created, first.existing) == (3, 0)
    made = mails(session)
    assert set(made) == {"0751", "0851", "0461"}  # not the unknown row, nor Herning etc.
    aarhus = made["0751"]
    assert aarhus.filename == bill_filename(cost_report_for(session), "0751", "Aarhus Kommune")
    assert aarhus.pdf_sha256 == hashlib.sha256(aarhus.pdf).hexdigest()
    assert "12.597,11 kr." in pdf_text(aarhus.pdf)[1]
    # A late call changes the live report, never a bill basis already made.
    add_call(session, 50, "0751", talk=600)
    session.commit()
    second = create_bill_mails(
        make_session=make_session,
        settings=settings,
        month=NOVEMBER,
        clock=lambda: FIRST_OF_DECEMBER,
    )
    assert (second.created, second.existing) == (0, 3)
    assert mails(session)["0751"].pdf == aarhus.pdf


def cost_report_for(session):
    return cost_report(session=session, start=NOVEMBER, end=month_end(NOVEMBER))


def test_two_processes_at_once_make_each_once(session, make_session, mail_settings):
    take_part(session)
    settings = mail_settings()
    start = threading.Barrier(2)
    runs = []

    def run():
        start.wait()
        runs.append(
            create_bill_mails(
                make_session=make_session,
                settings=settings,
                month=NOVEMBER,
                clock=lambda: FIRST_OF_DECEMBER,
            )
        )

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.created for r in runs) == 3
    assert all(r.created + r.existing == 3 for r in runs)
    assert len(session.scalars(select(MonthlyMail)).all()) == 3


def test_delivery_through_smtp_with_the_pdf(session, make_session, mail_settings, smtp_inbox):
    take_part(session)
    inbox = smtp_inbox
    settings = mail_settings(inbox.url)
    create_bill_mails(
        make_session=make_session,
        settings=settings,
        month=NOVEMBER,
        clock=lambda: FIRST_OF_DECEMBER,
    )
    assert deliver_due_monthly_mails(make_session=make_session, settings=settings) == 2
    assert deliver_due_monthly_mails(make_session=make_session, settings=settings) == 0
    by_recipient = {recipients[0]: message for recipients, message in inbox.messages}
    assert set(by_recipient) == {"okonomi@aarhus.example", "okonomi@odense.example"}
    message = by_recipient["okonomi@aarhus.example"]
    assert message["Subject"] == "Afregningsgrundlag november 2026 – Aarhus Kommune"
    assert (
        "afregningsgrundlaget for jeres brug af Digital Hotline"
        in message.get_body(("plain",)).get_content()
    )
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "afregningsgrundlag_0751_aarhus_2026-11.pdf"
    made = mails(session)
    assert attachment.get_content() == made["0751"].pdf
    assert "12.597,11 kr." in pdf_text(attachment.get_content())[1]
    assert message["Message-ID"].strip() == made["0751"].message_id
    assert made["0751"].mail_status == MailStatus.SENT and made["0751"].sent_at is not None
    assert made["0851"].mail_status == MailStatus.NONE  # Aalborg has no address


def test_an_smtp_outage_leaves_them_queued_for_a_retry(session, make_session, mail_settings):
    take_part(session)
    port = free_port()
    settings = mail_settings(f"smtp://127.0.0.1:{port}")
    create_bill_mails(
        make_session=make_session,
        settings=settings,
        month=NOVEMBER,
        clock=lambda: FIRST_OF_DECEMBER,
    )
    assert deliver_due_monthly_mails(make_session=make_session, settings=settings) == 0
    aarhus = mails(session)["0751"]
    assert aarhus.mail_status == MailStatus.QUEUED and aarhus.mail_attempts == 1
    assert aarhus.mail_last_error and aarhus.mail_next_attempt_at > utcnow()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        later = utcnow() + timedelta(minutes=5)
        sent = deliver_due_monthly_mails(
            make_session=make_session, settings=settings, clock=lambda: later
        )
    finally:
        controller.stop()
    assert sent == 2 and len(inbox.messages) == 2
    assert mails(session)["0751"].mail_status == MailStatus.SENT


def test_the_worker_makes_and_sends_the_finished_month(session, make_session, mail_settings):
    month = due_month(utcnow())
    take_part(session, month=month)
    settings = mail_settings(outbox_interval_s=0.05)

    async def run_briefly():
        task = asyncio.create_task(run_bill_worker(make_session, settings))
        for _ in range(400):
            await asyncio.sleep(0.05)
            made = mails(session)
            if len(made) == 3 and all(m.mail_status != MailStatus.QUEUED for m in made.values()):
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_briefly())
    made = mails(session)
    assert {m.month for m in made.values()} == {month}
    assert made["0751"].mail_status == MailStatus.SENT
    maildir = mailbox.Maildir(settings.data_dir / "mail", create=False)
    assert sorted(maildir.keys()) == sorted(
        f"hotline-reply-bill-{m.id}" for m in made.values() if m.municipality_code != "0851"
    )


def test_the_cli_makes_and_sends_on_demand(
    session, database_url, tmp_path, monkeypatch, smtp_inbox
):
    from hotline.cli import main

    take_part(session)
    inbox = smtp_inbox
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_MAIL_URL", inbox.url)
    runner = CliRunner()
    first = runner.invoke(main, ["reports", "send-bill-bases", "--month", "2026-11"])
    again = runner.invoke(main, ["reports", "send-bill-bases", "--month", "2026-11"])
    assert first.exit_code == 0, first.output
    assert "2026-11: 3 bill bases made, 0 made before; 2 e-mailed now" in first.output
    assert "2026-11: 0 bill bases made, 3 made before; 0 e-mailed now" in again.output
    assert len(inbox.messages) == 2
    future = runner.invoke(main, ["reports", "send-bill-bases", "--month", "2999-01"])
    assert future.exit_code == 1 and "06:00" in future.output
    nonsense = runner.invoke(main, ["reports", "send-bill-bases", "--month", "november"])
    assert nonsense.exit_code == 1 and "YYYY-MM" in nonsense.output
