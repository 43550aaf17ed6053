"""The calls behind a report row, one page at a time, without personal data."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from hotline.calls.models import Call, CallState, ContactReason, seconds_between
from hotline.kit.cpr import mask_cpr
from hotline.reports.facts import UNANSWERED_STATES
from hotline.reports.filters import BILLED_CODE, ReportFilters, calls_of

PAGE_SIZE = 100


@dataclass(frozen=True)
class CallLine:
    """One call as the report sees it: no caller number, no notes, no agent."""

    id: int
    reference: str
    offered_at: datetime
    state: str
    code: str
    wait: int | None
    talk: int | None
    after_call: int | None
    reason: str | None
    outcome: str | None
    avoidable: bool
    avoidable_url: str | None


def call_lines(
    *, session: Session, filters: ReportFilters, after: tuple[datetime, int] | None = None
) -> tuple[list[CallLine], tuple[datetime, int] | None]:
    """A page of calls after the given (offered_at, id) and the key of the next page, if any."""
    query = select(
        Call.id,
        Call.reference,
        Call.offered_at,
        Call.state,
        func.coalesce(BILLED_CODE, ""),
        Call.answered_at,
        Call.ended_at,
        Call.wrapped_up_at,
        ContactReason.label,
        Call.outcome,
        Call.avoidable,
        Call.avoidable_url,
    )
    query = query.where(calls_of(filters)).outerjoin(
        ContactReason, ContactReason.code == Call.contact_reason_code
    )
    if after is not None:
        offered, call_id = after
        query = query.where(
            or_(Call.offered_at > offered, and_(Call.offered_at == offered, Call.id > call_id))
        )
    rows = session.execute(query.order_by(Call.offered_at, Call.id).limit(PAGE_SIZE + 1)).all()
    lines = [_line(*row) for row in rows[:PAGE_SIZE]]
    more = len(rows) > PAGE_SIZE
    return lines, ((lines[-1].offered_at, lines[-1].id) if more else None)


def _line(call_id, reference, offered, state, code, answered, ended, wrapped, *rest) -> CallLine:
    # As the report counts it: only a call an agent answered has a wait, after-call work and an
    # avoidable page; an outgoing call keeps its talk time, the other unanswered states have none.
    talk = seconds_between(answered, ended) if state == CallState.OUTGOING else None
    if state in UNANSWERED_STATES:
        answered = ended = wrapped = None
    else:
        talk = seconds_between(answered, ended)
    reason, outcome, avoidable, avoidable_url = rest
    avoidable = bool(avoidable) and answered is not None
    return CallLine(
        id=call_id,
        reference=reference,
        offered_at=offered,
        state=state,
        code=code,
        wait=seconds_between(offered, answered),
        talk=talk,
        after_call=seconds_between(ended, wrapped),
        reason=reason,
        outcome=outcome,
        avoidable=avoidable,
        # The URL is free text: a CPR number in it is never shown.
        avoidable_url=mask_cpr(avoidable_url) if avoidable_url and avoidable else None,
    )
