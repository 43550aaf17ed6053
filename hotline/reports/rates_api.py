"""JSON API of the reports domain: the cost model's effective-dated rates."""

from typing import Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.reports import rates
from hotline.reports.models import CostRate
from hotline.reports.schemas import CostRateIn

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["reports"])
editors = require_roles(*rates.EDITING_ROLES)


@router.get("/reports/cost-rates")
def list_cost_rates(
    session: Session = request_session, user: User = Depends(editors)
) -> list[dict[str, Any]]:
    """Every rate, newest first, each with its status: in_force, past or future."""
    found = rates.list_rates(session=session)
    statuses = rates.rate_statuses(found)
    return [_out(rate, statuses[rate.id]) for rate in found]


@router.post("/reports/cost-rates", status_code=201)
def create_cost_rate(
    body: CostRateIn, session: Session = request_session, user: User = Depends(editors)
) -> dict[str, Any]:
    """Add a rate from the 1st of a future month (a month already begun keeps its rate)."""
    rate = rates.create_rate(session=session, user=user, data=body)
    return _out(rate, "future")


@router.get("/reports/cost-rates/{rate_id}")
def get_cost_rate(
    rate_id: int, session: Session = request_session, user: User = Depends(editors)
) -> dict[str, Any]:
    """One rate with its status."""
    rate = rates.get_rate(session=session, rate_id=rate_id)
    return _out(rate, rates.rate_statuses(rates.list_rates(session=session))[rate.id])


@router.put("/reports/cost-rates/{rate_id}")
def update_cost_rate(
    rate_id: int,
    body: CostRateIn,
    session: Session = request_session,
    user: User = Depends(editors),
) -> dict[str, Any]:
    """Replace a future rate's figures and/or date; a rate in force or past answers 409."""
    rate = rates.update_rate(session=session, user=user, rate_id=rate_id, data=body)
    return _out(rate, "future")


@router.delete("/reports/cost-rates/{rate_id}", status_code=204)
def delete_cost_rate(rate_id: int, session: Session = request_session, user=Depends(editors)):
    """Delete a future rate; a rate in force or past answers 409."""
    rates.delete_rate(session=session, user=user, rate_id=rate_id)
    return Response(status_code=204)


def _out(rate: CostRate, status: str) -> dict[str, Any]:
    return {
        **rates.snapshot(rate),
        "status": status,
        "locked": status != "future",
        "created_by_id": rate.created_by_id,
        "created_at": rate.created_at.isoformat() if rate.created_at else None,
    }
