"""Each month's bill bases: made once per municipality, stored, and e-mailed through the mail queue.

Claiming, leases, retries and backoff are hotline/letters/mail_queue.py, as for the replies.
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
from hotline.kit.dates import COPENHAGEN
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


@dataclass(frozen=True)
class BillRun:
    """What one run for a month did: bill bases made now, and those made before."""

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
    if month > due_month(now):
        raise ValueError(
            f"the bill bases of {month:%Y-%m} can be made from 06:00 Danish time on the first "
            "day of the next month"
        )
    with make_session() as session:
        done = set(
            session.scalars(
                select(BillBasisMail.municipality_code).where(
                    BillBasisMail.kind == "bill", BillBasisMail.month == month
                )
            )
        )
        report = cost_report(session=session, start=month, end=month_end(month))
        wanted = {c: n for c, n in billed_municipalities(session, report).items() if c not in done}
        if not wanted:
            return BillRun(month, 0, len(done))
        letterhead = hotline_letterhead(settings.letterheads_dir)
        rates = rates_in_period(session=session, start=report.start, end=report.end)
        session.commit()  # no transaction stays open while the PDFs render
        domain = settings.mail_from.rpartition("@")[2]
        created = 0
        for code, name in sorted(wanted.items()):
            pdf = bill_basis_pdf(report, code, letterhead, rates=rates, name=name, generated_at=now)
            session.add(
                BillBasisMail(
                    month=month,
                    municipality_code=code,
                    pdf=pdf,
                    pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                    filename=bill_filename(report, code, name),
                    created_at=now,
                    message_id=make_msgid(idstring="bill", domain=domain),
                    mail_status=MailStatus.QUEUED,
                )
            )
            try:
                session.commit()
                created += 1
            except IntegrityError:  # another process made this one first
                session.rollback()
    if created:
        log.info("made %d bill basis e-mail(s) for %s", created, f"{month:%Y-%m}")
    return BillRun(month, created, len(wanted) - created + len(done))


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


def create_due_bill_mails(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> BillRun:
    """Make the bill bases of the latest finished month, where missing."""
    return create_bill_mails(
        make_session=make_session, settings=settings, month=due_month(clock()), clock=clock
    )


def build_bill_message(mail: BillBasisMail, *, mail_from: str) -> EmailMessage | None:
    """The e-mail with the stored PDF to the municipality's current address; None without one."""
    municipality = mail.municipality
    address = (municipality.email or "").strip()
    if not address:
        return None
    period = period_text(mail.month, month_end(mail.month))
    message = EmailMessage()
    local, _, domain = mail_from.partition("@")
    message["From"] = Address(display_name=t("app.name"), username=local, domain=domain)
    message["To"] = Address(display_name=municipality.name, addr_spec=address)
    message["Subject"] = t("bill.mail_subject", period=period, municipality=municipality.name)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = mail.message_id
    message.set_content(t("bill.mail_body", period=period, municipality=municipality.name))
    message.add_attachment(mail.pdf, maintype="application", subtype="pdf", filename=mail.filename)
    return message


def _build(session: Session, mail: BillBasisMail, settings: Settings) -> EmailMessage | None:
    return build_bill_message(mail, mail_from=settings.mail_from)


BILL_MAILS = MailQueue(
    name="bill basis",
    model=BillBasisMail,
    status=BillBasisMail.mail_status,
    next_attempt_at=BillBasisMail.mail_next_attempt_at,
    attempts=BillBasisMail.mail_attempts,
    last_error=BillBasisMail.mail_last_error,
    statuses=MailStatus,
    build=_build,
    maildir_name=lambda mail_id: f"bill-{mail_id}",  # apart from the replies' files
    sent_values=lambda now: {"sent_at": now},
    nobody_status=MailStatus.NONE,
)


def deliver_due_bill_mails(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Send every due bill basis e-mail once; return how many were sent."""
    return deliver_due(BILL_MAILS, make_session=make_session, settings=settings, clock=clock)


async def run_bill_mail_worker(make_session: sessionmaker[Session], settings: Settings) -> None:
    """Hourly, make the finished month's bill bases; every few seconds, send the due ones."""
    next_check = 0.0
    while True:
        try:
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + CHECK_INTERVAL_S
                await asyncio.to_thread(
                    create_due_bill_mails, make_session=make_session, settings=settings
                )
            await asyncio.to_thread(
                deliver_due, BILL_MAILS, make_session=make_session, settings=settings
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the bill basis run failed; trying again later")
        await asyncio.sleep(settings.outbox_interval_s)
