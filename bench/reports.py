"""Benchmark: the cost report and the call-detail export over years of calls; prints a table.

Uses about 1,000,000 synthetic calls over three years for 50 municipalities (bench/_reports_data:
the demo's generator, with evening and weekend peaks, waits, talk, after-call work, ~5 %
abandoned, a few answered outside Hotline or lost, ~4 % outgoing, some avoidable, and caller
numbers and notes that must never reach the export).
Measures cost_report over 50 random unaligned periods (bench/_reports_periods), then the call-detail
CSV export through the real HTTP route (uvicorn subprocess, one worker): rows/s and the server's
peak memory (VmHWM), beside the database's own bulk export of the same rows (sqlite3 `.mode csv`;
PostgreSQL `COPY ... TO STDOUT`) as the floor. The last line holds the headline figures.

Run: .venv/bin/python -m bench.reports [--calls N] [--postgres URL]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
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
    from bench._reports_data import (
        CALLS,
        FIRST_DAY,
        LAST_DAY,
        PARTICIPATING,
        cached_database,
        postgres_database,
        supervisor_token,
    )
    from bench._reports_periods import time_periods
    from bench._support import Server
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _reports_data import (
        CALLS,
        FIRST_DAY,
        LAST_DAY,
        PARTICIPATING,
        cached_database,
        postgres_database,
        supervisor_token,
    )
    from _reports_periods import time_periods
    from _support import Server

TARGET_REPORT_P95_MS = 200
TARGET_ROWS_PER_S = 100_000
TARGET_FLOOR_RATIO = 0.5
TARGET_PEAK_MB = 200.0


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


def export_over_http(
    base_url: str, token: str, period: tuple[date, date]
) -> tuple[int, float, bool]:
    """GET the call-detail CSV and read the whole body; (rows, seconds, personal data seen)."""
    params = {"from": period[0].isoformat(), "to": period[1].isoformat()}
    headers = {"Authorization": f"Bearer {token}"}
    lines, leaked = 0, False
    begin = time.perf_counter()
    with httpx.stream(
        "GET", f"{base_url}/api/reports/calls.csv", params=params, headers=headers, timeout=120
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(1 << 20):
            lines += chunk.count(b"\n")
            # The generated calls carry caller numbers and notes with a CPR number.
            leaked = leaked or b"+45" in chunk or FICTITIOUS_CPR.encode() in chunk
    return lines - 1, time.perf_counter() - begin, leaked


def floor_query(url: str) -> tuple[str, str]:
    """The same rows' stored columns (and the municipality's name) as SQL; (dialect, sql)."""
    billed = func.coalesce(Call.municipality_code, Call.line_municipality_code)
    columns = ("reference", "offered_at", "state", "answered_at", "ended_at", "wrapped_up_at")
    columns += ("contact_reason_code", "outcome", "avoidable", "avoidable_url")
    query = (
        select(billed, Municipality.name, *(getattr(Call, name) for name in columns))
        .outerjoin(Municipality, Municipality.code == billed)
        .where(calls_of(ReportFilters(FIRST_DAY, LAST_DAY)))
        .order_by(Call.offered_at, Call.id)
    )
    engine = make_engine(url)
    literal = {"literal_binds": True}
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs=literal))
    engine.dispose()
    return engine.dialect.name, sql


def floor_export(url: str, database: Path | None) -> tuple[int, float, str]:
    """The database's own CSV export of the same rows, read as it comes; (rows, seconds, how)."""
    dialect, sql = floor_query(url)
    begin = time.perf_counter()
    lines = 0
    if dialect == "postgresql":
        import psycopg

        plain_url = url.replace("postgresql+psycopg://", "postgresql://")
        with (
            psycopg.connect(plain_url) as connection,
            connection.cursor().copy(f"COPY ({sql}) TO STDOUT WITH CSV") as copy,
        ):
            for _row in copy:  # psycopg gives one row at a time
                lines += 1
        return lines, time.perf_counter() - begin, "PostgreSQL COPY TO STDOUT (psycopg)"
    if cli := shutil.which("sqlite3"):
        with subprocess.Popen([cli, "-csv", str(database), sql], stdout=subprocess.PIPE) as run:
            while chunk := run.stdout.read(1 << 20):
                lines += chunk.count(b"\n")
        return lines, time.perf_counter() - begin, "sqlite3 CLI .mode csv to a pipe"
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
    return lines, time.perf_counter() - begin, how


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS, help="about how many calls")
    parser.add_argument("--rounds", type=int, default=3, help="export and floor runs (median)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("HOTLINE_BENCH_DATABASE_URL"),
        help="a PostgreSQL URL (default: $HOTLINE_BENCH_DATABASE_URL; else SQLite)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-reports-") as tmp_name:
        if args.postgres:
            url, database = args.postgres, None
            postgres_database(url, args.calls)
        else:
            database = Path(tmp_name) / "hotline.sqlite3"
            shutil.copyfile(cached_database(args.calls), database)
            url = f"sqlite:///{database}"
        server = Server("real", url, ready_path="/healthz")
        reports = time_periods(url, FIRST_DAY, LAST_DAY)
        token = supervisor_token(url)
        exports, floors = [], []
        with server:
            pid = server.process.pid
            export_over_http(server.base_url, token, (LAST_DAY, LAST_DAY))  # warm-up
            memory = {"start": memory_mb(pid)[1], "rss": 0.0, "peak": 0.0, "reset": True}
            for _ in range(args.rounds):  # alternating, so both see the same machine
                memory["reset"] &= reset_peak(pid)
                memory["rss"] = max(memory["rss"], memory_mb(pid)[0])
                exports.append(export_over_http(server.base_url, token, (FIRST_DAY, LAST_DAY)))
                memory["peak"] = max(memory["peak"], memory_mb(pid)[1])
                floors.append(floor_export(url, database))
    print_results(args, reports, exports, floors, memory)


def print_results(args, reports, exports, floors, memory) -> None:
    """The table and the headline line."""
    peak_mb = max(memory["start"], memory["peak"])
    export_rows, export_s = exports[0][0], statistics.median(s for _, s, _ in exports)
    leaked = any(seen for _, _, seen in exports)
    floor_rows, floor_s = floors[0][0], statistics.median(s for _, s, _ in floors)
    rows_per_s, floor_per_s = export_rows / export_s, floor_rows / floor_s
    ratio = rows_per_s / floor_per_s
    database = "PostgreSQL" if args.postgres else "SQLite file"
    print(
        f"data: {export_rows:,} calls {FIRST_DAY}..{LAST_DAY}, {PARTICIPATING} municipalities; "
        f"{database}; uvicorn 1 worker on 127.0.0.1, httpx reading the whole body"
    )
    print(
        f"floor: {floors[0][2]}, of the same rows' stored columns and the municipality's name; "
        f"medians of {args.rounds} alternating rounds: export "
        f"{', '.join(f'{s:.2f}' for _, s, _ in exports)} s, floor "
        f"{', '.join(f'{s:.2f}' for _, s, _ in floors)} s"
    )
    print(
        f"server memory: VmHWM {memory['start']:.0f} MB after start-up and a warm-up export; "
        + (
            f"reset to VmRSS ({memory['rss']:.0f} MB) before each export, VmHWM "
            f"{memory['peak']:.0f} MB after it"
            if memory["reset"]
            else f"VmHWM {memory['peak']:.0f} MB after the exports (no /proc clear_refs here)"
        )
    )
    rows = [
        ("cost report p50 (ms)", f"{reports['p50_ms']:.0f}", "", ""),
        ("cost report p95 (ms)", f"{reports['p95_ms']:.0f}", f"<= {TARGET_REPORT_P95_MS:g}",
         reports["p95_ms"] <= TARGET_REPORT_P95_MS),
        ("cost report max (ms)", f"{reports['max_ms']:.0f}", "", ""),
        ("export (rows/s)", f"{rows_per_s:,.0f}", f">= {TARGET_ROWS_PER_S:,}",
         rows_per_s >= TARGET_ROWS_PER_S),
        ("floor (rows/s)", f"{floor_per_s:,.0f}", "", ""),
        ("export / floor", f"{ratio:.2f}", f">= {TARGET_FLOOR_RATIO:g}",
         ratio >= TARGET_FLOOR_RATIO),
        ("server peak memory (MB)", f"{peak_mb:.0f}", f"< {TARGET_PEAK_MB:g}",
         peak_mb < TARGET_PEAK_MB),
        ("export's own peak (MB)",
         f"{memory['peak'] - memory['rss']:.0f}" if memory["reset"] else "n/a", "", ""),
        ("rows exported = floor rows", f"{export_rows == floor_rows}", "True",
         export_rows == floor_rows),
        ("caller numbers or CPR in export", f"{leaked}", "False", not leaked),
    ]  # fmt: skip
    print(
        f"cost report over {len(reports['runs_ms'])} random unaligned periods (ms, in order): "
        + " ".join(f"{ms:.0f}" for ms in reports["runs_ms"])
    )
    print(f"{'name':<30} {'value':>12} {'target':>10} {'ok?':>6}")
    for name, value, target, ok in rows:
        if isinstance(ok, bool):
            ok = "ok" if ok else "MISS"
        print(f"{name:<30} {value:>12} {target:>10} {ok:>6}")
    print(
        f"report_p95_ms={reports['p95_ms']:.0f} export_rows_per_s={rows_per_s:.0f} "
        f"floor_ratio={ratio:.2f} peak_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
