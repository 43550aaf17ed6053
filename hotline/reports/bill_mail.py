"""Each month's documents per municipality: made once, stored, and e-mailed through the mail queue.

Two kinds share the table and the queue: "bill" (the bill basis, on the hotline's letterhead) and
"insight" (the monthly insight report, on the municipality's own). Claiming, leases, retries and
backoff are hotline/letters/mail_queue.py, as for the replies.
"""

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.models import MailStatus
from hotline.config import Settings
from hotline.db import utcnow
from hotline.i18n import t
from hotline.insight.monthly import insight_months
from hotline.insight.report import insight_filename, insight_pdf, municipality_letterhead
from hotline.kit.dates import COPENHAGEN
from hotline.letters.letterheads import LetterheadError
from hotline.letters.mail_queue import MailQueue, deliver_due
from hotline.municipalities.models import Municipality
from hotline.reports.bill import (
    bill_basis_pdf,
    bill_filename,
    hotline_letterhead,
    period_text,
    rates_in_period,
)
from hotline.reports.bill_models import BillBasisMail
from hotline.reports.period import month_end
from hotline.reports.service import CostReport, cost_report

log = logging.getLogger(__name__)
# A month's bill bases are made this long after it ends: calls still going at midnight are over
# and wrapped up by then, so their minutes are in the figures that are then fixed for good.
GRACE = timedelta(hours=6)
CHECK_INTERVAL_S = 3600.0
BILL, INSIGHT = "bill", "insight"
MONTHLY_KINDS = (BILL, INSIGHT)
# The e-mail's subject and text of each kind (Danish, in the locale files).
MAIL_TEXTS = {
    BILL: ("bill.mail_subject", "bill.mail_body"),
    INSIGHT: ("insight.mail_subject", "insight.mail_body"),
}


@dataclass(frozen=True)
class BillRun:
    """What one run for a month did: documents made now, and those made before."""

    month: date
    created: int
    existing: int


def due_month(now: datetime) -> date:
    """The latest month whose bill bases may be made at now (from 06:00 Danish time on the 1st)."""
    local = (now.astimezone(COPENHAGEN) - GRACE).date()
    return (local.replace(day=1) - timedelta(days=1)).replace(day=1)


def parse_month(text: str) -> date:
    """A month from "YYYY-MM" (its first day); ValueError when it is not one."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"not a month in the form YYYY-MM: {text[:20]!r}") from None


def create_bill_mails(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    month: date,
    clock: Callable[[], datetime] = utcnow,
) -> BillRun:
    """Make the month's missing bill bases, each committed on its own; safe to run twice at once.

    A municipality gets one when it had calls, or when it participates and has an e-mail address.
    """
    now = clock()
    _ensure_due(month, now)
    with make_session() as session:
        done = _made_before(session, BILL, month)
        report = cost_report(session=session, start=month, end=month_end(month))
        wanted = {c: n for c, n in billed_municipalities(session, report).items() if c not in done}
        if not wanted:
            return BillRun(month, 0, len(done))
        letterhead = hotline_letterhead(settings.letterheads_dir)
        rates = rates_in_period(session=session, start=report.start, end=report.end)
        session.commit()  # no transaction stays open while the PDFs render
        created = 0
        for code, name in sorted(wanted.items()):
            pdf = bill_basis_pdf(report, code, letterhead, rates=rates, name=name, generated_at=now)
            filename = bill_filename(report, code, name)
            created += _store(session, settings, BILL, month, code, pdf, filename, now)
    if created:
        log.info("made %d bill basis e-mail(s) for %s", created, f"{month:%Y-%m}")
    return BillRun(month, created, len(wanted) - created + len(done))


def create_insight_mails(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    month: date,
    clock: Callable[[], datetime] = utcnow,
) -> BillRun:
    """Make the month's missing insight reports of the participating municipalities with an address.

    Each is rendered on the municipality's own letterhead and committed on its own, like the bills.
    """
    now = clock()
    _ensure_due(month, now)
    with make_session() as session:
        done = _made_before(session, INSIGHT, month)
        query = select(Municipality).where(
            Municipality.participating.is_(True), Municipality.email.is_not(None)
        )
        wanted = [
            m
            for m in session.scalars(query.order_by(Municipality.code))
            if m.email.strip() and m.code not in done
        ]
        if not wanted:
            return BillRun(month, 0, len(done))
        insights = insight_months(session, wanted, month)
        letterheads = {}
        for municipality in wanted:
            try:
                letterheads[municipality.code] = municipality_letterhead(
                    municipality, settings.letterheads_dir
                )
            except LetterheadError:  # one broken letterhead must not hold back the others
                log.exception(
                    "no insight report for %s: its letterhead is broken", municipality.code
                )
        session.commit()  # no transaction stays open while the PDFs render
        created = 0
        for insight in insights:
            if insight.code not in letterheads:
                continue
            pdf = insight_pdf(insight, letterheads[insight.code], generated_at=now)
            filename = insight_filename(insight.code, insight.name, month)
            created += _store(session, settings, INSIGHT, month, insight.code, pdf, filename, now)
    if created:
        log.info("made %d insight report e-mail(s) for %s", created, f"{month:%Y-%m}")
    return BillRun(month, created, len(wanted) - created + len(done))


def _ensure_due(month: date, now: datetime) -> None:
    if month > due_month(now):
        raise ValueError(
            f"the documents of {month:%Y-%m} can be made from 06:00 Danish time on the first "
            "day of the next month"
        )


def _made_before(session: Session, kind: str, month: date) -> set[str]:
    query = select(BillBasisMail.municipality_code).where(
        BillBasisMail.kind == kind, BillBasisMail.month == month
    )
    return set(session.scalars(query))


def _store(session, settings, kind, month, code, pdf, filename, now) -> bool:
    """Keep one document as made; False when another process made it first."""
    domain = settings.mail_from.rpartition("@")[2]
    session.add(
        BillBasisMail(
            kind=kind,
            month=month,
            municipality_code=code,
            pdf=pdf,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            filename=filename,
            created_at=now,
            message_id=make_msgid(idstring=kind, domain=domain),
            mail_status=MailStatus.QUEUED,
        )
    )
    try:
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def billed_municipalities(session: Session, report: CostReport) -> dict[str, str]:
    """Code -> name of the municipalities with calls, and the participating ones with an address."""
    billed = {row.code: row.name for row in report.rows if row.code}
    participating = select(Municipality).where(
        Municipality.participating.is_(True), Municipality.email.is_not(None)
    )
    for municipality in session.scalars(participating):
        if municipality.email.strip():
            billed.setdefault(municipality.code, municipality.name)
    return billed


CREATORS = {BILL: create_bill_mails, INSIGHT: create_insight_mails}


def create_due_bill_mails(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
    kind: str = BILL,
) -> BillRun:
    """Make the documents of a kind (default the bill bases) of the latest finished month."""
    return CREATORS[kind](
        make_session=make_session, settings=settings, month=due_month(clock()), clock=clock
    )


def build_bill_message(mail: BillBasisMail, *, mail_from: str) -> EmailMessage | None:
    """The e-mail of its kind with the stored PDF to the municipality's current address, or None."""
    municipality = mail.municipality
    address = (municipality.email or "").strip()
    if not address:
        return None
    period = period_text(mail.month, month_end(mail.month))
    message = EmailMessage()
    local, _, domain = mail_from.partition("@")
    message["From"] = Address(display_name=t("app.name"), username=local, domain=domain)
    message["To"] = Address(display_name=municipality.name, addr_spec=address)
    subject, body = MAIL_TEXTS[mail.kind]
    message["Subject"] = t(subject, period=period, municipality=municipality.name)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = mail.message_id
    message.set_content(t(body, period=period, municipality=municipality.name))
    message.add_attachment(mail.pdf, maintype="application", subtype="pdf", filename=mail.filename)
    return message


def _build(session: Session, mail: BillBasisMail, settings: Settings) -> EmailMessage | None:
    return build_bill_message(mail, mail_from=settings.mail_from)


BILL_MAILS = MailQueue(
    name="monthly document",
    model=BillBasisMail,
    status=BillBasisMail.mail_status,
    next_attempt_at=BillBasisMail.mail_next_attempt_at,
    attempts=BillBasisMail.mail_attempts,
    last_error=BillBasisMail.mail_last_error,
    statuses=MailStatus,
    build=_build,
    maildir_name=lambda mail_id: f"bill-{mail_id}",  # apart from the replies' files (both kinds)
    sent_values=lambda now: {"sent_at": now},
    nobody_status=MailStatus.NONE,
)


def deliver_due_bill_mails(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Send every due monthly e-mail (bill bases and insight reports) once; how many were sent."""
    return deliver_due(BILL_MAILS, make_session=make_session, settings=settings, clock=clock)


async def run_bill_mail_worker(make_session: sessionmaker[Session], settings: Settings) -> None:
    """The monthly worker for the bill bases alone."""
    await run_monthly_mail_worker(make_session, settings, kinds=(BILL,))


async def run_monthly_mail_worker(
    make_session: sessionmaker[Session],
    settings: Settings,
    kinds: tuple[str, ...] = MONTHLY_KINDS,
) -> None:
    """Hourly, make the finished month's documents of each kind; every few seconds, send them."""
    next_check = 0.0
    while True:
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + CHECK_INTERVAL_S
            for kind in kinds:  # each on its own: one kind failing does not hold back the other
                try:
                    await asyncio.to_thread(
                        create_due_bill_mails,
                        make_session=make_session,
                        settings=settings,
                        kind=kind,
                    )
                except Exception:
                    log.exception(
                        "making the monthly %s documents failed; trying again later", kind
                    )
        try:
            await asyncio.to_thread(
                deliver_due, BILL_MAILS, make_session=make_session, settings=settings
            )
        except Exception:
            log.exception("sending the monthly e-mails failed; trying again later")
        await asyncio.sleep(settings.outbox_interval_s)
