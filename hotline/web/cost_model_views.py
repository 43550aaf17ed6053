"""HTML views for supervisors: the cost model's rates."""

from datetime import date
from decimal import Decimal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidInput
from hotline.reports import rates
from hotline.reports.models import ALLOCATION_METHODS, CostRate
from hotline.reports.schemas import parse_rate
from hotline.web.templating import render

router = APIRouter(
    route_class=TransactionRoute, prefix="/supervisor/cost-model", include_in_schema=False
)
editor = require_roles(*rates.EDITING_ROLES)
PAGE = "/supervisor/cost-model"
DONE = r"^(created|updated|deleted)$"
FIELDS = (
    "effective_from",
    "agent_cost_per_hour",
    "telephony_per_minute",
    "platform_monthly",
    "fixed_allocation",
    "baseline_cost_per_call",
    "base_share_pct",
)


def rate_form(
    effective_from: str = Form("", max_length=40),
    agent_cost_per_hour: str = Form("", max_length=40),
    telephony_per_minute: str = Form("", max_length=40),
    platform_monthly: str = Form("", max_length=40),
    fixed_allocation: str = Form("", max_length=40),
    baseline_cost_per_call: str = Form("", max_length=40),
    base_share_pct: str = Form("", max_length=40),
) -> dict[str, str]:
    """The rate form's fields as typed (kept to show them again on an error)."""
    typed = (
        effective_from,
        agent_cost_per_hour,
        telephony_per_minute,
        platform_monthly,
        fixed_allocation,
        baseline_cost_per_call,
        base_share_pct,
    )
    return {name: value.strip() for name, value in zip(FIELDS, typed, strict=True)}


@router.get("")
def cost_model_page(
    request: Request,
    done: str | None = Query(None, pattern=DONE),
    edit: int | None = Query(None),
    session: Session = request_session,
    user: User = Depends(editor),
):
    """The rates (in force, past, future), a form for a new rate, and one to edit a future rate."""
    return _render(request, session, user, done=done, edit=edit)


@router.post("")
def create_rate(
    request: Request,
    form: dict[str, str] = Depends(rate_form),
    session: Session = request_session,
    user: User = Depends(editor),
):
    """Add a future rate; invalid input re-renders the page with the form kept."""
    try:
        data = parse_rate(form)
        rates.create_rate(session=session, user=user, data=data)
    except (InvalidInput, Conflict) as exc:
        return _render(request, session, user, error=exc, new_form=form)
    return RedirectResponse(f"{PAGE}?done=created", status_code=303)


@router.post("/{rate_id}")
def update_rate(
    request: Request,
    rate_id: int,
    form: dict[str, str] = Depends(rate_form),
    session: Session = request_session,
    user: User = Depends(editor),
):
    """Change a future rate; a rate in force is locked (409), bad input re-renders (422)."""
    rates.get_rate(session=session, rate_id=rate_id)  # unknown: 404
    try:
        data = parse_rate(form)
        rates.update_rate(session=session, user=user, rate_id=rate_id, data=data)
    except (InvalidInput, Conflict) as exc:
        return _render(request, session, user, error=exc, edit=rate_id, edit_form=form)
    return RedirectResponse(f"{PAGE}?done=updated", status_code=303)


@router.post("/{rate_id}/delete")
def delete_rate(
    request: Request, rate_id: int, session: Session = request_session, user=Depends(editor)
):
    """Delete a future rate; a rate in force is locked (409)."""
    try:
        rates.delete_rate(session=session, user=user, rate_id=rate_id)
    except Conflict as exc:
        return _render(request, session, user, error=exc)
    return RedirectResponse(f"{PAGE}?done=deleted", status_code=303)


def danish_amount(value: Decimal) -> str:
    """An amount with a decimal comma, two decimals or up to four if used: "450,50", "0,1250"."""
    whole, _, fraction = f"{value:.4f}".rstrip("0").partition(".")
    return f"{whole},{fraction.ljust(2, '0')}"


def _rate_form(rate: CostRate | dict, effective_from: date | None = None) -> dict[str, str]:
    """A rate's figures as the form shows them (Danish decimal comma)."""
    values = rate if isinstance(rate, dict) else {name: getattr(rate, name) for name in FIELDS}
    form = {name: danish_amount(values[name]) for name in FIELDS[1:] if name != "fixed_allocation"}
    form["fixed_allocation"] = values["fixed_allocation"]
    form["effective_from"] = (effective_from or values["effective_from"]).isoformat()
    return form


def _next_free_start(found: list[CostRate], today: date) -> date:
    """The 1st of the month after today, or after the newest future rate."""
    latest = max([today, *(r.effective_from for r in found)])
    return date(latest.year + latest.month // 12, latest.month % 12 + 1, 1)


def _render(
    request: Request,
    session: Session,
    user: User,
    *,
    done: str | None = None,
    error: InvalidInput | Conflict | None = None,
    new_form: dict[str, str] | None = None,
    edit: int | None = None,
    edit_form: dict[str, str] | None = None,
):
    today = rates.danish_today()
    found = rates.list_rates(session=session)
    statuses = rates.rate_statuses(found, today)
    if new_form is None:
        start = _next_free_start(found, today)
        new_form = _rate_form(found[0] if found else rates.DEFAULT_RATE, start)
    editing = next((r for r in found if r.id == edit and statuses[r.id] == "future"), None)
    if editing is not None and edit_form is None:
        edit_form = _rate_form(editing)
    return render(
        request,
        "supervisor/cost_model.html",
        status_code=error.status_code if error else 200,
        user=user,
        nav="reports",
        rates=found,
        statuses=statuses,
        done=done,
        error=t(error.key, **error.params) if error else None,
        new_form=new_form,
        editing=editing,
        edit_form=edit_form,
        allocations=ALLOCATION_METHODS,
        earliest=_next_free_start([], today).isoformat(),
    )
