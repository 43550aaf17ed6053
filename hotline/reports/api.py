"""JSON API of the reports domain: the call-cost report as CSV."""

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.db import request_session
from hotline.reports.export import cost_report_csv, cost_report_filename
from hotline.reports.service import cost_report, parse_period

router = APIRouter(prefix="/api", tags=["reports"])
report_readers = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN)


@router.get("/reports/cost.csv")
def cost_csv(
    start: str = Query(alias="from", max_length=10),
    end: str = Query(alias="to", max_length=10),
    session: Session = request_session,
    user: User = Depends(report_readers),
):
    """The call-cost report of a period (Danish local dates, both inclusive) as CSV."""
    first, last = parse_period(start, end)
    report = cost_report(session=session, start=first, end=last)
    return Response(
        cost_report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{cost_report_filename(report)}"',
            "Cache-Control": "no-store",
        },
    )
