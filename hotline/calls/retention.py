"""Call retention: after the retention period a call keeps its facts, not the caller.

A call ended (or, never ended, offered) more than HOTLINE_CALL_RETENTION_DAYS ago loses the
caller's number and the agent's notes; its CTI events keep only fields that say nothing about the
caller. A callback loses the caller's name, number, question and the handling note once it has
been handled that long ago; an open callback is kept until it is handled, however old, because the
municipality still has to call back. Everything the reports read stays: times, state, municipality,
contact reason, outcome, avoidable and its URL, so the roll-ups are untouched.

Both steps are set-based UPDATEs in batches of ids (keyset: each batch starts after the last id of
the one before), so millions of calls are one pass over the table, never loaded as objects.
"""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.calls.models import Call, Callback, CallbackStatus, CtiEvent, MailStatus
from hotline.config import Settings
from hotline.letters.retention import PurgeReport

BATCH_SIZE = 1000
# What a stripped CTI event keeps: the event, the call's id and these (nothing about the caller).
KEPT_CTI_FIELDS = ("direction", "cause")
# A callback whose e-mail to the municipality is still on its way keeps what the e-mail needs.
MAIL_PENDING = (MailStatus.QUEUED, MailStatus.SENDING)


def call_cutoff(*, now: datetime, retention_days: int) -> datetime:
    """Calls that ended (callbacks handled) before this moment are past the retention period."""
    if retention_days < 1:
        raise ValueError(f"the retention period must be at least 1 day, not {retention_days}")
    return now - timedelta(days=retention_days)


def _expired_call(cutoff: datetime) -> ColumnElement[bool]:
    personal = or_(
        Call.from_number.is_not(None),
        Call.notes != "",
        and_(Call.direction == "out", Call.to_number.is_not(None)),  # the citizen was called
    )
    # offered_at <= ended_at: the first condition lets the offered_at index narrow the scan.
    return and_(
        Call.offered_at < cutoff, func.coalesce(Call.ended_at, Call.offered_at) < cutoff, personal
    )


def _expired_callback(cutoff: datetime) -> ColumnElement[bool]:
    personal = or_(
        Callback.caller_name != "",
        Callback.caller_phone != "",
        Callback.question != "",
        Callback.handled_note != "",
    )
    return and_(
        Callback.status == CallbackStatus.DONE,
        Callback.handled_at < cutoff,
        Callback.mail_status.not_in(MAIL_PENDING),
        personal,
    )


def count_expired_calls(session: Session, *, now: datetime, retention_days: int) -> int:
    """How many calls an anonymisation would change now."""
    cutoff = call_cutoff(now=now, retention_days=retention_days)
    return session.scalar(select(func.count()).select_from(Call).where(_expired_call(cutoff)))


def count_expired_callbacks(session: Session, *, now: datetime, retention_days: int) -> int:
    """How many handled callbacks an anonymisation would change now."""
    cutoff = call_cutoff(now=now, retention_days=retention_days)
    query = select(func.count()).select_from(Callback).where(_expired_callback(cutoff))
    return session.scalar(query)


def anonymise_calls(session: Session, *, now: datetime, retention_days: int) -> int:
    """Remove caller numbers, notes and CTI caller data past retention; flush only; the count."""
    cutoff = call_cutoff(now=now, retention_days=retention_days)
    stripped = _stripped_payload(session.get_bind().dialect.name)
    done, last_id = 0, 0
    while ids := _next_batch(session, Call.id, _expired_call(cutoff), last_id):
        last_id = ids[-1]
        events_of_batch = select(Call.cti_call_id).where(Call.id.in_(ids))
        session.execute(
            update(CtiEvent)
            .where(CtiEvent.cti_call_id.in_(events_of_batch))
            .values(payload=stripped)
            .execution_options(synchronize_session=False)
        )
        # Core UPDATEs of non-report columns: the roll-up's flush listener never sees them, and
        # needs not. The condition is repeated so that a call changed since the SELECT is judged
        # on what it is now.
        result = session.execute(
            update(Call)
            .where(Call.id.in_(ids), _expired_call(cutoff))
            .values(
                from_number=None,
                notes="",
                to_number=case((Call.direction == "out", None), else_=Call.to_number),
            )
            .execution_options(synchronize_session="fetch")
        )
        done += result.rowcount
    _audit(session, "calls.purge", "calls", done, cutoff, retention_days)
    return done


def anonymise_callbacks(session: Session, *, now: datetime, retention_days: int) -> int:
    """Remove the caller's details from callbacks handled before the cut-off; flush only."""
    cutoff = call_cutoff(now=now, retention_days=retention_days)
    done, last_id = 0, 0
    while ids := _next_batch(session, Callback.id, _expired_callback(cutoff), last_id):
        last_id = ids[-1]
        result = session.execute(
            update(Callback)
            .where(Callback.id.in_(ids), _expired_callback(cutoff))
            .values(caller_name="", caller_phone="", question="", handled_note="")
            .execution_options(synchronize_session="fetch")
        )
        done += result.rowcount
    _audit(session, "callbacks.purge", "callbacks", done, cutoff, retention_days)
    return done


def calls_step(
    session: Session, *, settings: Settings, now: datetime, dry_run: bool
) -> PurgeReport:
    """The purge step of calls (see letters/retention.py: purge_steps)."""
    days = settings.call_retention_days
    if dry_run:
        count = count_expired_calls(session, now=now, retention_days=days)
    else:
        count = anonymise_calls(session, now=now, retention_days=days)
    return PurgeReport("calls", count, call_cutoff(now=now, retention_days=days))


def callbacks_step(
    session: Session, *, settings: Settings, now: datetime, dry_run: bool
) -> PurgeReport:
    """The purge step of handled callbacks."""
    days = settings.call_retention_days
    if dry_run:
        count = count_expired_callbacks(session, now=now, retention_days=days)
    else:
        count = anonymise_callbacks(session, now=now, retention_days=days)
    return PurgeReport("callbacks", count, call_cutoff(now=now, retention_days=days))


def _next_batch(session: Session, id_column, condition, last_id: int) -> list[int]:
    query = select(id_column).where(condition, id_column > last_id).order_by(id_column)
    return list(session.scalars(query.limit(BATCH_SIZE)))


def _stripped_payload(dialect: str) -> ColumnElement:
    """A CTI event's payload rebuilt from the event, the call id and KEPT_CTI_FIELDS, in SQL."""
    parts = [literal_column("'event'"), CtiEvent.event]
    parts += [literal_column("'callId'"), CtiEvent.cti_call_id]
    for name in KEPT_CTI_FIELDS:
        parts += [literal_column(f"'{name}'"), CtiEvent.payload[name].as_string()]
    build = func.json_build_object if dialect == "postgresql" else func.json_object
    return build(*parts)


def _audit(session, action, what, count, cutoff, retention_days) -> None:
    record_change(
        session=session,
        actor=None,
        action=action,
        entity_type=what,
        entity_id=what,
        after={"purged": count, "cutoff": cutoff.isoformat(), "retention_days": retention_days},
    )
