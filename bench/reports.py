"""Benchmark: the cost report and the call-detail export over years of calls; prints a table.

Generates 1,000,000 calls over three years for 50 municipalities (evening, night and weekend
peaks; waits, talk, after-call work; ~5 % abandoned; some avoidable), cached under bench/.cache/
by a version string. Measures cost_report over the whole period (warm, median) and one month,
then the call-detail CSV export through the real HTTP route (uvicorn subprocess, one worker):
rows/s and the server's peak memory (VmHWM), beside the database's own bulk export of the same
rows (sqlite3 `.mode csv`; PostgreSQL `COPY ... TO STDOUT`) as the floor. The last line holds the
headline figures.

Run: .venv/bin/python bench/reports.py [--calls N] [--postgres URL]
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.auth.service import create_user, issue_api_token
from hotline.calls.models import Call, CallState, Outcome
from hotline.calls.reasons import CONTACT_REASONS, seed_contact_reasons
from hotline.db import make_engine, make_sessionmaker
from hotline.demo import demo_dialled_number
from hotline.kit.dates import COPENHAGEN
from hotline.migrate import upgrade_database
from hotline.municipalities.models import Municipality
from hotline.municipalities.service import load_municipalities
from hotline.reports.call_detail import calls_of
from hotline.reports.facts import FACT_COLUMNS, FINISHED_STATES, Tally, call_facts
from hotline.reports.filters import ReportFilters
from hotline.reports.rates import ensure_default_cost_rate
from hotline.reports.rollup import rebuild_rollup, write_tallies
from hotline.reports.service import cost_report

try:
    from bench._support import PROJECT_ROOT, UVICORN_OPTIONS, Server
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _support import PROJECT_ROOT, UVICORN_OPTIONS, Server

# Bump when the generated data changes: the cached database is keyed by it.
DATA_VERSION = "reports-v1"
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
SEED = 20261204
CALLS = 1_000_000
PARTICIPATING = 50
FIRST_DAY, LAST_DAY = date(2023, 12, 1), date(2026, 11, 30)
ONE_MONTH = (date(2026, 11, 1), date(2026, 11, 30))
SUPERVISOR = "bench-reports-supervisor"
INSERT_BATCH = 50_000
ROLLUP_KEYS_PER_STATEMENT = 20  # about 230 counters of 5 parameters each per key
REPORT_RUNS = 5
ABANDONED_SHARE = 0.05
AVOIDABLE_SHARE = 0.08
TARGET_REPORT_S = 1.0
TARGET_ROWS_PER_S = 100_000
TARGET_FLOOR_RATIO = 0.5
TARGET_PEAK_MB = 200.0
# Relative call volume by local hour: weekdays (municipalities open 8-15, Friday to 13),
# and weekends (closed all day).
WEEKDAY_HOURS = (3, 2, 1, 1, 1, 1, 2, 3, 1, 1, 1, 1, 1, 1, 2, 5, 8, 9, 10, 11, 10, 8, 6, 4)
FRIDAY_HOURS = (3, 2, 1, 1, 1, 1, 2, 3, 1, 1, 1, 1, 1, 4, 6, 7, 8, 8, 8, 8, 8, 7, 6, 5)
WEEKEND_HOURS = (4, 3, 2, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 7, 7, 7, 7, 8, 9, 10, 9, 8, 6, 5)
REASON_WEIGHTS = {"mitid": 18, "digital-post": 12, "selvbetjening": 9, "pas": 7, "andet": 6}
OUTCOMES = ((Outcome.ANSWERED, 75), (Outcome.REFERRED, 14), (Outcome.CALLBACK, 8))
OUTCOMES += ((Outcome.NOT_HELPED, 3),)
AVOIDABLE_URLS = (
    "https://www.borger.dk/mitid",
    "https://www.borger.dk/pas-og-id",
    "https://www.borger.dk/digital-post",
    "https://www.borger.dk/bolig-og-flytning/flytning",
    "https://selvbetjening.kommune.dk/affald",
)
# Every row has every key: an executemany binds the first row's keys.
UNANSWERED = dict.fromkeys(
    ("answered_at", "wrapped_up_at", "contact_reason_code", "outcome", "avoidable_url")
)
NOTES = (
    "Borger ringede fra {phone} om MitID; CPR {cpr} oplyst, henvist til borger.dk.",
    "Spørgsmål om pasfornyelse, tid bestilt.",
    "Ønsker opringning i morgen på {phone}.",
)


def cached_database(calls: int) -> Path:
    """The generated SQLite database for this version and size, built once and kept."""
    path = CACHE_DIR / f"{DATA_VERSION}-{calls}.sqlite3"
    if path.exists():
        return path
    CACHE_DIR.mkdir(exist_ok=True)
    (CACHE_DIR / ".gitignore").write_text("*\n", encoding="utf-8")
    building = path.with_suffix(".building")
    for stale in CACHE_DIR.glob(f"{building.name}*"):
        stale.unlink()
    start = time.perf_counter()
    generate(f"sqlite:///{building}", calls)
    building.rename(path)
    print(f"generated {calls:,} calls into {path.name} in {time.perf_counter() - start:.1f} s")
    return path


def generate(url: str, calls: int) -> None:
    """Migrate, load the reference data, insert the calls with Core, rebuild the roll-up."""
    rng = random.Random(SEED)
    upgrade_database(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        load_municipalities(session=session)
        seed_contact_reasons(session=session)
        ensure_default_cost_rate(session=session)
        create_user(
            session=session,
            username=SUPERVISOR,
            full_name="Bench Supervisor",
            password="bench-password-123456",
            role=Role.SUPERVISOR,
        )
        every_code = sorted(session.scalars(select(Municipality.code)))
        codes = sorted(rng.sample(every_code, PARTICIPATING))
        for code in codes:
            session.execute(
                update(Municipality)
                .where(Municipality.code == code)
                .values(participating=True, dialled_number=demo_dialled_number(code))
            )
        session.commit()
        rows = call_rows(rng, codes, calls)
        for first in range(0, len(rows), INSERT_BATCH):
            session.execute(insert(Call), rows[first : first + INSERT_BATCH])
        session.commit()
        try:
            rebuild_rollup(session)
        except DBAPIError as exc:  # one upsert of every row can pass the bound-parameter limit
            session.rollback()
            print(f"rebuild_rollup failed ({exc.orig}); rebuilt in chunks instead")
            rebuild_rollup_in_chunks(session)
        session.commit()
    engine.dispose()


def rebuild_rollup_in_chunks(session: Session) -> None:
    """rebuild_rollup, writing a few (month, municipality) keys per statement."""
    columns = [getattr(Call, name) for name in FACT_COLUMNS]
    query = select(*columns).where(Call.state.in_(FINISHED_STATES))
    tallies: dict = defaultdict(Tally)
    for row in session.execute(query.execution_options(yield_per=20_000)):
        facts = call_facts(*row)
        tallies[(facts.month, facts.code)].add_call(facts)
    keys = sorted(tallies)
    for first in range(0, len(keys), ROLLUP_KEYS_PER_STATEMENT):
        write_tallies(
            session, {key: tallies[key] for key in keys[first : first + ROLLUP_KEYS_PER_STATEMENT]}
        )


def call_rows(rng: random.Random, codes: list[str], calls: int) -> list[dict]:
    """The calls as Core insert parameters, in the order they were offered."""
    sizes = [rng.lognormvariate(0, 0.9) for _ in codes]
    days = [FIRST_DAY + timedelta(n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
    # Weekends are busier, volume grows 15 % a year, and January brings the MitID renewals.
    day_weights = [
        (1.6 if d.weekday() >= 5 else 1.0)
        * (1 + 0.15 * (d - FIRST_DAY).days / 365)
        * (1.3 if d.month == 1 else 1.0)
        for d in days
    ]
    hour_weights = [WEEKDAY_HOURS] * 4 + [FRIDAY_HOURS] + [WEEKEND_HOURS] * 2
    hours = range(24)
    reasons = [code for code, _, _ in CONTACT_REASONS]
    reason_weights = [REASON_WEIGHTS.get(code, 3) for code in reasons]
    outcomes, outcome_weights = zip(*OUTCOMES, strict=True)
    offered = []
    for day in rng.choices(days, day_weights, k=calls):
        hour = rng.choices(hours, hour_weights[day.weekday()])[0]
        local = datetime(day.year, day.month, day.day, hour, tzinfo=COPENHAGEN)
        offered.append(local.astimezone(UTC) + timedelta(seconds=rng.random() * 3600))
    offered.sort()
    rows = []
    for n, at in enumerate(offered):
        line = rng.choices(codes, sizes)[0]
        chosen = line if rng.random() < 0.9 else rng.choice(codes)
        if rng.random() < 0.03:  # hung up or wrapped up before the agent chose one
            chosen = None
        row = {
            "reference": f"DH-B{n:07d}",
            "cti_call_id": f"bench-{n}",
            "from_number": f"+45{rng.randrange(20_000_000, 99_999_999)}",
            "to_number": demo_dialled_number(line),
            "line_municipality_code": line if rng.random() > 0.001 else None,
            "municipality_code": chosen,
            "offered_at": at,
            "notes": "",
            "avoidable": False,
        }
        if rng.random() < ABANDONED_SHARE:
            gave_up = at + timedelta(seconds=min(rng.lognormvariate(4.4, 0.8), 1800))
            row |= {"state": CallState.ABANDONED, "ended_at": gave_up, **UNANSWERED}
        else:
            answered = at + timedelta(seconds=min(rng.lognormvariate(3.3, 0.9), 1800))
            ended = answered + timedelta(seconds=min(rng.lognormvariate(5.4, 0.6), 5400))
            wrapped = ended + timedelta(seconds=min(rng.lognormvariate(4.0, 0.7), 1800))
            avoidable = rng.random() < AVOIDABLE_SHARE
            note = rng.choice(NOTES) if rng.random() < 0.4 else ""
            row |= {
                "state": CallState.DONE,
                "answered_at": answered,
                "ended_at": ended,
                "wrapped_up_at": wrapped,
                "contact_reason_code": rng.choices(reasons, reason_weights)[0],
                "outcome": rng.choices(outcomes, outcome_weights)[0],
                "notes": note.format(phone=row["from_number"], cpr="010190-1234"),
                "avoidable": avoidable,
                "avoidable_url": rng.choice(AVOIDABLE_URLS) if avoidable else None,
            }
        rows.append(row)
    return rows


def time_reports(url: str) -> dict[str, float]:
    """cost_report over the whole period and over one month: median seconds of warm runs."""
    engine = make_engine(url)
    timings = {}
    with make_sessionmaker(engine)() as session:
        for name, (start, end) in {"report": (FIRST_DAY, LAST_DAY), "month": ONE_MONTH}.items():
            runs = []
            for _ in range(REPORT_RUNS + 1):  # the first run warms the caches
                begin = time.perf_counter()
                cost_report(session=session, start=start, end=end)
                runs.append(time.perf_counter() - begin)
                session.rollback()
            timings[name] = statistics.median(runs[1:])
    engine.dispose()
    return timings


def supervisor_token(url: str) -> str:
    """A fresh API token of the bench's supervisor."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        user = session.scalars(select(User).where(User.username == SUPERVISOR)).one()
        token = issue_api_token(session=session, user=user, name="bench")
        session.commit()
    engine.dispose()
    return token


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


def export_over_http(base_url: str, token: str, period: tuple[date, date]) -> tuple[int, float]:
    """GET the call-detail CSV and read the whole body; (rows, seconds)."""
    params = {"from": period[0].isoformat(), "to": period[1].isoformat()}
    headers = {"Authorization": f"Bearer {token}"}
    lines = 0
    begin = time.perf_counter()
    with httpx.stream(
        "GET", f"{base_url}/api/reports/calls.csv", params=params, headers=headers, timeout=120
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(1 << 20):
            lines += chunk.count(b"\n")
    return lines - 1, time.perf_counter() - begin


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


def postgres_database(url: str, calls: int) -> None:
    """Generate the calls into an empty PostgreSQL database, or reuse the bench's own data."""
    upgrade_database(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(Call))
        ours = connection.scalar(select(func.count()).where(User.username == SUPERVISOR))
    engine.dispose()
    if count == calls and ours:
        return
    if count:
        sys.exit(f"{url} holds {count} other calls: give the bench an empty database")
    start = time.perf_counter()
    generate(url, calls)
    print(f"generated {calls:,} calls into PostgreSQL in {time.perf_counter() - start:.1f} s")


class PostgresServer(Server):
    """The real app on a PostgreSQL URL (the "real" kind takes its data dir from a SQLite path)."""

    def __init__(self, url: str, data_dir: Path) -> None:
        super().__init__("real", url, ready_path="/healthz")
        self.data_dir = data_dir

    def __enter__(self) -> "PostgresServer":
        command = [sys.executable, "-m", "bench.reports", "serve", str(self.port), self.arg]
        self.process = subprocess.Popen([*command, str(self.data_dir)], cwd=PROJECT_ROOT)
        for _ in range(300):
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                httpx.get(self.base_url + self.ready_path, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"server did not start on {self.base_url}")


def _serve_postgres(port: int, url: str, data_dir: str) -> None:
    import uvicorn

    from hotline.config import Settings
    from hotline.main import create_app

    settings = Settings(
        database_url=url,
        data_dir=Path(data_dir),
        demo_mode=True,
        outbox_worker=False,
        purge_worker=False,
        secret_key="bench-secret-key-not-for-production",
        cti_token="bench-cti-token",
    )
    uvicorn.run(create_app(settings), port=port, **UVICORN_OPTIONS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS, help="calls to generate")
    parser.add_argument("--rounds", type=int, default=3, help="export and floor runs (median)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("HOTLINE_BENCH_DATABASE_URL"),
        help="a PostgreSQL URL (default: $HOTLINE_BENCH_DATABASE_URL; else SQLite)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-reports-") as tmp_name:
        tmp = Path(tmp_name)
        if args.postgres:
            url, database = args.postgres, None
            postgres_database(url, args.calls)
            server = PostgresServer(url, tmp)
        else:
            database = tmp / "hotline.sqlite3"
            shutil.copyfile(cached_database(args.calls), database)
            url = f"sqlite:///{database}"
            server = Server("real", url, ready_path="/healthz")
        reports = time_reports(url)
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
    export_rows, export_s = exports[0][0], statistics.median(s for _, s in exports)
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
        f"{', '.join(f'{s:.2f}' for _, s in exports)} s, floor "
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
        ("cost report, 3 years (s)", f"{reports['report']:.3f}", f"< {TARGET_REPORT_S:g}",
         reports["report"] < TARGET_REPORT_S),
        ("cost report, 1 month (s)", f"{reports['month']:.3f}", "", ""),
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
    ]  # fmt: skip
    print(f"{'name':<30} {'value':>12} {'target':>10} {'ok?':>6}")
    for name, value, target, ok in rows:
        if isinstance(ok, bool):
            ok = "ok" if ok else "MISS"
        print(f"{name:<30} {value:>12} {target:>10} {ok:>6}")
    print(
        f"report_s={reports['report']:.3f} export_rows_per_s={rows_per_s:.0f} "
        f"floor_ratio={ratio:.2f} peak_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        _serve_postgres(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        main()
