"""Exports and cost-report files made in worker processes: the same bytes; stopped, broken work."""

import multiprocessing
from datetime import UTC, date, datetime, timedelta

import pytest

from hotline.db import make_sessionmaker, utcnow
from hotline.kit.errors import InvalidInput
from hotline.reports import export_pool
from hotline.reports.call_detail import call_detail_csv
from hotline.reports.cost_files import cost_report_file
from hotline.reports.filters import ReportFilters
from tests.reports import test_call_detail as detail

# The call-detail tests' calls and supervisor client, as fixtures of this module too.
calls, supervisor = detail.calls, detail.supervisor

PERIOD = ReportFilters(date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def one_worker():
    """A pool of one worker process, ended after the test."""
    export_pool.configure(1)
    yield
    export_pool.configure(0)


def export_workers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name == "hotline-export"]


def test_the_route_exports_in_a_worker_process(supervisor, engine):
    assert export_pool.active()  # the server's default: one worker per core
    supervisor.get("/api/reports/calls.csv", params=detail.NOVEMBER)
    assert export_workers()


def test_a_worker_makes_exactly_the_chunks_made_in_process(
    one_worker,
    database_url,
    engine,
    session,
    calls,
):
    detail.add_call(
        session, 40, "0751", avoidable=True, avoidable_url="https://x.dk/?cpr=0101901234"
    )
    session.commit()
    for dialect in ("excel-da", "rfc4180"):
        here = list(call_detail_csv(make_sessionmaker(engine), PERIOD, dialect))
        there = list(export_pool.call_detail_csv(database_url, PERIOD, dialect))
        assert there == here
    assert b"cpr=XXXXXX-XXXX" in b"".join(there)
    assert b"0101901234" not in b"".join(there)


def test_a_stopped_download_leaves_the_worker_ready(one_worker, database_url, calls):
    whole = b"".join(export_pool.call_detail_csv(database_url, PERIOD, "excel-da"))
    (worker,) = export_workers()
    stopped = export_pool.call_detail_csv(database_url, PERIOD, "excel-da")
    assert next(stopped).startswith(b"\xef\xbb\xbfreference;")
    stopped.close()
    assert b"".join(export_pool.call_detail_csv(database_url, PERIOD, "excel-da")) == whole
    assert export_workers() == [worker]  # the same process, not a new one


def test_a_failed_export_is_an_error_and_the_worker_carries_on(
    one_worker,
    database_url,
    calls,
    tmp_path,
):
    whole = b"".join(export_pool.call_detail_csv(database_url, PERIOD, "rfc4180"))
    missing = f"sqlite:///{tmp_path / 'no-such-folder' / 'x.sqlite3'}"
    with pytest.raises(export_pool.ExportFailed, match="OperationalError"):
        list(export_pool.call_detail_csv(missing, PERIOD, "rfc4180"))
    (worker,) = export_workers()
    assert b"".join(export_pool.call_detail_csv(database_url, PERIOD, "rfc4180")) == whole
    assert export_workers() == [worker]


def test_a_dead_worker_is_replaced(one_worker, database_url, calls):
    whole = b"".join(export_pool.call_detail_csv(database_url, PERIOD, "rfc4180"))
    (worker,) = export_workers()
    worker.kill()
    worker.join(5)
    assert b"".join(export_pool.call_detail_csv(database_url, PERIOD, "rfc4180")) == whole
    assert export_workers() != [worker]


@pytest.fixture
def two_workers():
    """A pool of two worker processes, ended after the test."""
    export_pool.configure(2)
    yield
    export_pool.configure(0)


def cut_at(monkeypatch, boundary, second_start=None) -> None:
    """Two slices meeting at the boundary (the second may start at something else, to break it)."""
    two = [(None, boundary), (second_start or boundary, None)]
    monkeypatch.setattr(export_pool, "slices", lambda _f, n: two if n == 2 else [(None, None)])
    monkeypatch.setattr(export_pool, "_sliced", lambda _url, _filters: True)


def test_two_workers_make_the_same_bytes_in_slices(two_workers, database_url, engine, calls):
    for dialect in ("excel-da", "rfc4180"):
        here = b"".join(call_detail_csv(make_sessionmaker(engine), PERIOD, dialect))
        assert b"".join(export_pool.call_detail_csv(database_url, PERIOD, dialect)) == here
    # PostgreSQL makes the CSV in its own backend: one at a time (export_pool._sliced).
    assert len(export_workers()) == (1 if database_url.startswith("postgresql") else 2)


def test_a_slice_boundary_inside_a_second_splits_no_call(
    two_workers, database_url, engine, session, calls, monkeypatch
):
    second = datetime(2026, 11, 12, 9, 0, 0, tzinfo=UTC)
    for n, micro in enumerate((0, 499_999, 500_000, 700_000), start=50):
        detail.add_call(session, n, "0751", at=second + timedelta(microseconds=micro))
    session.commit()
    cut_at(monkeypatch, second + timedelta(microseconds=500_000))
    whole = b"".join(call_detail_csv(make_sessionmaker(engine), PERIOD, "excel-da"))
    assert whole.count(b"DH-D0005") == 4
    chunks = list(export_pool.call_detail_csv(database_url, PERIOD, "excel-da"))
    assert b"".join(chunks) == whole
    assert len(export_workers()) == 2


def test_a_failed_slice_is_the_export_error_and_both_workers_carry_on(
    two_workers, database_url, calls, monkeypatch
):
    whole = b"".join(export_pool.call_detail_csv(database_url, PERIOD, "rfc4180"))
    cut_at(monkeypatch, datetime(2026, 11, 15, tzinfo=UTC), "not a time")  # the second fails
    got = []
    with pytest.raises(export_pool.ExportFailed):
        for chunk in export_pool.call_detail_csv(database_url, PERIOD, "rfc4180"):
            got.append(chunk)
    assert b"".join(got) == whole[: len(b"".join(got))] and b"DH-D00001" in b"".join(got)
    workers = export_workers()
    assert len(workers) == 2
    monkeypatch.undo()
    assert b"".join(export_pool.call_detail_csv(database_url, PERIOD, "rfc4180")) == whole
    assert export_workers() == workers


def test_a_stopped_sliced_download_leaves_both_workers_ready(
    two_workers, database_url, calls, monkeypatch
):
    cut_at(monkeypatch, datetime(2026, 11, 15, tzinfo=UTC))
    whole = b"".join(export_pool.call_detail_csv(database_url, PERIOD, "excel-da"))
    workers = export_workers()
    stopped = export_pool.call_detail_csv(database_url, PERIOD, "excel-da")
    next(stopped)
    stopped.close()  # the second slice is stopped while it is kept back
    assert b"".join(export_pool.call_detail_csv(database_url, PERIOD, "excel-da")) == whole
    assert export_workers() == workers


def test_short_periods_and_busy_pools_export_in_one_worker(two_workers, database_url, calls):
    day = ReportFilters(date(2026, 11, 10), date(2026, 11, 10))
    assert export_pool._sliced("sqlite:///x", ReportFilters(date(2026, 11, 8), date(2026, 11, 14)))
    assert not export_pool._sliced("sqlite:///x", day)
    assert not export_pool._sliced("postgresql+psycopg://x/y", PERIOD)
    whole = b"".join(export_pool.call_detail_csv(database_url, PERIOD, "rfc4180"))
    busy = export_pool.call_detail_csv(database_url, day, "rfc4180")
    next(busy)  # one worker is taken: the next export does not wait for a second one
    assert b"".join(export_pool.call_detail_csv(database_url, PERIOD, "rfc4180")) == whole
    busy.close()


COST_FILES = (("csv", "excel-da"), ("csv", "rfc4180"), ("xlsx", "excel-da"))


def test_a_worker_makes_exactly_the_cost_report_files_made_in_process(
    one_worker, database_url, session, calls
):
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    for kind, dialect in COST_FILES:
        here = cost_report_file(
            session=session, filters=PERIOD, kind=kind, dialect=dialect, generated_at=at
        )
        there = export_pool.cost_report_file(database_url, PERIOD, kind, dialect, at)
        assert there == here
    csv_bytes, name = export_pool.cost_report_file(database_url, PERIOD, "csv", "rfc4180", at)
    assert name == "opkaldsomkostninger_2026-11-01_2026-11-30-rfc4180.csv"
    assert b"0751" in csv_bytes and b"0851" in csv_bytes  # the period's municipalities


def test_the_cost_routes_make_their_files_in_a_worker(one_worker, supervisor, session, calls):
    before = export_workers()
    answer = supervisor.get("/api/reports/cost.csv", params=detail.NOVEMBER)
    assert answer.status_code == 200
    assert export_workers() and export_workers() != before  # started for it
    here, name = cost_report_file(
        session=session, filters=PERIOD, kind="csv", dialect="excel-da", generated_at=utcnow()
    )
    assert answer.content == here
    assert name in answer.headers["content-disposition"]
    workbook = supervisor.get("/api/reports/cost.xlsx", params=detail.NOVEMBER)
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")


def test_a_failed_cost_report_is_an_error_and_the_worker_carries_on(
    one_worker, database_url, calls, tmp_path
):
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    whole = export_pool.cost_report_file(database_url, PERIOD, "csv", "excel-da", at)
    missing = f"sqlite:///{tmp_path / 'no-such-folder' / 'x.sqlite3'}"
    with pytest.raises(export_pool.ExportFailed, match="OperationalError"):
        export_pool.cost_report_file(missing, PERIOD, "csv", "excel-da", at)
    (worker,) = export_workers()
    assert export_pool.cost_report_file(database_url, PERIOD, "csv", "excel-da", at) == whole
    assert export_workers() == [worker]


def test_a_refused_cost_report_is_the_same_refusal_from_a_worker(
    one_worker, database_url, supervisor
):
    # No cost rate for the period (no calls fixture): the service's InvalidInput, as in-thread.
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused:
        export_pool.cost_report_file(database_url, PERIOD, "csv", "excel-da", at)
    assert refused.value.key == "reports.no_cost_rate"
    assert refused.value.params == {"day": "2026-11-01"}
    answer = supervisor.get("/api/reports/cost.csv", params=detail.NOVEMBER)
    assert answer.status_code == 422
    (worker,) = export_workers()  # the worker that refused carries on
    assert worker.is_alive()
