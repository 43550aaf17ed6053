"""Roll-ups of finished calls by month and by day, so a report over years reads cells, not calls.

A cell is one municipality's finished calls of one Danish month (or day). Its counters are
columns, not rows, so that the database sums a whole period's histograms in one pass: wb_NN
counts the answered calls whose wait falls in WAIT_BUCKETS[NN], hw_NNN the offered calls in hour
NNN of the week (0 = Monday 00-01) and, in a day's cell, hd_NN those in hour NN of that day.
Contact reasons are open-ended, so they are rows of their own.
"""

from sqlalchemy import BigInteger, Column, Date, SmallInteger, String, Table

from hotline.db import Base
from hotline.reports.facts import SUM_FIELDS, WAIT_BUCKETS

WAIT_COLUMNS = tuple(f"wb_{i:02d}" for i in range(len(WAIT_BUCKETS)))
WEEK_HOUR_COLUMNS = tuple(f"hw_{hour:03d}" for hour in range(7 * 24))
DAY_HOUR_COLUMNS = tuple(f"hd_{hour:02d}" for hour in range(24))
MONTH_COLUMNS = SUM_FIELDS + WAIT_COLUMNS + WEEK_HOUR_COLUMNS
DAY_COLUMNS = SUM_FIELDS + WAIT_COLUMNS + DAY_HOUR_COLUMNS


def _counters(names: tuple[str, ...]) -> list[Column]:
    # A server default, not a Python one: an upsert then names only the counters it adds to,
    # not all two hundred (a statement that long was parsed again by the driver every time).
    return [Column(name, BigInteger, nullable=False, server_default="0") for name in names]


def _code() -> Column:
    return Column("municipality_code", String(4), primary_key=True)


def _shard() -> Column:
    # A cell may be split over shards (rows of the same key but this column), which readers sum:
    # on PostgreSQL a transaction writes the first shard no other open transaction is writing,
    # so a surge's wrap-ups of one municipality and day do not queue for one row (see rollup).
    return Column("shard", SmallInteger, primary_key=True, server_default="0")


class CallMonthStats(Base):
    """Finished calls of one Danish month for one billed municipality ("" when unknown)."""

    __table__ = Table(
        "call_month_stats",
        Base.metadata,
        Column("month", Date, primary_key=True),
        _code(),
        _shard(),
        *_counters(MONTH_COLUMNS),
    )


class CallDayStats(Base):
    """Finished calls of one Danish day for one billed municipality, with its month and weekday."""

    __table__ = Table(
        "call_day_stats",
        Base.metadata,
        Column("day", Date, primary_key=True),
        _code(),
        _shard(),
        Column("month", Date, nullable=False),
        Column("weekday", SmallInteger, nullable=False),  # 0 = Monday
        *_counters(DAY_COLUMNS),
    )


def _reasons(name: str, period: str) -> Table:
    return Table(
        name,
        Base.metadata,
        Column(period, Date, primary_key=True),
        _code(),
        Column("reason", String(50), primary_key=True),
        _shard(),
        *_counters(("n",)),
    )


class CallMonthReason(Base):
    """How many answered calls of a month and municipality had one contact reason."""

    __table__ = _reasons("call_month_reasons", "month")


class CallDayReason(Base):
    """How many answered calls of a day and municipality had one contact reason."""

    __table__ = _reasons("call_day_reasons", "day")
