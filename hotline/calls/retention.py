"""Call retention: after the retention period a call keeps its facts, not the caller.

A call ended (or, never ended, offered) more than HOTLINE_CALL_RETENTION_DAYS ago loses the
caller's number and the agent's notes; its CTI events keep only fields that say nothing about the
caller. A callback loses the caller's name, number, question and the handling note once it has
been handled that long ago; an open callback is kept until it is handled, however old, because the
municipality still has to call back. Everything the reports read stays: times, state, municipality,
contact reason, outcome, avoidable and its URL, so the roll-ups are untouched.

Both steps are set-based UPDATEs of the batches of ids that hotline/privacy/retention.py chooses,
so millions of calls are one pass over the table, never loaded as objects.
"""

from datetime import datetime
from operator import attrgetter

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from hotline.calls.models import Call, Callback, CallbackStatus, CtiEvent, MailStatus
from hotline.privacy.purge_step import PurgeStep

# What a stripped CTI event keeps: the event, the call's id and these (nothing about the caller).
KEPT_CTI_FIELDS = ("direction", "cause")
# A callback whose e-mail to the municipality is still on its way keeps what the e-mail needs.
MAIL_PENDING = (MailStatus.QUEUED, MailStatus.SENDING)


def expired_call(cutoff: datetime) -> ColumnElement[bool]:
    """Calls that ended (or, never ended, were offered) before the cut-off and name the caller."""
    personal = or_(
        Call.from_number.is_not(None),
        Call.notes != "",
        and_(Call.direction == "out", Call.to_number.is_not(None)),  # the citizen was called
    )
    # offered_at <= ended_at: the first condition lets the offered_at index narrow the scan.
    return and_(
        Call.offered_at < cutoff, func.coalesce(Call.ended_at, Call.offered_at) < cutoff, personal
    )


def expired_callback(cutoff: datetime) -> ColumnElement[bool]:
    """Callbacks handled before the cut-off, their e-mail gone, that still name the caller."""
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


def anonymise_calls(session: Session, ids: list[int], *, cutoff: datetime, now: datetime) -> int:
    """Remove the caller's number, the notes and the CTI caller data of these calls; flush only."""
    stripped = _stripped_payload(session.get_bind().dialect.name)
    events_of_batch = select(Call.cti_call_id).where(Call.id.in_(ids))
    session.execute(
        update(CtiEvent)
        .where(CtiEvent.cti_call_id.in_(events_of_batch))
        .values(payload=stripped)
        .execution_options(synchronize_session=False)
    )
    # Core UPDATEs of non-report columns: the roll-up's flush listener never sees them, and needs
    # not. The condition is repeated so that a call changed since it was chosen is judged on what
    # it is now.
    result = session.execute(
        update(Call)
        .where(Call.id.in_(ids), expired_call(cutoff))
        .values(
            from_number=None,
            notes="",
            to_number=case((Call.direction == "out", None), else_=Call.to_number),
        )
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def anonymise_callbacks(
    session: Session, ids: list[int], *, cutoff: datetime, now: datetime
) -> int:
    """Remove the caller's details from these handled callbacks if still expired; flush only."""
    result = session.execute(
        update(Callback)
        .where(Callback.id.in_(ids), expired_callback(cutoff))
        .values(caller_name="", caller_phone="", question="", handled_note="")
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def _stripped_payload(dialect: str) -> ColumnElement:
    """A CTI event's payload rebuilt from the event, the call id and KEPT_CTI_FIELDS, in SQL."""
    parts = [literal_column("'event'"), CtiEvent.event]
    parts += [literal_column("'callId'"), CtiEvent.cti_call_id]
    for name in KEPT_CTI_FIELDS:
        parts += [literal_column(f"'{name}'"), CtiEvent.payload[name].as_string()]
    build = func.json_build_object if dialect == "postgresql" else func.json_object
    return build(*parts)


CALLS_PURGE = PurgeStep(
    what="calls",
    action="calls.purge",
    entity_type="calls",
    entity_id="calls",
    retention_days=attrgetter("call_retention_days"),
    id=Call.id,
    expired=expired_call,
    purge=anonymise_calls,
)
CALLBACKS_PURGE = PurgeStep(
    what="callbacks",
    action="callbacks.purge",
    entity_type="callbacks",
    entity_id="callbacks",
    retention_days=attrgetter("call_retention_days"),
    id=Callback.id,
    expired=expired_callback,
    purge=anonymise_callbacks,
)
PURGE_STEPS = (CALLS_PURGE, CALLBACKS_PURGE)
