"""Each month's documents per municipality, whatever their kind: when due, and stored once.

Two kinds share the table and the mail queue: "bill" (the bill basis, on the hotline's
letterhead; hotline/reports/bill_monthly.py) and "insight" (the monthly insight report, on the
municipality's own; hotline/insight/monthly_mail.py).
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import make_msgid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.calls.models import MailStatus
from hotline.config import Settings
from hotline.kit.dates import COPENHAGEN
from hotline.monthly.models import MonthlyMail

# A month's documents are made this long after it ends: calls still going at midnight are over
# and wrapped up by then, so their minutes are in the figures that are then fixed for good.
GRACE = timedelta(hours=6)
BILL, INSIGHT = "bill", "insight"
MONTHLY_KINDS = (BILL, INSIGHT)


@dataclass(frozen=True)
class MonthlyRun:
    """What one run for a month did: documents made now, and those made before."""

    month: date
    created: int
    existing: int


def due_month(now: datetime) -> date:
    """The latest month whose documents may be made at now (from 06:00 Danish time on the 1st)."""
    local = (now.astimezone(COPENHAGEN) - GRACE).date()
    return (local.replace(day=1) - timedelta(days=1)).replace(day=1)


def parse_month(text: str) -> date:
    """A month from "YYYY-MM" (its first day); ValueError when it is not one."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"not a month in the form YYYY-MM: {text[:20]!r}") from None


def ensure_due(month: date, now: datetime) -> None:
    """ValueError when the month's documents may not be made yet at now."""
    if month > due_month(now):
        raise ValueError(
            f"the documents of {month:%Y-%m} can be made from 06:00 Danish time on the first "
            "day of the next month"
        )


def made_before(session: Session, kind: str, month: date) -> set[str]:
    """The codes of the municipalities whose document of the kind and month is already made."""
    query = select(MonthlyMail.municipality_code).where(
        MonthlyMail.kind == kind, MonthlyMail.month == month
    )
    return set(session.scalars(query))


def store_document(
    session: Session,
    settings: Settings,
    kind: str,
    month: date,
    code: str,
    pdf: bytes,
    filename: str,
    now: datetime,
) -> bool:
    """Keep one document as made; False when another process made it first."""
    domain = settings.mail_from.rpartition("@")[2]
    session.add(
        MonthlyMail(
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
