"""JSON: the satisfaction results per municipality, contact reason and month."""

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute, request_session
from hotline.insight import survey_results
from hotline.reports.filters import MAX_CODES, checked_filters

router = APIRouter(route_class=TransactionRoute, prefix="/api/survey", tags=["survey"])
result_reader = require_roles(*survey_results.ALL_MUNICIPALITIES, Role.MUNICIPALITY_ADMIN)


@router.get("/results")
def results(
    start: str = Query(alias="from", max_length=10),
    end: str = Query(alias="to", max_length=10),
    municipality: list[str] = Query(default_factory=list, max_length=MAX_CODES),
    session: Session = request_session,
    user: User = Depends(result_reader),
) -> dict:
    """The survey answers given from..to (Danish dates), grouped three ways.

    Supervisors and system admins see every municipality; a municipality admin only their own
    (all of them when none is asked for; asking for another is refused).
    """
    filters = checked_filters(start, end, municipality)
    scope = survey_results.readable_municipalities(user, filters.municipalities)
    report = survey_results.survey_results(
        session=session, start=filters.start, end=filters.end, municipalities=scope
    )
    return report.as_json()
