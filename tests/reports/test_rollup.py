"""The roll-ups follow the calls on every path and agrees with the calls themselves."""

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select, text

from hotline.auth.models import Role
from hotline.calls.cti import record_cti_event
from hotline.calls.models import Call, CallState, Outcome
from hotline.calls.service import seed_contact_reasons, set_call_municipality, wrap_up_call
from hotline.kit.dates import COPENHAGEN
from hotline.municipalities.models import Municipality
from hotline.reports.facts import FACT_COLUMNS, SUM_FIELDS, Tally, call_facts, wait_bucket
from hotline.reports.rollup import COUNTERS, rebuild_rollup, rebuild_rollup_if_empty
from hotline.reports.rollup_models import CallMonthStats
from hotline.reports.service import cost_report, ensure_default_cost_rate

LINE = "+4588000751"


def all_counters(session) -> dict:
    """Every non-zero counter of every roll-up table, summed over the shards of each cell, keyed
    (table, *cell key, column)."""
    counters = Counter()
    for table, columns in COUNTERS.items():
        keys = [c.name for c in table.primary_key if c.name != "shard"]
        for row in session.execute(select(table)).mappings():
            for name in columns:
                counters[(table.name, *(row[k] for k in keys), name)] += row[name]
    return {key: n for key, n in counters.items() if n}


def rollup_contents(session) -> tuple[dict, dict]:
    """The roll-ups as plain dicts without zeros: (month sums, histogram and reason counters)."""
    sums = Counter()
    for s in session.scalars(select(CallMonthStats)):  # summed over the shards of each cell
        for name in SUM_FIELDS:
            sums[(s.month, s.municipality_code, name)] += getattr(s, name)
    stats = {
        (month, code): tuple(sums[(month, code, name)] for name in SUM_FIELDS)
        for month, code in {key[:2] for key in sums}
        if any(sums[(month, code, name)] for name in SUM_FIELDS)
    }
    counts = {key: n for key, n in all_counters(session).items() if key[-1] not in SUM_FIELDS}
    return stats, counts


def assert_rollup_matches_a_rebuild(session) -> None:
    session.commit()
    kept = all_counters(session)
    rebuild_rollup(session)
    session.commit()
    assert all_counters(session) == kept


@pytest.fixture
def line(session):
    aarhus = session.get(Municipality, "0751")
    aarhus.participating, aarhus.dialled_number = True, LINE
    seed_contact_reasons(session=session)
    ensure_default_cost_rate(session=session)
    session.commit()


def cti(session, event: str, call_id: str, **fields) -> Call:
    call = record_cti_event(
        session=session, payload={"event": event, "callId": call_id, "to": LINE, **fields}
    )
    session.commit()
    return call


def test_the_product_paths_keep_the_rollup_in_step(session, line, make_user):
    agent = make_user(Role.AGENT)
    # A call answered by the agent, moved to Aalborg, hung up and wrapped up.
    cti(session, "newCall", "a", **{"from": "+4520123456"})
    call = cti(session, "answer", "a", user=agent.username)
    assert call.state == CallState.ACTIVE
    assert rollup_contents(session) == ({}, {})  # nothing finished yet
    set_call_municipality(session=session, call=call, code="0851", user=agent)
    session.commit()
    cti(session, "hangup", "a")
    call = session.scalar(select(Call).where(Call.cti_call_id == "a"))
    wrap_up_call(
        session=session,
        call=call,
        user=agent,
        contact_reason_code="pas",
        outcome=Outcome.ANSWERED,
        avoidable=True,
        avoidable_url="https://aarhus.dk/pas",
    )
    session.commit()
    # A call given up in the queue.
    cti(session, "newCall", "b")
    cti(session, "hangup", "b")
    stats, counts = rollup_contents(session)
    month = call.offered_at.astimezone(COPENHAGEN).date().replace(day=1)
    assert stats[(month, "0851")][:3] == (1, 1, 0) and stats[(month, "0751")][:3] == (1, 0, 1)
    assert stats[(month, "0851")][6] == 1  # avoidable
    assert counts[("call_month_reasons", month, "0851", "pas", "n")] == 1
    day = call.offered_at.astimezone(COPENHAGEN).date()
    assert counts[("call_day_reasons", day, "0851", "pas", "n")] == 1
    assert all_counters(session)[("call_day_stats", day, "0751", "abandoned")] == 1
    assert_rollup_matches_a_rebuild(session)


def test_a_finished_call_changed_later_moves_in_the_rollup(session, line):
    offered = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # 1 November 00:30 in Denmark
    call = Call(
        reference="DH-R1",
        municipality_code="0751",
        state=CallState.DONE,
        offered_at=offered,
        answered_at=offered + timedelta(seconds=40),
        ended_at=offered + timedelta(seconds=400),
        wrapped_up_at=offered + timedelta(seconds=460),
        contact_reason_code="pas",
    )
    session.add(call)
    session.commit()
    stats, _ = rollup_contents(session)
    assert list(stats) == [(date(2026, 11, 1), "0751")]
    assert stats[(date(2026, 11, 1), "0751")] == (1, 1, 0, 40, 360, 60, 0, 0, 0, 0, 0)
    # Corrected afterwards (in a later transaction, so the old values must be loaded).
    call = session.scalar(select(Call).where(Call.reference == "DH-R1"))
    session.expire_all()
    call.municipality_code = "0851"
    call.offered_at = offered - timedelta(hours=1)  # now 31 October in Denmark
    session.commit()
    stats, counts = rollup_contents(session)
    assert list(stats) == [(date(2026, 10, 1), "0851")]
    assert not [key for key in counts if key[2] == "0751"]
    assert ("call_day_stats", date(2026, 10, 31), "0851", "offered") in all_counters(session)
    assert_rollup_matches_a_rebuild(session)
    session.delete(session.scalar(select(Call).where(Call.reference == "DH-R1")))
    session.commit()
    assert rollup_contents(session) == ({}, {})


def test_rebuild_if_empty_fills_only_an_empty_rollup(session, line):
    session.add(Call(reference="DH-R2", state=CallState.ABANDONED, offered_at=datetime.now(UTC)))
    session.commit()
    for table in COUNTERS:
        session.execute(table.delete())
    session.commit()
    assert rebuild_rollup_if_empty(session) == 1
    assert rebuild_rollup_if_empty(session) == 0
    assert len(rollup_contents(session)[0]) == 1


# Every state a call can be in, the unfinished ones too (a report reads those from the calls).
MIXED_STATES = (
    CallState.DONE,
    CallState.DONE,
    CallState.ABANDONED,
    CallState.ELSEWHERE,
    CallState.DONE,
    CallState.LOST,
    CallState.OUTGOING,
    CallState.DONE,
    CallState.WAITING,
    CallState.ACTIVE,
    CallState.WRAP_UP,
)


def mixed_call(n: int, start: datetime) -> Call:
    """Call n of a mix of every state, lengths and municipalities (about 617 minutes apart)."""
    state = MIXED_STATES[n % len(MIXED_STATES)]
    offered = start + timedelta(minutes=617 * n)  # about 4 months, all hours of the week
    answered = offered + timedelta(seconds=(n * 37) % 900)
    if state in (CallState.WAITING, CallState.LOST) or (
        state in (CallState.ABANDONED, CallState.ELSEWHERE, CallState.OUTGOING) and n % 3 == 0
    ):
        answered = None  # (an abandoned call otherwise had an early CTI answer)
    ended = (answered or offered) + timedelta(seconds=30 + (n * 53) % 700)
    if state in (CallState.WAITING, CallState.ACTIVE) or (
        state == CallState.OUTGOING and n % 4 == 1
    ):
        ended = None  # still going
    wrapped_up = state in (CallState.DONE, CallState.ABANDONED)
    return Call(
        reference=f"DH-S{n:04d}",
        direction="out" if state == CallState.OUTGOING else "in",
        municipality_code=("0751", "0851", None)[n % 3],
        line_municipality_code="0751" if n % 6 == 2 else None,
        state=state,
        offered_at=offered,
        answered_at=answered,
        ended_at=ended,
        wrapped_up_at=ended + timedelta(seconds=n % 90) if wrapped_up and ended else None,
        contact_reason_code=("pas", "mitid", None)[n % 3] if answered else None,
        avoidable=n % 5 == 0,
    )


def test_a_report_of_whole_months_equals_the_calls_summed_one_by_one(session, line):
    """The roll-up path (whole months) and the calls path (days around them) agree."""
    start = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
    session.add_all(mixed_call(n, start) for n in range(330))
    session.commit()
    # 15 September to 20 December: two whole months read from the roll-up, the rest from calls.
    first, last = date(2026, 9, 15), date(2026, 12, 20)
    report = cost_report(session=session, start=first, end=last)
    expected: dict[str, Tally] = {}
    columns = [getattr(Call, name) for name in FACT_COLUMNS]
    for values in session.execute(select(*columns)):
        facts = call_facts(*values)
        local_day = values[1].astimezone(COPENHAGEN).date()
        if first <= local_day <= last:
            expected.setdefault(facts.code, Tally()).add_call(facts)
    assert {r.code for r in report.rows} == set(expected)
    for row in report.rows:
        want = expected[row.code]
        for name in SUM_FIELDS:
            assert getattr(row.tally, name) == getattr(want, name), (row.code, name)
        assert Counter(row.tally.counts) + Counter() == Counter(want.counts) + Counter()
    totals = report.totals
    assert min(totals.elsewhere, totals.lost, totals.outgoing, totals.abandoned) > 0
    assert totals.tally.outgoing_seconds > 0
    assert_rollup_matches_a_rebuild(session)


def test_wait_p90_is_the_upper_bound_of_the_bucket_of_the_ninetieth_call():
    tally = Tally()
    for wait in [3] * 80 + [44] * 10 + [700] * 10:
        facts = call_facts(
            "done",
            datetime(2026, 11, 2, 20, tzinfo=UTC),
            datetime(2026, 11, 2, 20, tzinfo=UTC) + timedelta(seconds=wait),
            None,
            None,
            "0751",
            None,
            None,
            False,
        )
        tally.add_call(facts)
    assert tally.wait_p90() == wait_bucket(44) == 45
    assert wait_bucket(0) == 5 and wait_bucket(601) == 900 and wait_bucket(10**6) == 86400
    assert Tally().wait_p90() is None


def test_a_report_over_any_period_reads_calls_only_by_their_unfinished_state(session, line):
    """Cells give the finished calls; the period's calls are never read one by one."""
    session.add_all(mixed_call(n, datetime(2026, 9, 1, 6, 0, tzinfo=UTC)) for n in range(120))
    session.commit()
    engine = session.get_bind()
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        report = cost_report(session=session, start=date(2026, 9, 3), end=date(2026, 11, 17))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert report.totals.offered > 0
    on_calls = [s for s in statements if re.search(r"\bFROM calls\b", s)]
    assert len(on_calls) == 1, on_calls
    assert re.search(r"calls\.state IN", on_calls[0]), on_calls[0]


def finished_call(reference: str, offered: datetime) -> Call:
    return Call(
        reference=reference,
        municipality_code="0751",
        state=CallState.ABANDONED,
        offered_at=offered,
        ended_at=offered + timedelta(seconds=30),
    )


def test_the_cells_are_written_at_commit_and_a_rolled_back_savepoint_drops_its_calls(
    session, line, engine
):
    offered = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    session.add(finished_call("DH-S1", offered))
    session.flush()
    if engine.dialect.name == "postgresql":
        # Flushed but not committed: the shared cell is not written yet, so another transaction
        # writing it does not wait for this one (SQLite has one writer at a time anyway).
        with engine.connect() as other:
            other.execute(text("SET lock_timeout = '1s'"))
            cell = {"month": date(2026, 11, 1), "municipality_code": "0751"}
            other.execute(insert(CallMonthStats.__table__).values(**cell))
            other.rollback()
    with session.begin_nested():
        session.add(finished_call("DH-S2", offered))
    try:
        with session.begin_nested():
            session.add(finished_call("DH-S3", offered))
            session.flush()
            raise RuntimeError("given up")
    except RuntimeError:
        pass
    session.commit()
    stats, _ = rollup_contents(session)
    assert stats[(date(2026, 11, 1), "0751")][:3] == (2, 0, 2)  # S1 and S2, not S3
    assert_rollup_matches_a_rebuild(session)


def test_a_report_read_in_the_same_transaction_counts_calls_not_yet_committed(session, line):
    offered = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    session.add(finished_call("DH-S4", offered))
    report = cost_report(session=session, start=date(2026, 11, 3), end=date(2026, 11, 20))
    assert [r.tally.offered for r in report.rows if r.code == "0751"] == [1]
    session.rollback()
    assert rollup_contents(session) == ({}, {})


def test_writers_of_one_municipalitys_day_at_once_use_shards_and_readers_sum_them(
    session, line, engine
):
    """On PostgreSQL a second writer of the same cells takes another shard instead of waiting."""
    from hotline.db import make_sessionmaker
    from hotline.reports.rollup import write_pending_cells

    offered = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    session.commit()
    session.add(finished_call("DH-P1", offered))
    write_pending_cells(session)  # the cells written, their locks held until the commit
    with make_sessionmaker(engine)() as other:
        if engine.dialect.name == "postgresql":
            other.execute(text("SET lock_timeout = '1s'"))  # waiting for DH-P1's rows fails
        else:
            session.commit()  # one writer at a time: the second comes after the first
        other.add(finished_call("DH-P2", offered))
        other.commit()
    session.commit()
    shards = set(session.scalars(select(CallMonthStats.shard)))
    assert shards == ({0, 1} if engine.dialect.name == "postgresql" else {0})
    stats, _ = rollup_contents(session)
    assert stats[(date(2026, 11, 1), "0751")][:3] == (2, 0, 2)  # both calls, offered and lost
    assert_rollup_matches_a_rebuild(session)
