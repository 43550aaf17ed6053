"""HTML views for supervisors: the live board (agents and queue) and the call-cost report."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.calls.agents import list_agents
from hotline.calls.models import AgentState, Call
from hotline.calls.queue import list_waiting_calls, waited_seconds
from hotline.db import request_session, utcnow
from hotline.i18n import t
from hotline.kit.dates import COPENHAGEN
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
    """The live board and the cost report of a period (default: the current month)."""
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
        report=report,
        error=error,
        start=start,
        end=end,
        csv_url="/api/reports/cost.csv?" + urlencode({"from": start, "to": end}),
        money=danish_decimal,
        **board_context(session),
    )


@router.get("/supervisor/board")
def board(request: Request, session: Session = request_session, user=Depends(supervisor_user)):
    """The board alone (the page's live stream sends the same fragment)."""
    return render(request, "supervisor/_board.html", **board_context(session))


def board_context(session: Session, waiting: list[tuple[Call, int]] | None = None) -> dict:
    """The board: agents and their calls, the waiting calls (given or read) and the longest wait."""
    now = utcnow()
    agents = list_agents(session=session)
    if waiting is None:
        waiting = [
            (c, waited_seconds(c.offered_at, now)) for c in list_waiting_calls(session=session)
        ]
    return {
        "agents": agents,
        "counts": {state: sum(a.state == state for a in agents) for state in AgentState},
        "waiting": waiting,
        "longest_wait": waiting[0] if waiting else None,
        "now": now,
        "time_of_day": lambda moment: f"{moment.astimezone(COPENHAGEN):%H.%M}",
    }
