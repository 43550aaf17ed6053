"""HTML views for supervisors: the live board (agents and queue) and the call-cost report."""

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.calls.agents import list_agents
from hotline.calls.models import AgentState, Call
from hotline.calls.queue import list_waiting_calls, waited_seconds
from hotline.db import TransactionRoute, request_session, utcnow
from hotline.kit.dates import COPENHAGEN
from hotline.reports.filters import MAX_CODES
from hotline.web.report_job_views import recent_jobs
from hotline.web.report_views import report_context
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
supervisor_user = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN)


@router.get("/supervisor")
def supervisor_page(
    request: Request,
    start: str | None = Query(None, alias="from", max_length=10),
    end: str | None = Query(None, alias="to", max_length=10),
    municipality: list[str] = Query(default_factory=list, max_length=MAX_CODES),
    region: str | None = Query(None, max_length=4),
    session: Session = request_session,
    user: User = Depends(supervisor_user),
):
    """The live board and the cost report of a period (default: the last complete month)."""
    report, error = report_context(session, start, end, municipality, region)
    return render(
        request,
        "supervisor/page.html",
        status_code=422 if error else 200,
        user=user,
        nav="reports",
        **report,
        report_jobs=recent_jobs(request, user),
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
