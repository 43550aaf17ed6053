"""The roll-ups of finished calls by month and by day: kept in step with every transaction.

Whatever path finishes a call (wrap-up, a CTI hang-up in the queue, an import), the flush that
writes it notes the call's month and day cells; a finished call changed later is taken out with
its old values and added with its new ones. The noted counters are written just before the
transaction commits, with one additive upsert per cell (n = n + excluded.n), so concurrent
wrap-ups never read-modify-write, and in key order so two transactions cannot deadlock on them.
Writing them last matters: every call of a municipality's day raises the same cell, whose row lock
is held until commit; taken at the flush, it was held through the rest of the request and its
trips through the event loop, and in a surge the wrap-ups queued behind it until the connection
pool ran dry. A rolled-back savepoint or transaction drops what its flushes noted.
rebuild_rollup() recomputes the roll-ups from the calls.
"""

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from functools import lru_cache

from sqlalchemy import Table, delete, inspect, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction

from hotline.calls.models import Call
from hotline.db import Listener, advisory_key
from hotline.reports.facts import (
    FACT_COLUMNS,
    FINISHED_STATES,
    SUM_FIELDS,
    CallFacts,
    call_facts,
    wait_bucket_index,
)
from hotline.reports.rollup_models import (
    DAY_COLUMNS,
    MONTH_COLUMNS,
    CallDayReason,
    CallDayStats,
    CallMonthReason,
    CallMonthStats,
)

REBUILD_BATCH = 20_000
SHARDS = 16  # at most this many writers of one municipality's cells at once before one waits
# In order, the first shard whose two-key advisory lock this transaction gets (then no more).
_FREE_SHARD = text(
    "SELECT s FROM generate_series(0, :shards - 1) AS s "
    "WHERE pg_try_advisory_xact_lock(CAST(:key AS integer), s) LIMIT 1"
)
MONTHS, DAYS = CallMonthStats.__table__, CallDayStats.__table__
MONTH_REASONS, DAY_REASONS = CallMonthReason.__table__, CallDayReason.__table__
COUNTERS = {MONTHS: MONTH_COLUMNS, DAYS: DAY_COLUMNS, MONTH_REASONS: ("n",), DAY_REASONS: ("n",)}
SUMS = range(len(SUM_FIELDS))
WAITS = MONTH_COLUMNS.index("wb_00")  # the first wait column, the same in both stats tables
WEEK_HOURS, DAY_HOURS = MONTH_COLUMNS.index("hw_000"), DAY_COLUMNS.index("hd_00")
Cells = dict[tuple[Table, tuple], list[int]]
MonthKey = tuple[date, str]
_PENDING = "hotline_rollup_pending"


def _follow_finished_calls(session: Session, _flush_context) -> None:
    """Note what this flush finished, changed or deleted among calls, for the commit to write."""
    cells: Cells = {}
    for call in session.new:
        if isinstance(call, Call) and call.state in FINISHED_STATES:
            add_call(cells, _facts(call, old=False), +1)
    for call in session.dirty:
        if isinstance(call, Call):
            old, new = _facts(call, old=True), _facts(call, old=False)
            if old != new:
                add_call(cells, old, -1)
                add_call(cells, new, +1)
    for call in session.deleted:
        if isinstance(call, Call):
            add_call(cells, _facts(call, old=True), -1)
    if cells:
        current = session.get_nested_transaction() or session.get_transaction()
        merge_cells(_pending(session).setdefault(current, {}), cells)


def _write_before_commit(session: Session) -> None:
    """Write the noted cells as the (outermost or a nested) transaction commits."""
    write_pending_cells(session)


def _drop_rolled_back(session: Session) -> None:
    nested = session.get_nested_transaction()
    if nested is None:
        _pending(session).clear()
    else:
        _pending(session).pop(nested, None)


def _hand_to_parent(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint closed without commit or rollback (its outer transaction ended first).
    cells = _pending(session).pop(transaction, None)
    if cells and transaction.parent is not None:
        merge_cells(_pending(session).setdefault(transaction.parent, {}), cells)


LISTENERS = (
    Listener(Session, "after_flush", _follow_finished_calls),
    Listener(Session, "before_commit", _write_before_commit),
    Listener(Session, "after_rollback", _drop_rolled_back),
    Listener(Session, "after_transaction_end", _hand_to_parent),
)


def _pending(session: Session) -> dict[SessionTransaction, Cells]:
    return session.info.setdefault(_PENDING, {})


def write_pending_cells(session: Session) -> None:
    """Flush, and write the cells noted so far in this transaction (before reading roll-ups)."""
    # At a commit this hook runs before the commit's own flush: note that flush's calls too.
    session.flush()
    cells: Cells = {}
    for noted in _pending(session).values():
        merge_cells(cells, noted)
    _pending(session).clear()
    if cells:
        write_cells(session, cells)


def merge_cells(into: Cells, cells: Cells) -> None:
    """Add one set of cells' counters to another."""
    for key, counters in cells.items():
        if key in into:
            into[key] = [a + b for a, b in zip(into[key], counters, strict=True)]
        else:
            into[key] = list(counters)


def _facts(call: Call, *, old: bool) -> CallFacts | None:
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


def add_call(cells: Cells, facts: CallFacts | None, sign: int) -> None:
    """Add (sign +1) or take away (-1) one call in each of its cells."""
    if facts is None:
        return
    for table, key, amounts in _cell_amounts(facts):
        counters = cells.get((table, key))
        if counters is None:
            counters = cells[(table, key)] = [0] * len(COUNTERS[table])
        for index, amount in amounts:
            counters[index] += sign * amount


def _cell_amounts(facts: CallFacts) -> Iterator[tuple[Table, tuple, list[tuple[int, int]]]]:
    """Each cell the call counts in, with (counter column index, amount) pairs."""
    amounts = [(i, value) for i, value in zip(SUMS, facts.sums(), strict=True) if value]
    if facts.answered:
        amounts.append((WAITS + wait_bucket_index(facts.wait), 1))
    month_amounts, day_amounts = list(amounts), amounts
    if facts.offered:
        month_amounts.append((WEEK_HOURS + facts.hour_of_week, 1))
        day_amounts.append((DAY_HOURS + facts.hour_of_week % 24, 1))
    yield MONTHS, (facts.month, facts.code), month_amounts
    yield DAYS, (facts.day, facts.code), day_amounts
    if facts.reason:
        yield MONTH_REASONS, (facts.month, facts.code, facts.reason), [(0, 1)]
        yield DAY_REASONS, (facts.day, facts.code, facts.reason), [(0, 1)]


def write_cells(session: Session, cells: Cells) -> None:
    """Add the cells' counters to the roll-up tables (negative ones subtract)."""
    by_table: dict[Table, list[tuple[tuple, list[int]]]] = defaultdict(list)
    for (table, key), counters in cells.items():
        if any(counters):
            by_table[table].append((key, counters))
    if not any(by_table.values()):
        return
    connection = session.connection()
    shard = _free_shard(
        session, {key[1] for cells_of_table in by_table.values() for key, _ in cells_of_table}
    )
    for table in COUNTERS:  # a fixed order of tables, and key order within each
        if cells_of_table := sorted(by_table[table]):
            statement, rows = _additive_upsert(session, table, cells_of_table, shard)
            connection.execute(statement, rows)


def _free_shard(session: Session, codes: set[str]) -> int:
    """The first shard of these municipalities' cells that no other open transaction writes.

    On PostgreSQL every cell of a municipality's day is one row that each wrap-up raises: its lock
    is held until commit, and in a surge of one municipality's calls the writers queued for it (and
    the CTI capacity with them). A transaction-level advisory lock per (municipalities, shard)
    claims a shard; readers sum the shards. SQLite has one writer at a time: always shard 0.
    """
    if session.get_bind().dialect.name != "postgresql":
        return 0
    key = advisory_key(",".join(sorted(codes)), size=4)  # the two-key form takes two ints
    shard = session.execute(_FREE_SHARD, {"key": key, "shards": SHARDS}).scalar()
    # All taken: wait for a random one's writer rather than always the first's.
    return random.randrange(SHARDS) if shard is None else shard


def _additive_upsert(
    session: Session, table: Table, cells: list[tuple[tuple, list[int]]], shard: int
):
    """One upsert adding a cell's counters, and its parameters for each cell (executemany)."""
    names = COUNTERS[table]
    # Only the counters some cell changes: a wrap-up names a dozen columns, not two hundred.
    used = [i for i in range(len(names)) if any(counters[i] for _, counters in cells)]
    keys = [c.name for c in table.primary_key if c.name != "shard"]
    rows = []
    for key, counters in cells:
        row = dict(zip(keys, key, strict=True), shard=shard)
        if table is DAYS:
            row.update(month=key[0].replace(day=1), weekday=key[0].weekday())
        row.update({names[i]: counters[i] for i in used})
        rows.append(row)
    return _upsert_statement(session.get_bind().dialect.name, table, tuple(used)), rows


@lru_cache(maxsize=512)
def _upsert_statement(dialect: str, table: Table, used: tuple[int, ...]):
    """The additive upsert of these counters (built once: it costs more than running it)."""
    names, keys = COUNTERS[table], [c.name for c in table.primary_key]  # the shard too
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={names[i]: table.c[names[i]] + statement.excluded[names[i]] for i in used},
    )


def rebuild_rollup(session: Session) -> int:
    """Recompute the roll-ups from the calls; the number of finished calls counted."""
    session.flush()
    _pending(session).clear()  # counted below from the calls themselves
    for table in COUNTERS:
        session.execute(delete(table))
    columns = [getattr(Call, name) for name in FACT_COLUMNS]
    query = select(*columns).where(Call.state.in_(FINISHED_STATES))
    cells: Cells = {}
    counted = 0
    for row in session.execute(query.execution_options(yield_per=REBUILD_BATCH)):
        add_call(cells, call_facts(*row), +1)
        counted += 1
    if cells:
        write_cells(session, cells)
    session.flush()
    return counted


def rebuild_rollup_if_empty(session: Session) -> int:
    """Fill empty roll-ups from existing calls (after an upgrade); 0 when they were not empty."""
    write_pending_cells(session)
    if session.scalar(select(MONTHS.c.month).limit(1)) is not None:
        return 0
    return rebuild_rollup(session)
