"""The monthly bill bases: each month's, made once per billed municipality and stored to be sent."""

import logging
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config import Settings
from hotline.db import utcnow
from hotline.monthly.service import BILL, MonthlyRun, ensure_due, made_before, store_document
from hotline.municipalities.models import Municipality
from hotline.reports.bill import (
    bill_basis_pdf,
    bill_filename,
    hotline_letterhead,
    rates_in_period,
)
from hotline.reports.period import month_end
from hotline.reports.service import CostReport, cost_report

log = logging.getLogger(__name__)


def create_bill_mails(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    month: date,
    clock: Callable[[], datetime] = utcnow,
) -> MonthlyRun:
    """Make the month's missing bill bases, each committed on its own; safe to run twice at once.

    A municipality gets one when it had calls, or when it participates and has an e-mail address.
    """
    now = clock()
    ensure_due(month, now)
    with make_session() as session:
        done = made_before(session, BILL, month)
        report = cost_report(session=session, start=month, end=month_end(month))
        wanted = {c: n for c, n in billed_municipalities(session, report).items() if c not in done}
        if not wanted:
            return MonthlyRun(month, 0, len(done))
        letterhead = hotline_letterhead(settings.letterheads_dir)
        rates = rates_in_period(session=session, start=report.start, end=report.end)
        session.commit()  # no transaction stays open while the PDFs render
        created = 0
        for code, name in sorted(wanted.items()):
            pdf = bill_basis_pdf(report, code, letterhead, rates=rates, name=name, generated_at=now)
            filename = bill_filename(report, code, name)
            created += store_document(session, settings, BILL, month, code, pdf, filename, now)
    if created:
        log.info("made %d bill basis e-mail(s) for %s", created, f"{month:%Y-%m}")
    return MonthlyRun(month, created, len(wanted) - created + len(done))


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
