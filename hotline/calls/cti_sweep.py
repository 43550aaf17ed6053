"""Closing what the phone system went silent about: lost calls and held events never claimed."""

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.audit.service import record_change
from hotline.calls.events import mark_calls_changed
from hotline.calls.models import Call, CallState, CtiEvent
from hotline.config import Settings
from hotline.db import lock_for_write, utcnow
from hotline.kit.periodic import run_every

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 60
LOST = "lost"


def close_silent_calls(
    *, session: Session, silent_after: timedelta, now: datetime | None = None
) -> list[Call]:
    """Close as lost ("forbindelse tabt") every call that has waited silently this long; audited.

    The sweep takes the write lock first, so a claim or CTI event on the same call either came
    before (the call is no longer waiting) or waits for it (and finds it closed).
    """
    now = now or utcnow()
    lock_for_write(session, "calls:sweep")
    calls = list(
        session.scalars(
            select(Call)
            .where(Call.state == CallState.WAITING, Call.offered_at < now - silent_after)
            .order_by(Call.id)
            .with_for_update(of=Call)
        )
    )
    for call in calls:
        call.state, call.ended_at, call.end_cause = CallState.LOST, now, LOST
        record_change(
            session=session,
            actor=None,
            action="call.lost",
            entity_type="call",
            entity_id=call.reference,
            municipality_code=call.line_municipality_code,
            before={"state": CallState.WAITING.value},
            after={"state": CallState.LOST.value, "silent_minutes": _minutes(silent_after)},
        )
    if calls:
        session.flush()
        mark_calls_changed(session)
    return calls


def drop_expired_held_events(
    *, session: Session, hold: timedelta, now: datetime | None = None
) -> int:
    """Forget answers and hangups whose newCall never came within the hold window."""
    cutoff = (now or utcnow()) - hold
    result = session.execute(
        delete(CtiEvent).where(CtiEvent.held.is_(True), CtiEvent.received_at < cutoff)
    )
    return result.rowcount


def sweep(*, session: Session, settings: Settings, now: datetime | None = None) -> tuple[int, int]:
    """One sweep: (calls closed as lost, held events dropped)."""
    silent_after = timedelta(minutes=settings.cti_silent_call_minutes)
    lost = close_silent_calls(session=session, silent_after=silent_after, now=now)
    hold = timedelta(seconds=settings.cti_hold_seconds)
    return len(lost), drop_expired_held_events(session=session, hold=hold, now=now)


async def run_cti_sweep_worker(make_session: sessionmaker[Session], settings: Settings) -> None:
    """Sweep every SWEEP_INTERVAL_S until cancelled."""

    def once() -> None:
        with make_session() as session:
            lost, dropped = sweep(session=session, settings=settings)
            session.commit()
        if lost or dropped:
            log.warning(
                "CTI silence: %d waiting calls closed as lost, %d held events dropped",
                lost,
                dropped,
            )

    await run_every(SWEEP_INTERVAL_S, once, what="the CTI sweep")


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
