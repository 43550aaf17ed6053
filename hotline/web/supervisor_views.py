"""HTML views for supervisors: the live queue and the call-cost report."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.calls.queue import queue_status
from hotline.db import request_session
from hotline.i18n import t
from hotline.kit.errors import InvalidInput
from hotline.reports.export import danish_decimal
from hotline.reports.service import cost_report, current_month, parse_period
from hotline.web.templating import render

router = APIRouter(include_in_schema=False)
supervisor_user = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN)


@router.get("/supervisor")
def supervisor_page(
    request: Request,
    start: str | None = Query(None, alias="from", max_length=10),
    end: str | None = Query(None, alias="to", max_length=10),
    session: Session = request_session,
    user: User = Depends(supervisor_user),
):
    """The live queue and the cost report of a period (default: the current month)."""
    default_start, default_end = current_month()
    start, end = start or default_start.isoformat(), end or default_end.isoformat()
    report, error = None, None
    try:
        first, last = parse_period(start, end)
        report = cost_report(session=session, start=first, end=last)
    except InvalidInput as exc:
        error = t(exc.key, **exc.params)
    return render(
        request,
        "supervisor/page.html",
        status_code=422 if error else 200,
        user=user,
        nav="reports",
        status=queue_status(session=session),
        report=report,
        error=error,
        start=start,
        end=end,
        csv_url="/api/reports/cost.csv?" + urlencode({"from": start, "to": end}),
        money=danish_decimal,
    )
