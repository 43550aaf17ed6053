"""Benchmark: the cost report, and the call-detail export while agents claim calls; prints a table.

Uses 3 million (SQLite) or 10 million (PostgreSQL) synthetic calls over three years for 50
municipalities (bench/_reports_data: the demo's generator, with evening and weekend peaks, waits,
talk, after-call work, ~5 % abandoned, a few answered outside Hotline or lost, ~4 % outgoing, some
avoidable, and caller numbers and notes that must never reach the export).
Measures cost_report over 50 random unaligned periods (bench/_reports_periods), then rounds of
three windows on the real server (uvicorn subprocess, one worker): the claim load alone (the
baseline), the call-detail CSV export of the whole three years through the real HTTP route, and
the floor. All the while 20 agents claim calls through the real routes (bench/_reports_claims:
CTI newCall, POST /api/calls/next, hangup, wrap-up; about 5 claims/s with 100 calls waiting),
and the claims' p95 is given per window.
The floor is the database's own bulk CSV export of the same rows' stored columns and the
municipality's name: the sqlite3 command-line shell (`-csv`, C all the way, writing to a pipe) or
PostgreSQL's `COPY (query) TO STDOUT WITH CSV` read by psycopg. It is fair, and strong: no
competent export of these rows can skip reading them from the database and writing CSV, and
these are the databases' own fastest ways to do both; it does less than the product (no Danish
labels, local times, rounded durations, defused text or masking). It runs alternately with the
product's export, under the same claim load, so both see the same machine.
The load generator is shown fast enough: the same agents with no pause against a raw ASGI app
(capacity, printed) must reach at least 5x the claim rate offered, and its p95 there is what it
adds to a claim's latency. Memory: the server's peak (VmHWM, reset before each export) is the
headline; the export worker processes' peak (their work moved out of the server) is printed too.
The last line holds the headline figures.

Run: .venv/bin/python -m bench.reports [--calls N] [--rounds N] [--postgres URL]
"""

import argparse
import os
import shutil
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.models import install_listeners

try:
    from bench._reports_claims import AGENTS, CYCLE_S, QUEUE_DEPTH, ClaimLoad, capacity, prepare
    from bench._reports_data import (
        CALLS,
        FIRST_DAY,
        LAST_DAY,
        PARTICIPATING,
        POSTGRES_CALLS,
        cached_database,
        postgres_database,
        supervisor_token,
    )
    from bench._reports_export import Rounds, export_over_http
    from bench._reports_periods import time_periods
    from bench._support import HOST, Server, percentile
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _reports_claims import AGENTS, CYCLE_S, QUEUE_DEPTH, ClaimLoad, capacity, prepare
    from _reports_data import (
        CALLS,
        FIRST_DAY,
        LAST_DAY,
        PARTICIPATING,
        POSTGRES_CALLS,
        cached_database,
        postgres_database,
        supervisor_token,
    )
    from _reports_export import Rounds, export_over_http
    from _reports_periods import time_periods
    from _support import HOST, Server, percentile

TARGET_REPORT_P95_MS = 200
TARGET_ROWS_PER_S = 150_000
TARGET_FLOOR_RATIO = 0.5
TARGET_CLAIM_P95_MS = 50.0
TARGET_PEAK_MB = 200.0
GENERATOR_MARGIN = 5
RAW_ANSWER = b'{"id": 1, "reference": "x", "status": "ok"}'


def generator_capacity(tmp: Path):
    """The claim load with no pause against a raw ASGI app: what the generator itself does."""
    body = tmp / "raw.json"
    body.write_bytes(RAW_ANSWER)
    with Server("raw-asgi", str(body)) as raw:
        return capacity(HOST, raw.port)


def main(argv: list[str] | None = None) -> None:
    install_listeners()  # the product's ORM listeners, as its own processes have them
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--calls",
        type=int,
        help=f"about how many calls (default: {CALLS:,} SQLite, {POSTGRES_CALLS:,} PostgreSQL)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="baseline, export and floor rounds")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("HOTLINE_BENCH_DATABASE_URL"),
        help="a PostgreSQL URL (default: $HOTLINE_BENCH_DATABASE_URL; else SQLite)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-reports-") as tmp_name:
        if args.postgres:
            url, database = args.postgres, None
            postgres_database(url, args.calls or POSTGRES_CALLS)
        else:
            database = Path(tmp_name) / "hotline.sqlite3"
            shutil.copyfile(cached_database(args.calls or CALLS), database)
            url = f"sqlite:///{database}"
        server = Server("real", url, ready_path="/healthz")
        reports = time_periods(url, FIRST_DAY, LAST_DAY)
        token = supervisor_token(url)
        after = datetime.combine(LAST_DAY + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
        tokens, numbers = prepare(url, after)
        generator = generator_capacity(Path(tmp_name))
        with server:
            export_over_http(server.base_url, token, (LAST_DAY, LAST_DAY))  # warm-up
            rounds = Rounds(server.process.pid, url, database, (FIRST_DAY, LAST_DAY))
            load = ClaimLoad(HOST, server.port, tokens, numbers).start()
            try:
                rounds.run(server.base_url, token, args.rounds)
            finally:
                tally = load.stop()
        rounds.sort_claims(tally.claims)
    print_results(args, reports, rounds, tally, generator)


def print_results(args, reports, rounds, tally, generator) -> None:
    """Every round, the table and the headline line."""
    exports, floors, baselines = (rounds.of(kind) for kind in ("export", "floor", "baseline"))
    memory = rounds.memory
    peak_mb = max(memory["start"], memory["peak"])
    export_rows, export_s = exports[0].rows, statistics.median(w.seconds for w in exports)
    leaked = any(w.leaked for w in exports)
    floor_rows, floor_s = floors[0].rows, statistics.median(w.seconds for w in floors)
    rows_per_s, floor_per_s = export_rows / export_s, floor_rows / floor_s
    ratio = rows_per_s / floor_per_s
    during = [ms for w in exports for ms in w.claims_ms]
    claim_p95 = percentile(during, 95) if during else float("nan")
    alone = [ms for w in baselines for ms in w.claims_ms]
    offered = AGENTS / CYCLE_S
    able = len(generator.claims) / generator.seconds if generator.seconds else 0.0
    raw_p95 = percentile([ms for _, ms in generator.claims], 95) if generator.claims else 0.0
    database = "PostgreSQL" if args.postgres else "SQLite file"
    print(
        f"data: {export_rows:,} calls {FIRST_DAY}..{LAST_DAY}, {PARTICIPATING} municipalities; "
        f"{database}; uvicorn 1 worker on 127.0.0.1, httpx reading the whole body"
    )
    print(
        f"claim load: {AGENTS} agents, one cycle (newCall, claim, hangup, wrap-up) each about "
        f"every {CYCLE_S:g} s = {offered:g} claims/s offered, {QUEUE_DEPTH} calls waiting; "
        f"{len(tally.claims)} claims in {tally.seconds:.0f} s"
        + (f"; errors: {tally.errors}" if tally.errors else "")
    )
    print(
        f"load generator against a raw ASGI app, no pause: {able:,.0f} claims/s "
        f"({able / offered:.0f}x the offered rate, needs >= {GENERATOR_MARGIN}x), claim p95 "
        f"{raw_p95:.1f} ms there" + (f"; errors: {generator.errors}" if generator.errors else "")
    )
    print(f"floor: {rounds.floor_how}, the same rows' stored columns and the municipality's name")
    print(f"{'round':<6} {'window':<9} {'seconds':>8} {'rows/s':>10} {'claims':>7} {'p95 ms':>8}")
    for n, window in enumerate(rounds.windows):
        rate = f"{window.rows_per_s:,.0f}" if window.rows else ""
        print(
            f"{n // 3 + 1:<6} {window.kind:<9} {window.seconds:>8.2f} {rate:>10} "
            f"{len(window.claims_ms):>7} {window.claim_p95():>8.1f}"
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
        ("claim p95, claims only (ms)",
         f"{percentile(alone, 95):.1f}" if alone else "n/a", "", ""),
        ("claim p95, during export (ms)", f"{claim_p95:.1f}", f"<= {TARGET_CLAIM_P95_MS:g}",
         claim_p95 <= TARGET_CLAIM_P95_MS),
        ("generator capacity / offered", f"{able / offered:.0f}", f">= {GENERATOR_MARGIN}",
         able >= GENERATOR_MARGIN * offered),
        ("server peak memory (MB)", f"{peak_mb:.0f}", f"< {TARGET_PEAK_MB:g}",
         peak_mb < TARGET_PEAK_MB),
        ("export's own peak (MB)",
         f"{memory['peak'] - memory['rss']:.0f}" if memory["reset"] else "n/a", "", ""),
        ("export worker peak (MB)", f"{memory['worker_peak']:.0f}", f"< {TARGET_PEAK_MB:g}",
         memory["worker_peak"] < TARGET_PEAK_MB),
        ("rows exported = floor rows", f"{export_rows == floor_rows}", "True",
         export_rows == floor_rows),
        ("caller numbers or CPR in export", f"{leaked}", "False", not leaked),
    ]  # fmt: skip
    print(
        f"cost report over {len(reports['runs_ms'])} random unaligned periods (ms, in order): "
        + " ".join(f"{ms:.0f}" for ms in reports["runs_ms"])
    )
    print(f"{'name':<31} {'value':>12} {'target':>10} {'ok?':>6}")
    for name, value, target, ok in rows:
        if isinstance(ok, bool):
            ok = "ok" if ok else "MISS"
        print(f"{name:<31} {value:>12} {target:>10} {ok:>6}")
    print(
        f"report_p95_ms={reports['p95_ms']:.0f} export_rows_per_s={rows_per_s:.0f} "
        f"floor_ratio={ratio:.2f} claim_p95_during_export_ms={claim_p95:.1f} peak_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
