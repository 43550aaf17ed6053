"""The monthly roll-up of finished calls: kept in step at every flush, rebuilt on demand.

Whatever path finishes a call (wrap-up, a CTI hang-up in the queue, an import), the flush that
writes it adds the call to its month; a finished call changed later is taken out with its old
values and added with its new ones. The counters are raised with one additive upsert per row
(n = n + excluded.n), so concurrent wrap-ups never read-modify-write, and rows are written in key
order so two transactions cannot deadlock on them.
"""

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import delete, event, func, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hotline.calls.models import Call
from hotline.reports.facts import FACT_COLUMNS, FINISHED_STATES, SUM_FIELDS, Tally, call_facts
from hotline.reports.rollup_models import CallMonthCount, CallMonthStats

REBUILD_BATCH = 20_000
ROWS_PER_STATEMENT = 100  # at most 9 parameters a row: 900, under every limit
MonthKey = tuple[date, str]


@event.listens_for(Session, "after_flush")
def _follow_finished_calls(session: Session, _flush_context) -> None:
    """Apply what this flush finished, changed or deleted among calls to the roll-up."""
    changes: dict[MonthKey, Tally] = defaultdict(Tally)
    for call in session.new:
        if isinstance(call, Call) and call.state in FINISHED_STATES:
            _tally(changes, _facts(call, old=False), +1)
    for call in session.dirty:
        if isinstance(call, Call):
            old, new = _facts(call, old=True), _facts(call, old=False)
            if old != new:
                _tally(changes, old, -1)
                _tally(changes, new, +1)
    for call in session.deleted:
        if isinstance(call, Call):
            _tally(changes, _facts(call, old=True), -1)
    if changes:
        write_tallies(session, changes)


def _facts(call: Call, *, old: bool):
    """The call's facts with its values before (old) or after this flush; None if unfinished."""
    state = inspect(call)
    values = []
    for name in FACT_COLUMNS:
        history = state.attrs[name].history
        if old and history.deleted:
            values.append(history.deleted[0])
        elif old and history.added:  # set for the first time in this flush
            values.append(None)
        else:
            values.append(getattr(call, name))
    if values[0] not in FINISHED_STATES or values[1] is None:
        return None
    return call_facts(*values)


def _tally(changes: dict[MonthKey, Tally], facts, sign: int) -> None:
    if facts is not None:
        changes[(facts.month, facts.code)].add_call(facts, sign)


def write_tallies(session: Session, tallies: dict[MonthKey, Tally]) -> None:
    """Add the tallies to the roll-up tables (negative parts subtract)."""
    stats, counts = [], []
    for (month, code), tally in sorted(tallies.items()):
        sums = {name: getattr(tally, name) for name in SUM_FIELDS}
        if any(sums.values()):
            stats.append({"month": month, "municipality_code": code, **sums})
        for (kind, key), n in sorted(tally.counts.items()):
            if n:
                row = {"month": month, "municipality_code": code, "kind": kind, "key": key}
                counts.append({**row, "n": n})
    connection = session.connection()
    # Chunks keep each statement under the databases' limits on bound parameters.
    for start in range(0, len(stats), ROWS_PER_STATEMENT):
        chunk = stats[start : start + ROWS_PER_STATEMENT]
        connection.execute(_additive_upsert(session, CallMonthStats, chunk, SUM_FIELDS))
    for start in range(0, len(counts), ROWS_PER_STATEMENT):
        chunk = counts[start : start + ROWS_PER_STATEMENT]
        connection.execute(_additive_upsert(session, CallMonthCount, chunk, ("n",)))


def _additive_upsert(session: Session, model, rows: list[dict], summed: tuple[str, ...]):
    table = model.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(rows)
    return statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key],
        set_={name: table.c[name] + statement.excluded[name] for name in summed},
    )


def rebuild_rollup(session: Session) -> int:
    """Recompute the whole roll-up from the calls; the number of finished calls counted."""
    session.execute(delete(CallMonthCount))
    session.execute(delete(CallMonthStats))
    columns = [getattr(Call, name) for name in FACT_COLUMNS]
    query = select(*columns).where(Call.state.in_(FINISHED_STATES))
    tallies: dict[MonthKey, Tally] = defaultdict(Tally)
    counted = 0
    for row in session.execute(query.execution_options(yield_per=REBUILD_BATCH)):
        _tally(tallies, call_facts(*row), +1)
        counted += 1
    if tallies:
        write_tallies(session, tallies)
    session.flush()
    return counted


def rebuild_rollup_if_empty(session: Session) -> int:
    """Fill an empty roll-up from existing calls (after an upgrade); 0 when it was not empty."""
    if session.scalar(select(CallMonthStats.month).limit(1)) is not None:
        return 0
    return rebuild_rollup(session)


def read_rollup(
    session: Session, first_month: date, last_month: date
) -> tuple[dict[MonthKey, Tally], dict[str, Counter]]:
    """Sums per (month, municipality) and counters per municipality for the months given."""
    months = CallMonthStats.month.between(first_month, last_month)
    sums = [func.sum(getattr(CallMonthStats, name)) for name in SUM_FIELDS]
    by_month: dict[MonthKey, Tally] = {}
    query = select(CallMonthStats.month, CallMonthStats.municipality_code, *sums).where(months)
    for month, code, *values in session.execute(
        query.group_by(CallMonthStats.month, CallMonthStats.municipality_code)
    ):
        by_month[(month, code)] = Tally(**dict(zip(SUM_FIELDS, map(int, values), strict=True)))
    counters: dict[str, Counter] = defaultdict(Counter)
    c = CallMonthCount
    grouped = (
        select(c.municipality_code, c.kind, c.key, func.sum(c.n))
        .where(c.month.between(first_month, last_month))
        .group_by(c.municipality_code, c.kind, c.key)
    )
    for code, kind, key, n in session.execute(grouped):
        counters[code][(kind, key)] += int(n)
    return by_month, counters
