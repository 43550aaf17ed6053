"""JSON API of the insight domain: a municipality's monthly insight report as PDF."""

import re
from datetime import date, datetime

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute, request_session
from hotline.insight.monthly import InsightMonth, insight_month, previous_month
from hotline.insight.report import insight_filename, insight_pdf, municipality_letterhead
from hotline.kit.dates import COPENHAGEN
from hotline.kit.errors import InvalidInput, PermissionDenied
from hotline.municipalities.models import Municipality
from hotline.municipalities.service import get_municipality
from hotline.reports.api import download_response

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["insight"])
CODE = Path(pattern=r"^\d{4}$")
MONTH = Query(None, max_length=20, description="YYYY-MM (default: last month)")
MONTH_SHAPE = re.compile(r"^\d{4}-\d{2}$")
READERS = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)


def chosen_month(text: str | None, *, now: datetime | None = None) -> date:
    """The month of ?month=YYYY-MM (default: last month); 422 for nonsense or a future month."""
    this_month = (now or datetime.now(COPENHAGEN)).astimezone(COPENHAGEN).date().replace(day=1)
    if not text:
        return previous_month(this_month)
    try:
        if not MONTH_SHAPE.match(text):
            raise ValueError(text)
        month = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise InvalidInput("insight.bad_month", month=text[:20]) from None
    if month > this_month:
        raise InvalidInput("insight.future_month", month=text)
    return month


def may_read_insight(user: User, code: str) -> bool:
    """Supervisors and system admins read every municipality's insight; its own admins read it."""
    if user.role in READERS:
        return True
    return user.role == Role.MUNICIPALITY_ADMIN and code in user.municipality_codes


def readable_insight(
    session: Session, user: User, code: str, month: str | None
) -> tuple[Municipality, InsightMonth]:
    """The municipality and its insight of ?month= (last month); PermissionDenied for others."""
    if not may_read_insight(user, code):
        raise PermissionDenied("error.permission_denied")
    chosen = chosen_month(month)
    municipality = get_municipality(session=session, code=code)
    return municipality, insight_month(session, municipality, chosen)


@router.get("/insight/{code}/report.pdf")
def insight_report_pdf(
    request: Request,
    code: str = CODE,
    month: str | None = MONTH,
    session: Session = request_session,
    user: User = Depends(current_user),
):
    """The municipality's insight report for ?month=YYYY-MM (default: last month)."""
    municipality, insight = readable_insight(session, user, code, month)
    letterhead = municipality_letterhead(municipality, request.app.state.settings.letterheads_dir)
    pdf = insight_pdf(insight, letterhead)
    return download_response(
        pdf, "application/pdf", insight_filename(code, municipality.name, insight.month)
    )
