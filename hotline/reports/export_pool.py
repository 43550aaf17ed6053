"""Call-detail exports and cost-report files made in worker processes, out of the server's GIL.

Encoding a year of calls is seconds of pure Python; in a thread of the server it holds the GIL
that every claim, stream and page of the same process needs. When the server configures a pool
(HOTLINE_EXPORT_PROCESSES, by default one worker per core), each export runs in a worker process
of its own (one export per worker; a further one waits for a free worker), which reads the
database on its own connection and sends the CSV back in chunks over a pipe. The server's thread
only passes the bytes on. The worker sends a chunk and makes the next while the server sends the
first: the pipe holds the rest back, so memory stays bounded on both sides. A download stopped
half-way tells the worker to stop; the worker is then ready for the next export.

On SQLite, a period of a week or more is cut in two consecutive slices of time, made at once by
two workers when a second is free: the first slice streams as it comes, the second worker keeps
its chunks in a temporary file until the first slice is sent, then sends them and streams on.

A cost report's file (CSV or XLSX) is made whole by one worker and sent back in one message: a
year of roll-up cells is a second of Python, which in a server thread held up its claims.

Guarantee: the bytes are exactly those of call_detail.call_detail_csv and
cost_files.cost_report_file in the server's own thread (with one worker, so are the chunks).
"""

import atexit
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from multiprocessing.connection import Connection

from hotline.db import Listener, install_listeners, installed_listeners
from hotline.reports.filters import ReportFilters
from hotline.reports.period import utc_midnight

log = logging.getLogger(__name__)
# Longer than any pause between two chunks of a healthy worker (a batch takes milliseconds).
CHUNK_TIMEOUT_S = 300
STOP = "stop"
GO = "go"  # a slice kept back: send it now
DETAIL, COST = "detail", "cost"  # what a request asks for
SLICED_FROM_DAYS = 7  # a shorter period is quick in one worker

_lock = threading.Condition()
_processes = 0
_idle: list["_Worker"] = []
_running = 0  # workers taken out of _idle, or being started


class ExportFailed(RuntimeError):
    """The worker could not make the export (its own error is logged in the worker)."""


def configure(processes: int | None) -> None:
    """Export in up to this many worker processes (None: one per core; 0: in the calling thread)."""
    global _processes
    wanted = (os.cpu_count() or 1) if processes is None else max(0, processes)
    surplus = []
    with _lock:
        _processes = wanted
        while _idle and len(_idle) + _running > wanted:
            surplus.append(_idle.pop())
        _lock.notify_all()
    for worker in surplus:
        worker.kill()


def active() -> bool:
    """Whether exports go to worker processes."""
    return _processes > 0


def call_detail_csv(database_url: str, filters: ReportFilters, dialect: str) -> Iterator[bytes]:
    """The export's chunks, made by worker processes; closing the generator stops them."""
    workers = [_take()]
    finished = [False]
    try:
        if _sliced(database_url, filters) and (second := _take(wait=False)):  # never wait
            workers.append(second)
            finished.append(False)
        parts = slices(filters, len(workers))
        for n, (worker, part) in enumerate(zip(workers, parts, strict=True)):
            worker.connection.send((DETAIL, database_url, filters, dialect, part, n > 0))
        for n, worker in enumerate(workers):
            if n:
                worker.connection.send(GO)
            while True:
                kind, payload = worker.receive()
                if kind == "chunk":
                    yield payload
                    continue
                finished[n] = True
                if kind == "end":
                    break
                raise ExportFailed(payload)
    finally:
        for worker, done in zip(workers, finished, strict=True):
            if not done and not worker.stop():
                worker.kill()
                worker = None
            _give_back(worker)


def cost_report_file(
    database_url: str, filters: ReportFilters, kind: str, dialect: str, generated_at: datetime
) -> tuple[bytes, str]:
    """The cost report's file and name (see cost_files.cost_report_file), made by a worker."""
    worker = _take()
    try:
        worker.connection.send((COST, database_url, filters, kind, dialect, generated_at))
        answer, payload = worker.receive()
    except BaseException:
        worker.kill()
        _give_back(None)
        raise
    _give_back(worker)
    if answer == "refused":  # a service's refusal, raised here as the route expects it
        error, key, params = payload
        raise error(key, **params)
    if answer != "file":
        raise ExportFailed(payload)
    return payload


def _sliced(database_url: str, filters: ReportFilters) -> bool:
    """Whether two workers would make the export faster without holding up anything else."""
    # PostgreSQL builds the CSV in its own (un-niced) backend: a second slice would be a second
    # backend busy beside the claims, for little gain (measured in bench/reports.py).
    on_postgres = database_url.startswith("postgresql")
    return not on_postgres and (filters.end - filters.start).days + 1 >= SLICED_FROM_DAYS


def slices(filters: ReportFilters, count: int) -> list[tuple[datetime | None, datetime | None]]:
    """The period cut in count consecutive slices of time (UTC, each end excluded)."""
    since = utc_midnight(filters.start)
    step = (utc_midnight(filters.end + timedelta(days=1)) - since) / count
    cuts = [None, *(since + step * n for n in range(1, count)), None]
    return list(zip(cuts, cuts[1:], strict=False))


class _Worker:
    """One worker process and the server's end of its pipe."""

    def __init__(self) -> None:
        # spawn, not fork: the server process has threads (and locks held by them).
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        # A spawned process starts with no listener on: it gets the server's.
        self.process = context.Process(
            target=_serve, args=(child, installed_listeners()), name="hotline-export", daemon=True
        )
        self.process.start()
        child.close()

    def receive(self) -> tuple[str, object]:
        """The worker's next message; a dead or silent worker is an error."""
        if not self.connection.poll(CHUNK_TIMEOUT_S):
            raise ExportFailed(f"no answer from the export worker in {CHUNK_TIMEOUT_S} s")
        try:
            return self.connection.recv()
        except (EOFError, OSError) as exc:
            raise ExportFailed("the export worker died") from exc

    def stop(self) -> bool:
        """Stop the export under way and read what it still sends; whether the worker is fit."""
        try:
            self.connection.send(STOP)
            while self.receive()[0] == "chunk":
                pass
        except (ExportFailed, OSError):
            return False
        return True

    def kill(self) -> None:
        """End the process (a worker that broke off or no longer answers)."""
        self.connection.close()
        self.process.kill()
        self.process.join(5)


def _take(*, wait: bool = True) -> _Worker | None:
    """A worker for an export; without wait, None unless one is free (or may be started) now."""
    global _running
    with _lock:
        while not _idle and _running >= _processes:
            if not wait:
                return None
            _lock.wait()
        _running += 1
        worker = _idle.pop() if _idle else None
    if worker is not None and worker.process.is_alive():
        return worker
    if worker is not None:  # died while idle
        worker.kill()
    try:
        return _Worker()
    except BaseException:
        _give_back(None)
        raise


def _give_back(worker: _Worker | None) -> None:
    """A worker back to the idle ones (None: one that is gone); a surplus one is ended."""
    global _running
    with _lock:
        _running -= 1
        if worker is not None and len(_idle) + _running < _processes:
            _idle.append(worker)
            worker = None
        _lock.notify()
    if worker is not None:
        worker.kill()


@atexit.register
def _shut_down() -> None:
    with _lock:
        workers = list(_idle)
        _idle.clear()
    for worker in workers:
        worker.kill()


def _serve(connection: Connection, listeners: tuple[Listener, ...]) -> None:
    """In a worker: make the exports the server asks for, one at a time, until the pipe closes."""
    from hotline.reports.export_worker import serve

    install_listeners(listeners)
    serve(connection)
