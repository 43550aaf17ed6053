"""The call-detail export made in a worker process: the same bytes, stopped and broken downloads."""

import multiprocessing
from datetime import date

import pytest

from hotline.db import make_sessionmaker
from hotline.reports import export_pool
from hotline.reports.call_detail import call_detail_csv
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
