"""A period's calls per month and municipality: whole months and days from the roll-ups.

No query reads the period's calls: whole months come from the month cells, the days around them
from the day cells, and only the calls not yet finished (a few, found by their state) are read
one by one. The database sums the histograms, so a report over years reads a few thousand rows.
"""

import calendar
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from sqlalchemy import BigInteger, Table, cast, func, or_, select
from sqlalchemy.orm import Session

from hotline.calls.models import Call, CallState
from hotline.kit.dates import COPENHAGEN
from hotline.reports.facts import (
    FACT_COLUMNS,
    FINISHED_STATES,
    SUM_FIELDS,
    WAIT_BUCKETS,
    Tally,
    call_facts,
)
from hotline.reports.rollup import (
    DAY_REASONS,
    DAYS,
    MONTH_REASONS,
    MONTHS,
    MonthKey,
    write_pending_cells,
)
from hotline.reports.rollup_models import DAY_HOUR_COLUMNS, WAIT_COLUMNS, WEEK_HOUR_COLUMNS

UNFINISHED_STATES = tuple(state for state in CallState if state not in FINISHED_STATES)
Counters = dict[str, Counter]


def period_tallies(
    session: Session, start: date, end: date
) -> tuple[dict[MonthKey, Tally], Counters]:
    """Sums per (month, municipality) and counters per municipality for start..end (inclusive)."""
    write_pending_cells(session)
    first_full = start if start.day == 1 else next_month(start)
    after_full = next_month(end) if end == month_end(end) else end.replace(day=1)
    by_month: dict[MonthKey, Tally] = {}
    counters: Counters = defaultdict(Counter)
    edges = [(start, end)]
    if first_full < after_full:
        last_full = after_full - timedelta(days=1)
        _read_cells(session, MONTHS, MONTH_REASONS, [(first_full, last_full)], by_month, counters)
        edges = [(start, first_full - timedelta(days=1)), (after_full, end)]
    if edges := [(a, b) for a, b in edges if a <= b]:
        _read_cells(session, DAYS, DAY_REASONS, edges, by_month, counters)
    _add_unfinished(session, start, end, by_month)
    return by_month, counters


def _read_cells(session, table: Table, reasons: Table, spans, by_month, counters) -> None:
    """Sums by (month, municipality); wait, hour and reason counters by municipality."""
    code, month = table.c.municipality_code, table.c.month
    period = table.c[table.primary_key.columns.keys()[0]]  # month or day
    where = or_(*(period.between(a, b) for a, b in spans))
    query = select(month, code, *_totals(table, SUM_FIELDS)).where(where).group_by(month, code)
    for cell_month, cell_code, *values in session.execute(query):
        sums = Tally(*values)
        if (tally := by_month.get((cell_month, cell_code))) is None:
            by_month[(cell_month, cell_code)] = sums
        else:
            tally.add(sums)
    query = select(code, *_totals(table, WAIT_COLUMNS)).where(where).group_by(code)
    for cell_code, *values in session.execute(query):
        _count(counters[cell_code], "wait", WAIT_BUCKETS, values)
    if table is MONTHS:
        query = select(code, *_totals(table, WEEK_HOUR_COLUMNS)).where(where).group_by(code)
        for cell_code, *values in session.execute(query):
            _count(counters[cell_code], "hour", range(len(values)), values)
    else:
        weekday = table.c.weekday
        query = select(code, weekday, *_totals(table, DAY_HOUR_COLUMNS))
        for cell_code, day_of_week, *values in session.execute(
            query.where(where).group_by(code, weekday)
        ):
            _count(
                counters[cell_code], "hour", range(day_of_week * 24, 24 * day_of_week + 24), values
            )
    period = reasons.c[reasons.primary_key.columns.keys()[0]]
    code, reason = reasons.c.municipality_code, reasons.c.reason
    query = select(code, reason, *_totals(reasons, ("n",)))
    query = query.where(or_(*(period.between(a, b) for a, b in spans))).group_by(code, reason)
    for cell_code, key, n in session.execute(query):
        if n:
            counters[cell_code][("reason", key)] += n


@cache
def _totals(table: Table, names: tuple[str, ...]) -> list:
    """SUM() of each column as an integer (PostgreSQL's sum of bigints is numeric)."""
    return [cast(func.sum(table.c[name]), BigInteger) for name in names]


def _count(counter: Counter, kind: str, keys, values) -> None:
    for key, n in zip(keys, values, strict=True):
        if n:
            counter[(kind, str(key))] += n


def _add_unfinished(session: Session, start: date, end: date, by_month) -> None:
    """Calls still waiting or talking count as offered (found by state: there are few)."""
    columns = [getattr(Call, name) for name in FACT_COLUMNS]
    query = select(*columns).where(
        Call.state.in_(UNFINISHED_STATES),
        Call.offered_at >= utc_midnight(start),
        Call.offered_at < utc_midnight(end + timedelta(days=1)),
    )
    for values in session.execute(query):
        facts = call_facts(*values)
        by_month.setdefault((facts.month, facts.code), Tally()).add_call(facts)


def utc_midnight(day: date) -> datetime:
    """The UTC moment the Danish local day begins."""
    return datetime.combine(day, time(), COPENHAGEN).astimezone(UTC)


def next_month(day: date) -> date:
    """The first day of the next month."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def last_whole_month(now: datetime | None = None) -> tuple[date, date]:
    """The first and last day of the last complete month in Danish time (the month before now)."""
    today = (now or datetime.now(UTC)).astimezone(COPENHAGEN).date()
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def month_end(day: date) -> date:
    """The last day of the day's month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])
