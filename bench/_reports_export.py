"""The reports bench's export rounds: the product over HTTP, the database's own CSV, memory.

Every round has a window with only the claim load (the baseline), then the export through the
real route, then the floor; each window's start and end on the monotonic clock, so the claims
the load made in it can be told apart.
"""

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import func, select

from hotline.calls.models import Call
from hotline.db import make_engine
from hotline.municipalities.models import Municipality
from hotline.reports.filters import ReportFilters, calls_of
from hotline.reports.synthetic_calls import FICTITIOUS_CPR

try:
    from bench._support import percentile
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _support import percentile

BASELINE_S = 5.0


@dataclass
class Window:
    """One timed part of a round: what ran, when, and what it did."""

    kind: str  # "baseline", "export" or "floor"
    start: float
    end: float
    rows: int = 0
    leaked: bool = False
    claims_ms: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """How long it took."""
        return self.end - self.start

    @property
    def rows_per_s(self) -> float:
        """Rows a second (0 for a baseline)."""
        return self.rows / self.seconds if self.rows else 0.0

    def claim_p95(self) -> float:
        """The claims' p95 in this window (NaN with none)."""
        return percentile(self.claims_ms, 95) if self.claims_ms else float("nan")


def memory_mb(pid: int) -> tuple[float, float]:
    """The process's resident memory now and its high-water mark, in MB (Linux /proc)."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status)
    return tuple(int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))


def reset_peak(pid: int) -> bool:
    """Set the process's high-water mark back to its resident memory now (Linux 4.0+)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def children(pid: int) -> list[int]:
    """The process's child processes (the export and render workers, the resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def export_over_http(base_url: str, token: str, period: tuple[date, date]) -> Window:
    """GET the call-detail CSV and read the whole body; its rows and personal data seen."""
    params = {"from": period[0].isoformat(), "to": period[1].isoformat()}
    headers = {"Authorization": f"Bearer {token}"}
    window = Window("export", time.monotonic(), 0.0)
    lines, leaked = 0, False
    with httpx.stream(
        "GET", f"{base_url}/api/reports/calls.csv", params=params, headers=headers, timeout=120
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(1 << 20):
            lines += chunk.count(b"\n")
            # The generated calls carry caller numbers and notes with a CPR number.
            leaked = leaked or b"+45" in chunk or FICTITIOUS_CPR.encode() in chunk
    window.end, window.rows, window.leaked = time.monotonic(), lines - 1, leaked
    return window


def floor_query(url: str, first: date, last: date) -> tuple[str, str]:
    """The same rows' stored columns (and the municipality's name) as SQL; (dialect, sql)."""
    billed = func.coalesce(Call.municipality_code, Call.line_municipality_code)
    columns = ("reference", "offered_at", "state", "answered_at", "ended_at", "wrapped_up_at")
    columns += ("contact_reason_code", "outcome", "avoidable", "avoidable_url")
    query = (
        select(billed, Municipality.name, *(getattr(Call, name) for name in columns))
        .outerjoin(Municipality, Municipality.code == billed)
        .where(calls_of(ReportFilters(first, last)))
        .order_by(Call.offered_at, Call.id)
    )
    engine = make_engine(url)
    literal = {"literal_binds": True}
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs=literal))
    engine.dispose()
    return engine.dialect.name, sql


def floor_export(url: str, database: Path | None, sql: str) -> tuple[Window, str]:
    """The database's own CSV export of the same rows, read as it comes; (window, how)."""
    window = Window("floor", time.monotonic(), 0.0)
    lines = 0
    if database is None:
        import psycopg

        plain_url = url.replace("postgresql+psycopg://", "postgresql://")
        with (
            psycopg.connect(plain_url) as connection,
            connection.cursor().copy(f"COPY ({sql}) TO STDOUT WITH CSV") as copy,
        ):
            for _row in copy:  # psycopg gives one row at a time
                lines += 1
        how = "PostgreSQL COPY TO STDOUT (psycopg)"
    elif cli := shutil.which("sqlite3"):
        with subprocess.Popen([cli, "-csv", str(database), sql], stdout=subprocess.PIPE) as run:
            while chunk := run.stdout.read(1 << 20):
                lines += chunk.count(b"\n")
        how = "sqlite3 CLI .mode csv to a pipe"
    else:
        import csv
        import sqlite3

        with (
            sqlite3.connect(database) as connection,
            tempfile.TemporaryFile("w", encoding="utf-8", newline="") as sink,
        ):
            writer, cursor = csv.writer(sink), connection.execute(sql)
            while rows := cursor.fetchmany(10_000):
                writer.writerows(rows)
                lines += len(rows)
        how = "no sqlite3 CLI here: Python's sqlite3 module and csv writing a temporary file"
    window.end, window.rows = time.monotonic(), lines
    return window, how


class Rounds:
    """Baseline, export and floor, round after round, with the server's and workers' memory."""

    def __init__(self, server_pid: int, url: str, database: Path | None, period) -> None:
        self.pid, self.url, self.database, self.period = server_pid, url, database, period
        self.sql = floor_query(url, *period)[1]
        self.windows: list[Window] = []
        self.floor_how = ""
        self.memory = {"start": memory_mb(server_pid)[1], "rss": 0.0, "peak": 0.0}
        self.memory |= {"reset": True, "worker_peak": 0.0}

    def run(self, base_url: str, token: str, rounds: int) -> None:
        """The rounds, one after the other."""
        for _ in range(rounds):
            begin = time.monotonic()
            time.sleep(BASELINE_S)
            self.windows.append(Window("baseline", begin, time.monotonic()))
            workers = children(self.pid)
            for pid in [self.pid, *workers]:
                self.memory["reset"] &= reset_peak(pid)
            self.memory["rss"] = max(self.memory["rss"], memory_mb(self.pid)[0])
            self.windows.append(export_over_http(base_url, token, self.period))
            self.memory["peak"] = max(self.memory["peak"], memory_mb(self.pid)[1])
            for pid in children(self.pid):
                try:
                    peak = memory_mb(pid)[1]
                except OSError:  # gone in the meantime
                    continue
                self.memory["worker_peak"] = max(self.memory["worker_peak"], peak)
            floor, self.floor_how = floor_export(self.url, self.database, self.sql)
            self.windows.append(floor)

    def sort_claims(self, claims: list[tuple[float, float]]) -> None:
        """Give each window the claims that started in it."""
        for start, ms in claims:
            for window in self.windows:
                if window.start <= start < window.end:
                    window.claims_ms.append(ms)
                    break

    def of(self, kind: str) -> list[Window]:
        """The windows of one kind, in order."""
        return [window for window in self.windows if window.kind == kind]
