"""The cost report over random unaligned periods: what a supervisor asks for, not month ends.

Each period starts and ends on any day between the data's first and last day (at least one day,
at most the report's limit); the same seeded periods every run, so runs compare. Every period is
timed warm (a first pass over all of them fills the database's caches) through
hotline.reports.service.cost_report on a fresh session, as the report page calls it.
"""

import random
import statistics
import time
from datetime import date, timedelta

from hotline.db import make_engine, make_sessionmaker
from hotline.reports.service import MAX_PERIOD_DAYS, cost_report

try:
    from bench._support import percentile
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _support import percentile

PERIODS = 50
SEED = 20261207


def random_periods(first: date, last: date, n: int = PERIODS) -> list[tuple[date, date]]:
    """n periods with a uniformly random start and end day (never month-aligned on purpose)."""
    rng = random.Random(SEED)
    span = (last - first).days
    periods = []
    while len(periods) < n:
        a, b = sorted(rng.randint(0, span) for _ in range(2))
        if b - a <= MAX_PERIOD_DAYS:
            periods.append((first + timedelta(days=a), first + timedelta(days=b)))
    return periods


def time_periods(url: str, first: date, last: date, n: int = PERIODS) -> dict:
    """Milliseconds per report over n random periods: p50, p95, max and each run."""
    periods = random_periods(first, last, n)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    runs_ms: list[float] = []
    for timed in (False, True):  # the first pass warms the caches
        for start, end in periods:
            with sessions() as session:
                begin = time.perf_counter()
                cost_report(session=session, start=start, end=end)
                elapsed = (time.perf_counter() - begin) * 1000
            if timed:
                runs_ms.append(elapsed)
    engine.dispose()
    return {
        "periods": periods,
        "runs_ms": runs_ms,
        "p50_ms": statistics.median(runs_ms),
        "p95_ms": percentile(runs_ms, 95),
        "max_ms": max(runs_ms),
    }
