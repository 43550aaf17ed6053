"""Archive retention: after the retention period a reply keeps its facts, not its content.

A purged reply keeps its reference, municipality, channel, author, dates, status, cited rules,
Message-ID and the PDF's SHA-256 (statistics, and proof of what was sent), but loses the PDF, the
recipient, the subject, the text and the last error. `run_purge` runs every purge step; the
daily worker and `hotline purge` both use it.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.audit.service import record_change
from hotline.config import Settings
from hotline.db import utcnow
from hotline.letters.models import Reply, ReplyStatus

log = logging.getLogger(__name__)
BATCH_SIZE = 500
PURGE_INTERVAL = timedelta(hours=24)
# Never purge a reply that is still to be delivered, however old.
UNDELIVERED = (ReplyStatus.QUEUED, ReplyStatus.SENDING)


class PurgeReport(NamedTuple):
    """What one purge step removed (or would remove), and the cut-off it used."""

    what: str
    count: int
    cutoff: datetime


def archive_cutoff(*, now: datetime, retention_days: int) -> datetime:
    """Replies created before this moment are past the retention period."""
    if retention_days < 1:
        raise ValueError(f"the retention period must be at least 1 day, not {retention_days}")
    return now - timedelta(days=retention_days)


def _purgeable(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        Reply.created_at < cutoff,
        Reply.purged_at.is_(None),
        Reply.status.not_in(UNDELIVERED),
    )


def count_purgeable_replies(session: Session, *, now: datetime, retention_days: int) -> int:
    """How many replies a purge would remove now."""
    cutoff = archive_cutoff(now=now, retention_days=retention_days)
    return session.scalar(select(func.count()).select_from(Reply).where(_purgeable(cutoff)))


def purge_archive(session: Session, *, now: datetime, retention_days: int) -> int:
    """Remove the PDF and personal content of replies past retention; flush only; the count."""
    cutoff = archive_cutoff(now=now, retention_days=retention_days)
    purged, last_id = 0, 0
    while True:
        ids = list(
            session.scalars(
                select(Reply.id)
                .where(_purgeable(cutoff), Reply.id > last_id)
                .order_by(Reply.id)
                .limit(BATCH_SIZE)
            )
        )
        if not ids:
            break
        last_id = ids[-1]
        # A bulk UPDATE on purpose: the ORM guard refuses any change to an archived reply's
        # content, and retention is the one change the archive must allow. The condition is
        # repeated so that a reply re-queued since the SELECT is left alone.
        result = session.execute(
            update(Reply)
            .where(Reply.id.in_(ids), _purgeable(cutoff))
            .values(
                pdf=b"",
                recipient_name="",
                recipient_address="",
                recipient_email=None,
                subject="",
                body_md="",
                last_error=None,
                purged_at=now,
            )
            .execution_options(synchronize_session="fetch")
        )
        purged += result.rowcount
    record_change(
        session=session,
        actor=None,
        action="archive.purge",
        entity_type="replies",
        entity_id="archive",
        after={"purged": purged, "cutoff": cutoff.isoformat(), "retention_days": retention_days},
    )
    return purged


def _archive_step(
    session: Session, *, settings: Settings, now: datetime, dry_run: bool
) -> PurgeReport:
    days = settings.archive_retention_days
    if dry_run:
        count = count_purgeable_replies(session, now=now, retention_days=days)
    else:
        count = purge_archive(session, now=now, retention_days=days)
    return PurgeReport("replies", count, archive_cutoff(now=now, retention_days=days))


def purge_steps() -> list[Callable[..., PurgeReport]]:
    """Every kind of personal data that expires: replies, calls, handled callbacks, comments,
    and which agent made a rule search."""
    from hotline.calls.retention import callbacks_step, calls_step  # calls imports this module
    from hotline.insight.retention import search_log_step, survey_comments_step

    return [_archive_step, calls_step, callbacks_step, survey_comments_step, search_log_step]


def run_purge(
    session: Session, *, settings: Settings, now: datetime, dry_run: bool = False
) -> list[PurgeReport]:
    """Run every purge step (or count what each would purge); flush only, the caller commits."""
    return [step(session, settings=settings, now=now, dry_run=dry_run) for step in purge_steps()]


def _purge_once(make_session: sessionmaker[Session], settings: Settings) -> None:
    with make_session() as session:
        reports = run_purge(session, settings=settings, now=utcnow())
        session.commit()
    for report in reports:
        log.info("purged %d %s created before %s", report.count, report.what, report.cutoff)


async def run_purge_worker(make_session: sessionmaker[Session], settings: Settings) -> None:
    """Purge at start-up, then every 24 hours until cancelled; an error is logged, not fatal."""
    while True:
        try:
            await asyncio.to_thread(_purge_once, make_session, settings)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the retention purge failed; trying again in %s", PURGE_INTERVAL)
        await asyncio.sleep(PURGE_INTERVAL.total_seconds())
