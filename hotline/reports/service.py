"""The call-cost report: each municipality's calls, cost, baseline and savings for a period."""

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.calls.models import ContactReason
from hotline.kit.dates import COPENHAGEN
from hotline.kit.errors import InvalidInput
from hotline.municipalities.models import Municipality
from hotline.reports.facts import Tally
from hotline.reports.models import CostRate
from hotline.reports.money import allocation_weights, round_ore, split
from hotline.reports.period import month_end, period_tallies
from hotline.reports.rates import ensure_default_cost_rate, rate_on

UNKNOWN_NAME = "Ukendt kommune"
MAX_PERIOD_DAYS = 3 * 366
TOP_REASONS = 3
__all__ = ["CostReport", "CostRow", "cost_report", "ensure_default_cost_rate", "parse_period"]


@dataclass
class CostRow:
    """One municipality's calls and share of the period's cost (code "" when unknown)."""

    code: str
    name: str
    region_code: str = ""
    tally: Tally = field(default_factory=Tally)
    variable_cost: Decimal = Decimal("0.00")
    fixed_cost: Decimal = Decimal("0.00")
    baseline_cost: Decimal = Decimal("0.00")
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    grand_total: Decimal = Decimal("0.00")  # of the whole report, for the share

    offered = property(lambda self: self.tally.offered, doc="Calls offered.")
    answered = property(lambda self: self.tally.answered, doc="Calls answered.")
    abandoned = property(lambda self: self.tally.abandoned, doc="Calls given up in the queue.")
    elsewhere = property(lambda self: self.tally.elsewhere, doc="Answered outside Hotline.")
    lost = property(lambda self: self.tally.lost, doc="Closed as the connection was lost.")
    outgoing = property(lambda self: self.tally.outgoing, doc="Agents' calls out to citizens.")
    handled_seconds = property(lambda self: self.tally.handled_seconds, doc="Talk + after-call.")

    @property
    def total_cost(self) -> Decimal:
        """Variable plus allocated fixed cost."""
        return self.variable_cost + self.fixed_cost

    @property
    def handled_minutes(self) -> Decimal:
        """Talk plus after-call work, in minutes (two decimals)."""
        return minutes(self.tally.handled_seconds)

    @property
    def talk_minutes(self) -> Decimal:
        """Talk time in minutes."""
        return minutes(self.tally.talk_seconds)

    @property
    def after_call_minutes(self) -> Decimal:
        """After-call work in minutes."""
        return minutes(self.tally.after_call_seconds)

    @property
    def outgoing_minutes(self) -> Decimal:
        """Talk time of the outgoing calls in minutes (not billed)."""
        return minutes(self.tally.outgoing_seconds)

    @property
    def average_wait(self) -> Decimal | None:
        """Average seconds in the queue of the answered calls (one decimal)."""
        if not self.answered:
            return None
        return (Decimal(self.tally.wait_seconds) / self.answered).quantize(Decimal("0.1"))

    @property
    def wait_p90(self) -> int | None:
        """The 90th-percentile wait in seconds (to its bucket's upper bound)."""
        return self.tally.wait_p90()

    @property
    def cost_per_answered(self) -> Decimal | None:
        """The total cost per answered call."""
        return round_ore(self.total_cost / self.answered) if self.answered else None

    @property
    def savings(self) -> Decimal:
        """What the municipality saves against its own solution (baseline minus total)."""
        return self.baseline_cost - self.total_cost

    @property
    def savings_pct(self) -> Decimal | None:
        """The savings as a percentage of the baseline (one decimal)."""
        return percent(self.savings, self.baseline_cost)

    @property
    def share_pct(self) -> Decimal | None:
        """This row's share of the whole report's total cost, in percent."""
        return percent(self.total_cost, self.grand_total)

    @property
    def avoidable_pct(self) -> Decimal | None:
        """The share of answered calls marked avoidable, in percent."""
        return percent(Decimal(self.tally.avoidable), Decimal(self.answered))


@dataclass
class CostReport:
    """The period's cost per municipality; the rows sum exactly to the totals."""

    start: date
    end: date
    rows: list[CostRow]
    fixed_cost: Decimal
    variable_cost: Decimal
    fixed_allocation: str = "calls"
    base_share_pct: Decimal = Decimal("20.00")
    filtered: bool = False  # rows left out by a filter (the totals are of the rows shown)

    @property
    def total_cost(self) -> Decimal:
        """The total of the rows."""
        return self.fixed_cost + self.variable_cost

    @property
    def sharing_rows(self) -> int:
        """The rows that share the fixed cost: those with incoming calls."""
        return sum(1 for row in self.rows if row.offered)

    @property
    def has_outgoing(self) -> bool:
        """Whether any row has outgoing calls."""
        return any(row.outgoing for row in self.rows)

    @property
    def totals(self) -> CostRow:
        """A row of column sums."""
        tally = Tally()
        for row in self.rows:
            tally.add(row.tally)
        return CostRow(
            code="",
            name="I alt",
            tally=tally,
            variable_cost=self.variable_cost,
            fixed_cost=self.fixed_cost,
            baseline_cost=sum((r.baseline_cost for r in self.rows), Decimal("0.00")),
            grand_total=self.rows[0].grand_total if self.rows else Decimal("0.00"),
        )

    def calls_by_hour_of_week(self) -> list[int]:
        """Offered calls of the rows by hour of the week (0 = Monday 00-01, 167 = Sunday 23-24)."""
        hours = [0] * 168
        for row in self.rows:
            for key, n in row.tally.of_kind("hour").items():
                hours[int(key)] += n
        return hours

    def only(self, codes: set[str]) -> "CostReport":
        """The report restricted to some municipalities; their costs are as in the whole split."""
        rows = [r for r in self.rows if r.code in codes]
        return CostReport(
            self.start,
            self.end,
            rows,
            sum((r.fixed_cost for r in rows), Decimal("0.00")),
            sum((r.variable_cost for r in rows), Decimal("0.00")),
            self.fixed_allocation,
            self.base_share_pct,
            filtered=len(rows) < len(self.rows),
        )


def minutes(seconds: int) -> Decimal:
    """Seconds as minutes with two decimals."""
    return round_ore(Decimal(seconds) / 60)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole in percent with one decimal; None when whole is zero."""
    return (part * 100 / whole).quantize(Decimal("0.1")) if whole else None


def parse_period(start: str, end: str) -> tuple[date, date]:
    """The period from two YYYY-MM-DD strings; a bad date or a reversed period is refused."""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        raise InvalidInput("reports.bad_date") from exc
    if first > last:
        raise InvalidInput("reports.period_reversed")
    return first, last


def cost_report(*, session: Session, start: date, end: date) -> CostReport:
    """Each municipality's calls and cost for the Danish local dates start..end (inclusive)."""
    if start > end:
        raise InvalidInput("reports.period_reversed")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput("reports.period_too_long")
    rates = list(session.scalars(select(CostRate).order_by(CostRate.effective_from)))
    if rate_on(rates, start) is None:
        raise InvalidInput("reports.no_cost_rate", day=start.isoformat())
    by_month, counters = period_tallies(session, start, end)
    # Names and regions only: not 98 objects with their self-service links and letterhead fields.
    municipalities = {
        code: (name, region)
        for code, name, region in session.execute(
            select(Municipality.code, Municipality.name, Municipality.region_code)
        )
    }
    reasons = dict(session.execute(select(ContactReason.code, ContactReason.label)).all())
    rows: dict[str, CostRow] = {}
    variable_exact: Counter = Counter()
    baseline_exact: Counter = Counter()
    for (month, code), tally in sorted(by_month.items()):
        if not tally.offered and not tally.outgoing:  # a month emptied by corrections
            continue
        name, region = municipalities.get(code, (UNKNOWN_NAME, ""))
        row = rows.get(code) or rows.setdefault(code, CostRow(code, name, region))
        row.tally.add(tally)
        rate = rate_on(rates, month) or rate_on(rates, start)
        handled = Decimal(tally.handled_seconds)
        variable_exact[code] += handled * rate.agent_cost_per_hour / 3600
        variable_exact[code] += Decimal(tally.talk_seconds) * rate.telephony_per_minute / 60
        baseline_exact[code] += tally.answered * rate.baseline_cost_per_call
    for code, counter in counters.items():
        if code in rows:
            rows[code].tally.counts.update(counter)
    ordered = sorted(rows.values(), key=lambda r: (r.code == "", r.code))
    for row in ordered:
        reason_counts = Counter(row.tally.of_kind("reason")).most_common(TOP_REASONS)
        row.top_reasons = [(reasons.get(key, key), n) for key, n in reason_counts]
        row.baseline_cost = round_ore(baseline_exact[row.code])
    exact = [variable_exact[r.code] for r in ordered]
    variable_total = round_ore(sum(exact, Decimal(0)))
    for row, amount in zip(ordered, split(variable_total, exact), strict=True):
        row.variable_cost = amount
    # Variable cost follows the rate of each call's month and the platform fee the rate of each
    # day, but the whole period's fixed cost is split by one method: the rate in force on the
    # period's last day decides it (the supervisor page says so).
    closing = rate_on(rates, end)
    # A municipality with only outgoing calls in the period shares none of the fixed cost.
    sharing = [r for r in ordered if r.offered]
    weights = allocation_weights(
        closing.fixed_allocation,
        answered=[r.answered for r in sharing],
        handled_seconds=[r.handled_seconds for r in sharing],
        offered=[r.offered for r in sharing],
        base_share=closing.base_share_pct / 100,
    )
    # Nobody to bill: the fixed cost stays unallocated rather than vanish from the total.
    fixed_total = round_ore(_fixed_cost(rates, start, end)) if sharing else Decimal("0.00")
    for row, amount in zip(sharing, split(fixed_total, weights), strict=True):
        row.fixed_cost = amount
    for row in ordered:
        row.grand_total = fixed_total + variable_total
    return CostReport(
        start,
        end,
        ordered,
        fixed_total,
        variable_total,
        closing.fixed_allocation,
        closing.base_share_pct,
    )


def _fixed_cost(rates: list[CostRate], start: date, end: date) -> Decimal:
    """The platform cost of the period: each day costs its month's fee / the month's days."""
    total = Decimal(0)
    day = start
    while day <= end:
        rate = rate_on(rates, day)
        if rate is not None:
            total += rate.platform_monthly / calendar.monthrange(day.year, day.month)[1]
        day += timedelta(days=1)
    return total


def current_month(today: date | None = None) -> tuple[date, date]:
    """The first and last day of the current Danish month."""
    today = today or datetime.now(COPENHAGEN).date()
    return today.replace(day=1), month_end(today)
