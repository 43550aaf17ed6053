"""Retention: personal data is purged once it is older than its retention period.

Each kind of personal data that expires is a PurgeStep, declared by the domain that owns it
(hotline/letters/retention.py, hotline/calls/retention.py, hotline/insight/retention.py).
`run_purge` runs them in the order of PURGE_STEPS; the web server does it at start-up and every
24 hours (HOTLINE_PURGE_WORKER), `hotline purge [--dry-run]` on demand.

A step's cut-off is the run's start minus the step's retention days. What a run guarantees:
- When a step has run, every row that was past its cut-off (`expired`) when the step began, and
  still is when its batch comes, has lost the personal data. The rows are taken in batches of
  BATCH_SIZE ids in id order, each batch after the last id of the one before: one pass over the
  table. A row that expires while its step runs waits for the next run.
- Each step is one transaction, its audit entry (how many, the cut-off, the retention days)
  included: a step is committed whole and audited, or not at all. A step that fails is rolled
  back and logged, and the steps after it still run; the ones before it stay committed. A run
  killed halfway keeps the steps it had committed, and nothing of the one it was in; the next
  run purges what was left, as it is still past retention.
- A dry run counts what each step would purge and changes nothing.
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.audit.service import record_change
from hotline.calls.retention import PURGE_STEPS as CALL_STEPS
from hotline.config import Settings
from hotline.db import utcnow
from hotline.insight.retention import PURGE_STEPS as INSIGHT_STEPS
from hotline.letters.retention import PURGE_STEPS as LETTER_STEPS
from hotline.privacy.purge_step import PurgeStep

log = logging.getLogger(__name__)
BATCH_SIZE = 1000
PURGE_INTERVAL = timedelta(hours=24)
# Replies, calls, handled callbacks, survey comments, rule searches' agents, old rule searches.
PURGE_STEPS: tuple[PurgeStep, ...] = (*LETTER_STEPS, *CALL_STEPS, *INSIGHT_STEPS)


class PurgeReport(NamedTuple):
    """What one step purged (or would purge), the cut-off it used, and whether it failed."""

    what: str
    count: int
    cutoff: datetime
    failed: bool = False


def cutoff(*, now: datetime, retention_days: int) -> datetime:
    """Data from before this moment is past the retention period."""
    if retention_days < 1:
        raise ValueError(f"the retention period must be at least 1 day, not {retention_days}")
    return now - timedelta(days=retention_days)


def count_expired(session: Session, step: PurgeStep, *, now: datetime, retention_days: int) -> int:
    """How many rows the step would purge now."""
    expired = step.expired(cutoff(now=now, retention_days=retention_days))
    return session.scalar(select(func.count(step.id)).where(expired)) or 0


def purge_step(session: Session, step: PurgeStep, *, now: datetime, retention_days: int) -> int:
    """Purge the step's rows past retention, batch by batch, and audit it; flush only; the count."""
    before = cutoff(now=now, retention_days=retention_days)
    expired = step.expired(before)
    purged, last_id = 0, 0
    while ids := list(
        session.scalars(
            select(step.id).where(expired, step.id > last_id).order_by(step.id).limit(BATCH_SIZE)
        )
    ):
        last_id = ids[-1]
        purged += step.purge(session, ids, cutoff=before, now=now)
    record_change(
        session=session,
        actor=None,
        action=step.action,
        entity_type=step.entity_type,
        entity_id=step.entity_id,
        after={"purged": purged, "cutoff": before.isoformat(), "retention_days": retention_days},
    )
    return purged


def run_purge(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    dry_run: bool = False,
    steps: Sequence[PurgeStep] | None = None,
) -> list[PurgeReport]:
    """Run every step (or count what each would purge), each committed on its own; the reports.

    The session is the run's own: a step's commit or rollback takes whatever else it holds.
    """
    reports = []
    for step in PURGE_STEPS if steps is None else steps:
        days = step.retention_days(settings)
        before = cutoff(now=now, retention_days=days)
        try:
            if dry_run:
                count = count_expired(session, step, now=now, retention_days=days)
            else:
                count = purge_step(session, step, now=now, retention_days=days)
                session.commit()
        except Exception:
            session.rollback()
            log.exception("the purge of %s failed; nothing of it was purged", step.what)
            reports.append(PurgeReport(step.what, 0, before, failed=True))
            continue
        if not dry_run:
            log.info("purged %d %s created before %s", count, step.what, before)
        reports.append(PurgeReport(step.what, count, before))
    return reports


def _purge_once(make_session: sessionmaker[Session], settings: Settings) -> None:
    with make_session() as session:
        run_purge(session, settings=settings, now=utcnow())


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
