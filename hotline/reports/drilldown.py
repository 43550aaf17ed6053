"""The calls behind a report row, one page at a time, without personal data."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from hotline.calls.models import Call, ContactReason, seconds_between
from hotline.municipalities.models import Municipality
from hotline.reports.filters import ReportFilters
from hotline.reports.period import utc_midnight

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


def billed_code():
    """The billed municipality of a call: the one chosen, else the line's ("" when neither)."""
    return func.coalesce(Call.municipality_code, Call.line_municipality_code, "")


def filtered_calls_query(filters: ReportFilters, *columns):
    """A select of the given columns for the calls the filters cover, in offered order."""
    code = billed_code()
    query = select(*columns).where(
        Call.offered_at >= utc_midnight(filters.start),
        Call.offered_at < utc_midnight(filters.end + timedelta(days=1)),
    )
    if filters.municipalities:
        query = query.where(code.in_(filters.municipalities))
    if filters.region:
        in_region = select(Municipality.code).where(Municipality.region_code == filters.region)
        query = query.where(code.in_(in_region.scalar_subquery()))
    return query


def call_lines(
    *, session: Session, filters: ReportFilters, after: tuple[datetime, int] | None = None
) -> tuple[list[CallLine], tuple[datetime, int] | None]:
    """A page of calls after the given (offered_at, id) and the key of the next page, if any."""
    query = filtered_calls_query(
        filters,
        Call.id,
        Call.reference,
        Call.offered_at,
        Call.state,
        billed_code(),
        Call.answered_at,
        Call.ended_at,
        Call.wrapped_up_at,
        ContactReason.label,
        Call.outcome,
        Call.avoidable,
        Call.avoidable_url,
    ).outerjoin(ContactReason, ContactReason.code == Call.contact_reason_code)
    if after is not None:
        offered, call_id = after
        query = query.where(
            or_(Call.offered_at > offered, and_(Call.offered_at == offered, Call.id > call_id))
        )
    rows = session.execute(query.order_by(Call.offered_at, Call.id).limit(PAGE_SIZE + 1)).all()
    lines = [
        CallLine(
            id=row[0],
            reference=row[1],
            offered_at=row[2],
            state=row[3],
            code=row[4],
            wait=seconds_between(row[2], row[5]),
            talk=seconds_between(row[5], row[6]),
            after_call=seconds_between(row[6], row[7]),
            reason=row[8],
            outcome=row[9],
            avoidable=bool(row[10]),
            avoidable_url=row[11],
        )
        for row in rows[:PAGE_SIZE]
    ]
    more = len(rows) > PAGE_SIZE
    return lines, ((lines[-1].offered_at, lines[-1].id) if more else None)
