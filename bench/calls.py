"""Benchmark: the live queue in a surge, on SQLite and PostgreSQL; prints a table (not a test).

Per database: 200 agents, each with a console stream (GET /console/stream with their API token)
spread over the server processes: one on SQLite (a second is refused there), two on PostgreSQL
sharing the queue through LISTEN/NOTIFY. The servers are the real app under uvicorn as
`hotline serve` runs it, with a probe on each event loop (bench/_calls_server.py).

Surge: 110 calls are offered first, then newCalls come at a steady rate while agents claim the
oldest (POST /api/calls/next) only while more than 100 wait, so the queue stays full; each
agent talks 2-4 s, has the call hung up (CTI) and wraps up. A supervisor exports the cost
report as CSV and an agent writes PDF letters (POST /api/calls/{id}/replies), one after another,
all the while. Measured: claim latency; the delay from a newCall being sent to each console
showing it (as its row among the oldest, or as the queue's newest call: a call that joins 100
others is counted, not listed); the servers' event-loop lag (p99 of 10 ms sleeps); bytes per
console per event received and per change made (the larger is the headline); calls lost
(accepted, then gone or in other hands) or given to two agents.

CTI capacity: newCall + hangup pairs, offered open-loop at rising rates per process with the 200
streams open; a step holds when every event is accepted, the accepted rate is at least 95 % of
the offered one and its p95 latency is at most 250 ms. The capacity is the highest step held.

The targets are absolute, not ratios, so there is no floor to alternate with; what is shown is
that the load generator is not the limit: its rate against a plain ASGI app (at least 5x the
highest rate the ramp offers) and its own CPU share during the surge, beside each server
process's share (on average) and the machine's load before and after it. PostgreSQL:
$HOTLINE_BENCH_PG_URL (a fresh database bench_calls on it), else scripts/test-postgres.

Run: .venv/bin/python -m bench.calls [--seconds N] [--rate N] [--step-seconds N]
"""

import argparse
import asyncio
import math
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from hotline.models import install_listeners

try:
    from bench._calls_client import Pool
    from bench._calls_data import agent_ids, build_database, call_rows
    from bench._calls_load import CTI_PATH, Load
    from bench._calls_report import (
        SURGE_HEADER,
        lost_and_double,
        print_step,
        print_surge,
        surge_figures,
    )
    from bench._calls_server import CallsServer, cpu_share, lag_samples
    from bench._support import HOST, Server, percentile, postgres_url
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _calls_client import Pool
    from _calls_data import agent_ids, build_database, call_rows
    from _calls_load import CTI_PATH, Load
    from _calls_report import SURGE_HEADER, lost_and_double, print_step, print_surge, surge_figures
    from _calls_server import CallsServer, cpu_share, lag_samples
    from _support import HOST, Server, percentile, postgres_url

CONSOLES = 200
KEEP_WAITING = 100
PREFILL = 110
SURGE_RATE = 20.0  # newCalls per second in all
RAMP_PER_PROCESS = (25, 50, 100, 150, 200, 300, 400)
RAMP_P95_LIMIT_MS = 250.0
TARGETS = {
    "claim_p95_ms": 50.0,
    "update_p95_ms": 400.0,
    "loop_lag_p99_ms": 25.0,
    "kb_per_console_change": 50.0,
}


async def scenario(load: Load, servers: list[CallsServer], args, label: str):
    """Streams, prefill, the surge, then the ramp; the surge's figures and the ramp's steps."""
    await load.open_streams(CONSOLES)
    await load.offer(50.0, PREFILL / 50.0)
    load.keep_waiting = KEEP_WAITING
    cpu, started = time.process_time(), time.monotonic()
    load_before = os.getloadavg()[0]
    wall = await load.surge(args.rate, 3.0, args.seconds)
    print(f"{label} surge: machine load {load_before:.2f} -> {os.getloadavg()[0]:.2f}")
    client_cpu = (time.process_time() - cpu) / (time.monotonic() - started)
    lags = [x for s in servers for x in lag_samples(s.lag_file, *wall)]
    server_cpu = statistics.fmean(cpu_share(s.lag_file, *wall) for s in servers)
    surge = surge_figures(label, load, lags, (client_cpu, server_cpu), CONSOLES)
    if closed := [s.index for s in load.streams if s.closed.is_set()]:
        print(f"{label}: {len(closed)} console streams closed by the server: {closed[:10]}")
    steps = []
    for rate in RAMP_PER_PROCESS:
        begun = time.time()
        step = await load.ramp_step(rate, args.step_seconds)
        lags = [x for s in servers for x in lag_samples(s.lag_file, begun, time.time())]
        step["lag_p99"] = percentile(lags, 99) if lags else math.nan
        step["server_cpu"] = statistics.fmean(
            cpu_share(s.lag_file, begun, time.time()) for s in servers
        )
        p95 = percentile(step["latencies"], 95) if step["latencies"] else math.inf
        held = step["ok"] and step["accepted"] >= 0.95 * rate and p95 <= RAMP_P95_LIMIT_MS
        step["sustained"] = held
        print_step(label, step)
        steps.append(step)
        if not held:
            break
        await asyncio.sleep(1.0)
    load.close()
    return surge, steps


def run_database(label: str, url: str, processes: int, args) -> tuple:
    """One database: seed, serve, load; the surge, the capacity per process, lost, double."""
    seed = build_database(url, CONSOLES)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-calls-") as tmp, ExitStack() as stack:
        servers = [
            stack.enter_context(CallsServer(url, Path(tmp) / f"data-{i}", Path(tmp) / f"lag-{i}"))
            for i in range(processes)
        ]
        load = Load([(HOST, s.port) for s in servers], seed, CONSOLES)
        load.side_load = not args.no_side
        surge, steps = asyncio.run(scenario(load, servers, args, label))
    ids = agent_ids(url)
    by_index = [ids[f"bench-agent-{i:03d}"] for i in range(CONSOLES)]
    lost, double = lost_and_double(load, call_rows(url), by_index)
    capacity = max((s["offered"] for s in steps if s["sustained"]), default=0.0)
    if load.errors:
        print(f"{label} errors: " + ", ".join(f"{k} x{v}" for k, v in sorted(load.errors.items())))
    return surge, capacity, lost, double


async def _generator_rate(port: int, seconds: float) -> float:
    pool, done = Pool(HOST, port, 48), 0
    stop = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done
        while time.monotonic() < stop:
            await pool.post_form(CTI_PATH, {"event": "newCall", "callId": "x", "to": "1"})
            done += 1

    await asyncio.gather(*(client() for _ in range(48)))
    pool.close()
    return done / seconds


def generator_check(tmp: Path) -> float:
    """The CTI feeder's own rate against a plain ASGI app (requests per second)."""
    body = tmp / "body.json"
    body.write_text('{"reference": "HL-2026-000001"}', encoding="utf-8")
    with Server("raw-asgi", str(body)) as server:
        return asyncio.run(_generator_rate(server.port, 2.0))


def main(argv: list[str] | None = None) -> None:
    install_listeners()  # the product's ORM listeners, as its own processes have them
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured surge length")
    parser.add_argument("--rate", type=float, default=SURGE_RATE, help="surge newCalls/s in all")
    parser.add_argument("--step-seconds", type=float, default=5.0, help="each ramp step")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-side", action="store_true", help="no exports or letters alongside")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-calls-gen-") as tmp:
        generator = generator_check(Path(tmp))
    top = max(RAMP_PER_PROCESS) * 2
    verdict = "ok" if generator >= 5 * top else "TOO SLOW"
    print(
        f"load generator vs a plain ASGI app: {generator:.0f} requests/s "
        f"(>= 5x the ramp's top {top}/s: {verdict})"
    )
    print(
        f"load: {CONSOLES} console streams and agents, >= {KEEP_WAITING} calls waiting, newCalls "
        f"at {args.rate:g}/s for {args.seconds:g} s (+3 s warm-up), talk 2-4 s, a CSV export and "
        f"PDF letters in a loop; ramp steps {args.step_seconds:g} s"
    )
    runs = []
    with tempfile.TemporaryDirectory(prefix="hotline-bench-calls-db-") as tmp:
        if not args.no_sqlite:
            url = f"sqlite:///{Path(tmp) / 'hotline.sqlite3'}"
            runs.append(("sqlite", 1, run_database("sqlite", url, 1, args)))
    if not args.no_postgres and (pg := postgres_url("bench_calls")):
        runs.append(("postgresql", 2, run_database("postgresql", pg, 2, args)))
    print(SURGE_HEADER)
    for _, _, (surge, _, _, _) in runs:
        print_surge(surge)
    for label, processes, (surge, capacity, lost, double) in runs:
        figures = {
            "claim_p95_ms": surge.claim_p95,
            "update_p95_ms": surge.update_p95,
            "loop_lag_p99_ms": surge.lag_p99,
            "kb_per_console_change": surge.kb_per_console_change,
        }
        misses = [k for k, v in figures.items() if not v <= TARGETS[k]]
        misses += ["cti_capacity"] * (capacity < 100) + ["lost"] * (lost > 0)
        misses += ["double"] * (double > 0)
        print(
            f"{label} ({processes} process{'es' if processes > 1 else ''}): "
            f"{'all targets met' if not misses else 'MISSED ' + ', '.join(misses)}"
        )
        print(
            f"claim_p95_ms={surge.claim_p95:.1f} update_p95_ms={surge.update_p95:.0f} "
            f"loop_lag_p99_ms={surge.lag_p99:.1f} "
            f"kb_per_console_change={surge.kb_per_console_change:.2f} "
            f"cti_capacity_per_s={capacity:.0f} lost={lost} double={double}"
        )


if __name__ == "__main__":
    main()
