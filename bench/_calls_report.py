"""The figures of bench/calls.py: update delays, bytes per console, lost and doubly taken calls."""

import bisect
import math
from dataclasses import dataclass

try:
    from bench._calls_load import Load
    from bench._support import percentile
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _calls_load import Load
    from _support import percentile

OPEN_OR_DONE = ("active", "wrap_up", "done")


@dataclass
class Surge:
    """One surge round's figures."""

    database: str
    claims: int
    claim_p50: float
    claim_p95: float
    update_p50: float
    update_p95: float
    shown: int
    missed: int
    lag_p99: float
    kb_per_event: float
    kb_per_change: float
    changes: int
    exports: int
    letters: int
    client_cpu: float
    server_cpu: float  # per server process, on average

    @property
    def kb_per_console_change(self) -> float:
        """The stricter of per event received and per change made."""
        return max(self.kb_per_event, self.kb_per_change)


def update_delays(load: Load, start: float, stop: float) -> tuple[list[float], int]:
    """Delays (ms) from a newCall sent to each console showing it; and pairs never shown.

    A console shows a call as its row (the oldest calls) or as the queue's newest call (a call
    that joins a long queue is counted, not listed): the first event naming it or a later call.
    """
    order_of = {reference: order for reference, (_, order) in load.sent.items()}
    measured = [(ref, due, order) for ref, (due, order) in load.sent.items() if start <= due < stop]
    delays, missed = [], 0
    for stream in load.streams:
        times, highs, high = [], [], -1
        for when, reference in stream.newest:
            order = order_of.get(reference, -1)
            if order > high:
                high = order
                times.append(when)
                highs.append(order)
        for reference, due, order in measured:
            seen = stream.rows.get(reference, math.inf)
            at = bisect.bisect_left(highs, order)
            if at < len(highs):
                seen = min(seen, times[at])
            if seen == math.inf:
                missed += 1
            else:
                delays.append(max(0.0, seen - due) * 1000)
    return delays, missed


def lost_and_double(load: Load, rows: dict, agent_ids: list[int]) -> tuple[int, int]:
    """Calls accepted but gone or in the wrong hands; calls two agents were given."""
    lost = double = 0
    for reference in load.sent:
        state, agent = rows.get(reference, (None, None))
        takers = load.claims.get(reference, [])
        if len(takers) > 1:
            double += 1
        elif takers:
            lost += state not in OPEN_OR_DONE or agent != agent_ids[takers[0]]
        elif reference in load.hung_up:
            lost += state != "abandoned"
        else:
            lost += state != "waiting"
    return lost, double


def surge_figures(
    database: str, load: Load, lags: list[float], cpu: tuple[float, float], streams: int
) -> Surge:
    """The round's figures from what the load saw; cpu is the client's and a server's share."""
    start, stop = load.window
    delays, missed = update_delays(load, start, stop)
    received = sum(s.bytes for s in load.streams)
    events = sum(s.events for s in load.streams)
    ranked = delays + [math.inf] * missed
    return Surge(
        database=database,
        claims=len(load.claim_ms),
        claim_p50=percentile(load.claim_ms, 50) if load.claim_ms else math.nan,
        claim_p95=percentile(load.claim_ms, 95) if load.claim_ms else math.nan,
        update_p50=percentile(delays, 50) if delays else math.nan,
        update_p95=percentile(ranked, 95) if ranked else math.nan,
        shown=len(delays),
        missed=missed,
        lag_p99=percentile(lags, 99) if lags else math.nan,
        kb_per_event=received / max(events, 1) / 1000,
        kb_per_change=received / streams / max(load.changes, 1) / 1000,
        changes=load.changes,
        exports=len(load.side["exports"]),
        letters=len(load.side["letters"]),
        client_cpu=cpu[0],
        server_cpu=cpu[1],
    )


def print_surge(s: Surge) -> None:
    """One surge round as a line of the table."""
    print(
        f"{s.database:<10} {s.claims:>6} {s.claim_p50:>8.1f} {s.claim_p95:>8.1f} "
        f"{s.update_p50:>9.0f} {s.update_p95:>9.0f} {s.shown:>8}/{s.missed:<5} {s.lag_p99:>8.1f} "
        f"{s.kb_per_event:>8.2f} {s.kb_per_change:>8.2f} {s.changes:>7} "
        f"{s.exports:>4}/{s.letters:<4} {s.client_cpu:>6.0%} {s.server_cpu:>6.0%}"
    )


SURGE_HEADER = (
    f"{'database':<10} {'claims':>6} {'claim50':>8} {'claim95':>8} {'update50':>9} "
    f"{'update95':>9} {'shown/missed':>14} {'lag99':>8} {'kB/event':>8} {'kB/chg':>8} "
    f"{'changes':>7} {'exp/let':>9} {'client':>6} {'server':>6}"
)


def print_step(database: str, step: dict) -> None:
    """One step of the CTI ramp."""
    p95 = percentile(step["latencies"], 95) if step["latencies"] else math.nan
    verdict = "ok" if step["sustained"] else "breaks"
    print(
        f"{database:<10} offered {step['offered']:>5.0f}/s per process  accepted "
        f"{step['accepted']:>6.1f}/s  p95 {p95:>7.1f} ms  lag p99 {step['lag_p99']:>6.1f} ms  "
        f"server CPU {step['server_cpu']:>4.0%}  {verdict}"
    )
