"""HTML views of the monthly insight: the municipalities to choose from, and one's month."""

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user, require_roles
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute, request_session
from hotline.insight.api import chosen_month, readable_insight
from hotline.insight.report import change_lines, insight_charts, month_text
from hotline.kit.numbers import danish_number, pct, signed
from hotline.municipalities.service import list_participating
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
readers = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN, Role.MUNICIPALITY_ADMIN)
CODE = Path(pattern=r"^\d{4}$")
MONTH = Query(None, max_length=20)


@router.get("/insight")
def insight_index(
    request: Request,
    month: str | None = MONTH,
    session: Session = request_session,
    user: User = Depends(readers),
):
    """The municipalities whose insight the user may read: all participating, or their own."""
    chosen = chosen_month(month)
    if user.role == Role.MUNICIPALITY_ADMIN:
        municipalities = sorted(user.municipalities, key=lambda m: m.name)
    else:
        municipalities = list_participating(session=session)
    return render(
        request,
        "insight/index.html",
        user=user,
        nav="insight",
        municipalities=municipalities,
        month=f"{chosen:%Y-%m}",
        month_name=month_text(chosen),
    )


@router.get("/insight/{code}")
def insight_page(
    request: Request,
    code: str = CODE,
    month: str | None = MONTH,
    session: Session = request_session,
    user: User = Depends(current_user),
):
    """One municipality's insight for ?month=YYYY-MM (default: last month), and its PDF."""
    _, insight = readable_insight(session, user, code, month)
    chosen = insight.month
    return render(
        request,
        "insight/page.html",
        user=user,
        nav="insight",
        insight=insight,
        month=f"{chosen:%Y-%m}",
        month_name=month_text(chosen),
        previous_name=month_text(insight.previous_month),
        changes=change_lines(insight),
        charts=insight_charts(insight),
        pdf_url=f"/api/insight/{code}/report.pdf?month={chosen:%Y-%m}",
        number=danish_number,
        pct=pct,
        signed=signed,
    )
