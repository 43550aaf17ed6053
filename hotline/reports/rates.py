"""The cost model's rates: effective-dated, each in force from its date until the next one's."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.reports.models import CostRate

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
