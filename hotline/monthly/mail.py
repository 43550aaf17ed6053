"""The monthly documents' e-mails: built from the stored PDF and sent through the mail queue.

Claiming, leases, retries and backoff are hotline/mail/queue.py, as for the replies.
"""

from collections.abc import Callable
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.models import MailStatus
from hotline.config import Settings
from hotline.db import utcnow
from hotline.i18n import t
from hotline.mail.queue import MailQueue, deliver_due
from hotline.monthly.models import MonthlyMail
from hotline.monthly.service import BILL, INSIGHT
from hotline.reports.bill import period_text
from hotline.reports.period import month_end

# The e-mail's subject and text of each kind (Danish, in the locale files).
MAIL_TEXTS = {
    BILL: ("bill.mail_subject", "bill.mail_body"),
    INSIGHT: ("insight.mail_subject", "insight.mail_body"),
}


def build_monthly_message(mail: MonthlyMail, *, mail_from: str) -> EmailMessage | None:
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


def _build(session: Session, mail: MonthlyMail, settings: Settings) -> EmailMessage | None:
    return build_monthly_message(mail, mail_from=settings.mail_from)


MONTHLY_MAILS = MailQueue(
    name="monthly document",
    model=MonthlyMail,
    status=MonthlyMail.mail_status,
    next_attempt_at=MonthlyMail.mail_next_attempt_at,
    attempts=MonthlyMail.mail_attempts,
    last_error=MonthlyMail.mail_last_error,
    claimed_by=MonthlyMail.mail_claimed_by,
    statuses=MailStatus,
    build=_build,
    maildir_name=lambda mail_id: f"bill-{mail_id}",  # apart from the replies' files (both kinds)
    sent_values=lambda now: {"sent_at": now},
    nobody_status=MailStatus.NONE,
)


def deliver_due_monthly_mails(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Send every due monthly e-mail (bill bases and insight reports) once; how many were sent."""
    return deliver_due(MONTHLY_MAILS, make_session=make_session, settings=settings, clock=clock)
