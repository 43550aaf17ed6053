"""A period's calls per month and municipality: whole months from the roll-up, the rest raw."""

import calendar
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.calls.models import Call
from hotline.kit.dates import COPENHAGEN
from hotline.reports.facts import FACT_COLUMNS, FINISHED_STATES, Tally, call_facts
from hotline.reports.rollup import MonthKey, read_rollup


def period_tallies(
    session: Session, start: date, end: date
) -> tuple[dict[MonthKey, Tally], dict[str, Counter]]:
    """Whole months from the roll-up; the days around them and unfinished calls from calls."""
    first_full = start if start.day == 1 else next_month(start)
    after_full = next_month(end) if end == month_end(end) else end.replace(day=1)
    by_month: dict[MonthKey, Tally] = {}
    counters: dict[str, Counter] = {}
    if first_full < after_full:
        by_month, counters = read_rollup(session, first_full, after_full - timedelta(days=1))
        raw_ranges = [(start, first_full, False), (first_full, after_full, True)]
        raw_ranges.append((after_full, end + timedelta(days=1), False))
    else:
        raw_ranges = [(start, end + timedelta(days=1), False)]
    columns = [getattr(Call, name) for name in FACT_COLUMNS]
    for since, until, unfinished_only in raw_ranges:
        if since >= until:
            continue
        query = select(*columns).where(
            Call.offered_at >= utc_midnight(since), Call.offered_at < utc_midnight(until)
        )
        if unfinished_only:
            query = query.where(Call.state.not_in(FINISHED_STATES))
        for values in session.execute(query):
            facts = call_facts(*values)
            by_month.setdefault((facts.month, facts.code), Tally()).add_call(facts)
    return by_month, counters


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
