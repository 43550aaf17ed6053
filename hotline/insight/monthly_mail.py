"""The monthly insight reports: made once per participating municipality and month, and stored."""

import logging
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config import Settings
from hotline.db import utcnow
from hotline.insight.monthly import insight_months
from hotline.insight.report import insight_filename, insight_pdf, municipality_letterhead
from hotline.letters.letterheads import LetterheadError
from hotline.monthly.service import INSIGHT, MonthlyRun, ensure_due, made_before, store_document
from hotline.municipalities.models import Municipality

log = logging.getLogger(__name__)


def create_insight_mails(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    month: date,
    clock: Callable[[], datetime] = utcnow,
) -> MonthlyRun:
    """Make the month's missing insight reports of the participating municipalities with an address.

    Each is rendered on the municipality's own letterhead and committed on its own, like the bills.
    """
    now = clock()
    ensure_due(month, now)
    with make_session() as session:
        done = made_before(session, INSIGHT, month)
        query = select(Municipality).where(
            Municipality.participating.is_(True), Municipality.email.is_not(None)
        )
        wanted = [
            m
            for m in session.scalars(query.order_by(Municipality.code))
            if m.email.strip() and m.code not in done
        ]
        if not wanted:
            return MonthlyRun(month, 0, len(done))
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
            created += store_document(
                session, settings, INSIGHT, month, insight.code, pdf, filename, now
            )
    if created:
        log.info("made %d insight report e-mail(s) for %s", created, f"{month:%Y-%m}")
    return MonthlyRun(month, created, len(wanted) - created + len(done))
