"""The cost model's rates: effective-dated, each in force from its date until the next one's."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.auth.models import Role, User
from hotline.auth.service import ensure_role
from hotline.kit.dates import COPENHAGEN, danish_date
from hotline.kit.errors import Conflict, InvalidInput, NotFound
from hotline.reports.models import CostRate
from hotline.reports.schemas import CostRateIn

EDITING_ROLES = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)
MAX_ID = 2**31 - 1

DEFAULT_RATE = {
    "effective_from": date(2020, 1, 1),
    "agent_cost_per_hour": Decimal("450.00"),
    "telephony_per_minute": Decimal("0.10"),
    "platform_monthly": Decimal("25000.00"),
    "fixed_allocation": "calls",
    "baseline_cost_per_call": Decimal("95.00"),
    "base_share_pct": Decimal("20.00"),
}


def ensure_default_cost_rate(*, session: Session) -> CostRate:
    """The rate effective 2020-01-01, created if missing."""
    rate = session.scalar(
        select(CostRate).where(CostRate.effective_from == DEFAULT_RATE["effective_from"])
    )
    if rate is None:
        rate = CostRate(**DEFAULT_RATE)
        session.add(rate)
        session.flush()
    return rate


def rate_on(rates: list[CostRate], day: date) -> CostRate | None:
    """The rate in force on the day (rates sorted by effective_from)."""
    current = None
    for rate in rates:
        if rate.effective_from <= day:
            current = rate
    return current


def danish_today() -> date:
    """Today's date in Denmark (rates change at Danish midnight)."""
    return datetime.now(COPENHAGEN).date()


def list_rates(*, session: Session) -> list[CostRate]:
    """Every rate, newest effective date first."""
    return list(session.scalars(select(CostRate).order_by(CostRate.effective_from.desc())))


def get_rate(*, session: Session, rate_id: int) -> CostRate:
    """One rate by its id."""
    # An id beyond the column's range is simply unknown (PostgreSQL would refuse the query).
    rate = session.get(CostRate, rate_id) if 0 < rate_id <= MAX_ID else None
    if rate is None:
        raise NotFound("cost_model.not_found", rate_id=rate_id)
    return rate


def rate_statuses(rates: list[CostRate], today: date | None = None) -> dict[int, str]:
    """Each rate's status by id: "in_force" (one at most), "past" or "future"."""
    today = today or danish_today()
    current = rate_on(sorted(rates, key=lambda r: r.effective_from), today)
    return {
        r.id: "in_force" if r is current else "future" if r.effective_from > today else "past"
        for r in rates
    }


def create_rate(
    *, session: Session, user: User, data: CostRateIn, today: date | None = None
) -> CostRate:
    """Add a rate from the 1st of a future month; months already begun keep their rates."""
    ensure_role(user, *EDITING_ROLES)
    _ensure_future(data.effective_from, today)
    _ensure_free(session, data.effective_from)
    rate = CostRate(**data.model_dump(), created_by_id=user.id)
    _flush_unique(session, rate, data.effective_from)
    _audit(session, user, "create", rate, before=None)
    return rate


def update_rate(
    *, session: Session, user: User, rate_id: int, data: CostRateIn, today: date | None = None
) -> CostRate:
    """Change a rate not yet in force (its date too, to another future 1st)."""
    ensure_role(user, *EDITING_ROLES)
    rate = get_rate(session=session, rate_id=rate_id)
    _ensure_unlocked(rate, today)
    _ensure_future(data.effective_from, today)
    if data.effective_from != rate.effective_from:
        _ensure_free(session, data.effective_from)
    before = snapshot(rate)
    for name, value in data.model_dump().items():
        setattr(rate, name, value)
    _flush_unique(session, rate, data.effective_from)
    if snapshot(rate) != before:
        _audit(session, user, "update", rate, before=before)
    return rate


def delete_rate(*, session: Session, user: User, rate_id: int, today: date | None = None) -> None:
    """Delete a rate not yet in force."""
    ensure_role(user, *EDITING_ROLES)
    rate = get_rate(session=session, rate_id=rate_id)
    _ensure_unlocked(rate, today)
    before = snapshot(rate)
    session.delete(rate)
    session.flush()
    record_change(
        session=session,
        actor=user,
        action="cost_rate.delete",
        entity_type="cost_rate",
        entity_id=str(before["id"]),
        before=before,
    )


def snapshot(rate: CostRate) -> dict[str, Any]:
    """A rate as the API and the audit log show it (amounts as strings, not floats)."""
    return {
        "id": rate.id,
        "effective_from": rate.effective_from.isoformat(),
        "agent_cost_per_hour": f"{rate.agent_cost_per_hour:.2f}",
        "telephony_per_minute": f"{rate.telephony_per_minute:.4f}",
        "platform_monthly": f"{rate.platform_monthly:.2f}",
        "fixed_allocation": rate.fixed_allocation,
        "baseline_cost_per_call": f"{rate.baseline_cost_per_call:.2f}",
        "base_share_pct": f"{rate.base_share_pct:.2f}",
    }


def _ensure_unlocked(rate: CostRate, today: date | None) -> None:
    # Reports already shown for a month must not change afterwards.
    if rate.effective_from <= (today or danish_today()):
        raise Conflict("cost_model.locked", day=danish_date(rate.effective_from))


def _ensure_future(day: date, today: date | None) -> None:
    # The current month has begun and its calls are costed: the earliest start is next month.
    if day <= (today or danish_today()):
        raise InvalidInput("cost_model.not_future", day=danish_date(day))


def _ensure_free(session: Session, day: date) -> None:
    if session.scalar(select(CostRate.id).where(CostRate.effective_from == day)) is not None:
        raise Conflict("cost_model.date_taken", day=danish_date(day))


def _flush_unique(session: Session, rate: CostRate, day: date) -> None:
    try:
        with session.begin_nested():
            session.add(rate)
            session.flush()
    except IntegrityError:  # a colleague saved a rate for the same month at the same moment
        raise Conflict("cost_model.date_taken", day=danish_date(day)) from None


def _audit(session: Session, user: User, verb: str, rate: CostRate, before) -> None:
    record_change(
        session=session,
        actor=user,
        action=f"cost_rate.{verb}",
        entity_type="cost_rate",
        entity_id=str(rate.id),
        before=before,
        after=snapshot(rate),
    )
