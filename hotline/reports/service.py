"""The cost model and the call-cost report that splits the bill between municipalities."""

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.calls.models import Call, CallState
from hotline.calls.service import after_call_seconds, talk_seconds
from hotline.kit.dates import COPENHAGEN
from hotline.kit.errors import InvalidInput
from hotline.municipalities.models import Municipality
from hotline.reports.models import ALLOCATION_METHODS, CostRate

ORE = Decimal("0.01")
UNKNOWN_NAME = "Ukendt kommune"
MAX_PERIOD_DAYS = 3 * 366
# base_plus_usage: this share of the fixed cost is split equally, the rest by answered calls.
BASE_SHARE = Decimal("0.20")
DEFAULT_RATE = {
    "effective_from": date(2020, 1, 1),
    "agent_cost_per_hour": Decimal("450.00"),
    "telephony_per_minute": Decimal("0.10"),
    "platform_monthly": Decimal("25000.00"),
    "fixed_allocation": "calls",
    "baseline_cost_per_call": Decimal("95.00"),
}


@dataclass
class CostRow:
    """One municipality's share of the period's cost (code "" for calls with no municipality)."""

    code: str
    name: str
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    handled_seconds: int = 0
    variable_cost: Decimal = Decimal("0.00")
    fixed_cost: Decimal = Decimal("0.00")
    _variable_exact: Decimal = field(default=Decimal(0), repr=False)

    @property
    def handled_minutes(self) -> Decimal:
        """Talk plus after-call work, in minutes (two decimals)."""
        return (Decimal(self.handled_seconds) / 60).quantize(ORE, ROUND_HALF_UP)

    @property
    def total_cost(self) -> Decimal:
        """Variable plus allocated fixed cost."""
        return self.variable_cost + self.fixed_cost


@dataclass
class CostReport:
    """The period's cost per municipality; the rows sum exactly to the totals."""

    start: date
    end: date
    rows: list[CostRow]
    fixed_cost: Decimal
    variable_cost: Decimal
    fixed_allocation: str = "calls"

    @property
    def total_cost(self) -> Decimal:
        """The grand total."""
        return self.fixed_cost + self.variable_cost

    @property
    def totals(self) -> CostRow:
        """A row of column sums."""
        return CostRow(
            code="",
            name="I alt",
            offered=sum(r.offered for r in self.rows),
            answered=sum(r.answered for r in self.rows),
            abandoned=sum(r.abandoned for r in self.rows),
            handled_seconds=sum(r.handled_seconds for r in self.rows),
            variable_cost=self.variable_cost,
            fixed_cost=self.fixed_cost,
        )


def parse_period(start: str, end: str) -> tuple[date, date]:
    """The period from two YYYY-MM-DD strings; a bad date or a reversed period is refused."""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        raise InvalidInput("reports.bad_date") from exc
    if first > last:
        raise InvalidInput("reports.period_reversed")
    return first, last


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


def cost_report(*, session: Session, start: date, end: date) -> CostReport:
    """Each municipality's calls and cost for the Danish local dates start..end (inclusive)."""
    if start > end:
        raise InvalidInput("reports.period_reversed")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput("reports.period_too_long")
    rates = list(session.scalars(select(CostRate).order_by(CostRate.effective_from)))
    if rate_on(rates, start) is None:
        raise InvalidInput("reports.no_cost_rate", day=start.isoformat())
    rows: dict[str, CostRow] = {}
    names = dict(session.execute(select(Municipality.code, Municipality.name)).all())
    for call in _calls_offered(session=session, start=start, end=end):
        code = call.municipality_code or call.line_municipality_code or ""
        row = rows.get(code) or rows.setdefault(code, CostRow(code, names.get(code, UNKNOWN_NAME)))
        _add_call(row, call, rate_on(rates, _local_date(call.offered_at)))
    ordered = sorted(rows.values(), key=lambda r: (r.code == "", r.code))
    variable_total = _round(sum((r._variable_exact for r in ordered), Decimal(0)))
    for row, amount in zip(
        ordered,
        _largest_remainder([r._variable_exact for r in ordered], variable_total),
        strict=True,
    ):
        row.variable_cost = amount
    fixed_total = _round(_fixed_cost(rates, start, end))
    # Variable cost follows the rate of each call's date and the platform fee the rate of each
    # day, but the whole period's fixed cost is split by one method: the rate in force on the
    # period's last day decides it (the supervisor page says so).
    method = rate_on(rates, end).fixed_allocation
    weights = _allocation_weights(ordered, method)
    weight_sum = sum(weights)
    if ordered and weight_sum > 0:
        shares = [fixed_total * w / weight_sum for w in weights]
        for row, amount in zip(ordered, _largest_remainder(shares, fixed_total), strict=True):
            row.fixed_cost = amount
    else:
        # Nobody to bill: the fixed cost stays unallocated rather than vanish from the total.
        fixed_total = Decimal("0.00")
    return CostReport(start, end, ordered, fixed_total, variable_total, method)


def _calls_offered(*, session: Session, start: date, end: date) -> list[Call]:
    since = datetime.combine(start, time(), COPENHAGEN).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), time(), COPENHAGEN).astimezone(UTC)
    return list(
        session.scalars(
            select(Call).where(Call.offered_at >= since, Call.offered_at < until).order_by(Call.id)
        )
    )


def _add_call(row: CostRow, call: Call, rate: CostRate | None) -> None:
    row.offered += 1
    if call.state == CallState.ABANDONED:
        row.abandoned += 1
        return
    if call.answered_at is None:
        return
    # Only an answered call has talk time, after-call work and a variable cost.
    row.answered += 1
    talk = talk_seconds(call) or 0
    handled = talk + (after_call_seconds(call) or 0)
    row.handled_seconds += handled
    if rate is not None:
        row._variable_exact += Decimal(handled) * rate.agent_cost_per_hour / 3600
        row._variable_exact += Decimal(talk) * rate.telephony_per_minute / 60


def _fixed_cost(rates: list[CostRate], start: date, end: date) -> Decimal:
    """The platform cost of the period: each day costs its month's fee / the month's days."""
    total = Decimal(0)
    day = start
    while day <= end:
        rate = rate_on(rates, day)
        if rate is not None:
            days_in_month = calendar.monthrange(day.year, day.month)[1]
            total += rate.platform_monthly / days_in_month
        day += timedelta(days=1)
    return total


def _allocation_weights(rows: list[CostRow], method: str) -> list[Decimal]:
    """Each row's weight in the fixed cost by the rate's method (one of ALLOCATION_METHODS)."""
    # "calls": by answered calls; "minutes": by handled minutes; "equal": the same for every row;
    # "base_plus_usage": BASE_SHARE split equally between the rows, the rest by answered calls.
    # The rows are the municipalities (and "Ukendt kommune") with calls in the period. When no
    # call was answered (or handled), "calls", "minutes" and the usage part go by offered calls.
    if method not in ALLOCATION_METHODS:
        raise InvalidInput("reports.unknown_allocation", method=method)
    if method == "equal" or not rows:
        return [Decimal(1) for _ in rows]
    if method == "minutes":
        usage = [Decimal(r.handled_seconds) for r in rows]
    else:
        usage = [Decimal(r.answered) for r in rows]
    if sum(usage) == 0:
        usage = [Decimal(r.offered) for r in rows]
    if method != "base_plus_usage":
        return usage
    usage_sum = sum(usage)
    return [BASE_SHARE / len(rows) + (1 - BASE_SHARE) * u / usage_sum for u in usage]


def _largest_remainder(amounts: list[Decimal], total: Decimal) -> list[Decimal]:
    """Round to øre so that the parts sum exactly to total (the largest remainders get an øre)."""
    floors = [a.quantize(ORE, ROUND_FLOOR) for a in amounts]
    missing = int(((total - sum(floors, Decimal(0))) / ORE).to_integral_value(ROUND_HALF_UP))
    by_remainder = sorted(range(len(amounts)), key=lambda i: (floors[i] - amounts[i], i))
    for i in by_remainder[: max(0, missing)]:
        floors[i] += ORE
    return floors


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(ORE, ROUND_HALF_UP)


def _local_date(moment: datetime) -> date:
    return moment.astimezone(COPENHAGEN).date()


def current_month(today: date | None = None) -> tuple[date, date]:
    """The first and last day of the current Danish month."""
    today = today or datetime.now(COPENHAGEN).date()
    last = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=1), today.replace(day=last)
