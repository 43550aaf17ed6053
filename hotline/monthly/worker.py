"""The monthly documents' creators per kind, and the worker that makes and sends them."""

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.config import Settings
from hotline.db import utcnow
from hotline.insight.monthly_mail import create_insight_mails
from hotline.mail.queue import deliver_due
from hotline.monthly.mail import MONTHLY_MAILS
from hotline.monthly.service import BILL, INSIGHT, MONTHLY_KINDS, MonthlyRun, due_month
from hotline.reports.bill_monthly import create_bill_mails

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 3600.0
CREATORS = {BILL: create_bill_mails, INSIGHT: create_insight_mails}


def create_due(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
    kind: str = BILL,
) -> MonthlyRun:
    """Make the documents of a kind (default the bill bases) of the latest finished month."""
    return CREATORS[kind](
        make_session=make_session, settings=settings, month=due_month(clock()), clock=clock
    )


async def run_bill_worker(make_session: sessionmaker[Session], settings: Settings) -> None:
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
                        create_due,
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
                deliver_due, MONTHLY_MAILS, make_session=make_session, settings=settings
            )
        except Exception:
            log.exception("sending the monthly e-mails failed; trying again later")
        await asyncio.sleep(settings.outbox_interval_s)
