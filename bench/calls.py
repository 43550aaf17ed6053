"""Benchmark: the live call queue under load; prints a table (not a timed test).

The real server (uvicorn subprocess, one worker, SQLite) takes a CTI stream of 10 events/s for
60 s (newCall, and hangup for calls the agents have finished talking on), while 50 simulated
agents claim the oldest waiting call (POST /api/calls/next), talk 1-3 s and wrap up, and 20
console streams (GET /console/stream, agents' bearer tokens) watch the queue. A call rings for
1 s before an agent takes it (as a person answering, not a tight loop), so every console has the
chance to show it. Measures claim latency, the delay from a newCall being sent to its row in each
console's queue, the events/s sustained, and calls lost or claimed twice. The last line holds
the headline figures.

Run: .venv/bin/python bench/calls.py [--seconds N]
"""

import argparse
import math
import queue
import random
import re
import tempfile
import threading
import time
from collections import OrderedDict, defaultdict
from pathlib import Path

import httpx
from sqlalchemy import select, update

from hotline.auth.models import Role
from hotline.auth.service import create_user, issue_api_token
from hotline.calls.models import Call, CallState
from hotline.calls.reasons import seed_contact_reasons
from hotline.db import make_engine, make_sessionmaker
from hotline.demo import demo_dialled_number
from hotline.migrate import upgrade_database
from hotline.municipalities.models import Municipality
from hotline.municipalities.service import load_municipalities

try:
    from bench._support import Server, percentile
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _support import Server, percentile

SEED = 20261124
DURATION_S = 60.0
CTI_EVENTS_PER_S = 10.0
AGENTS = 50
STREAMS = 20
PARTICIPATING = 10
RING_S = 1.0
TALK_S = (1.0, 3.0)
EMPTY_BACKOFF_S = (0.1, 0.2)
HANGUP_WAIT_S = 2.0
DRAIN_S = 20.0
CTI_PATH = "/api/cti/bench-cti-token"  # the token bench._support.Server configures
REASON = "mitid"
TARGET_CLAIM_P95_MS = 50.0
TARGET_UPDATE_P95_MS = 500.0
REFERENCE = re.compile(r'data-reference="([^"]+)"')
OPEN_OR_DONE = (CallState.ACTIVE, CallState.WRAP_UP, CallState.DONE)


def build_database(url: str) -> tuple[list[str], list[str]]:
    """Migrate and seed the database; returns (agents' API tokens, participating numbers)."""
    rng = random.Random(SEED)
    upgrade_database(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        load_municipalities(session=session)
        codes = sorted(
            rng.sample(sorted(session.scalars(select(Municipality.code))), PARTICIPATING)
        )
        for code in codes:
            session.execute(
                update(Municipality)
                .where(Municipality.code == code)
                .values(participating=True, dialled_number=demo_dialled_number(code))
            )
        seed_contact_reasons(session=session)
        tokens = []
        for n in range(AGENTS):
            user = create_user(
                session=session,
                username=f"bench-agent-{n:02d}",
                full_name=f"Bench Agent {n:02d}",
                password="bench-password-123456",
                role=Role.AGENT,
            )
            tokens.append(issue_api_token(session=session, user=user, name="bench"))
        session.commit()
    engine.dispose()
    return tokens, [demo_dialled_number(code) for code in codes]


class CallsBench:
    """The shared state of one run: what the CTI thread, agents and streams saw, and when."""

    def __init__(self, base_url: str, tokens: list[str], numbers: list[str], seconds: float):
        self.base_url, self.tokens, self.numbers, self.seconds = base_url, tokens, numbers, seconds
        self.lock = threading.Lock()
        self.sent: dict[str, float] = {}  # reference -> when its newCall was sent
        self.cti_ids: dict[str, str] = {}  # reference -> callId
        self.ringing: OrderedDict[str, float] = OrderedDict()  # not yet claimed, oldest first
        self.claims: dict[str, list[int]] = defaultdict(list)  # reference -> agents
        self.claimed_at: dict[str, float] = {}
        self.claim_ms: list[float] = []
        self.errors: dict[str, int] = defaultdict(int)
        self.hangups: queue.Queue[tuple[str, threading.Event]] = queue.Queue()
        self.claiming = 0  # agents with a claim under way
        self.cti_accepted = 0
        self.cti_elapsed = 0.0
        self.seen: dict[tuple[int, str], float] = {}  # (stream, reference) -> first shown
        self.streams_ready = [threading.Event() for _ in range(STREAMS)]
        self.responses: list[httpx.Response | None] = [None] * STREAMS
        self.draining = threading.Event()
        self.stop_agents = threading.Event()
        self.stop_streams = threading.Event()

    def _post_cti(self, client: httpx.Client, data: dict) -> httpx.Response | None:
        try:
            response = client.post(CTI_PATH, data=data)
        except httpx.HTTPError:
            self.errors["cti transport"] += 1
            return None
        if response.status_code != 200:
            self.errors[f"cti {data['event']} {response.status_code}"] += 1
            return None
        return response

    def run_cti(self) -> None:
        """Post events at a steady rate: a pending hangup first, else a newCall."""
        rng = random.Random(SEED + 1)
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            start = time.monotonic()
            n = 0
            while (due := start + n / CTI_EVENTS_PER_S) < start + self.seconds:
                time.sleep(max(0.0, due - time.monotonic()))
                n += 1
                try:
                    cti_id, posted = self.hangups.get_nowait()
                except queue.Empty:
                    cti_id = f"bench-{n}"
                    data = {"event": "newCall", "callId": cti_id, "direction": "in"}
                    data |= {"from": f"+4520{n:06d}", "to": rng.choice(self.numbers)}
                    sent = time.monotonic()
                    if response := self._post_cti(client, data):
                        self.cti_accepted += 1
                        reference = response.json()["reference"]
                        with self.lock:
                            self.sent[reference], self.cti_ids[reference] = sent, cti_id
                            if reference not in self.claims:
                                self.ringing[reference] = sent
                else:
                    if self._post_cti(client, {"event": "hangup", "callId": cti_id}):
                        self.cti_accepted += 1
                    posted.set()
            self.cti_elapsed = time.monotonic() - start

    def _may_claim(self) -> bool:
        """Whether a call has rung long enough and is not already being claimed; reserves it."""
        now = time.monotonic()
        with self.lock:
            if self.draining.is_set():
                due = max(len(self.ringing), 1)
            else:
                due = sum(1 for sent in self.ringing.values() if now - sent >= RING_S)
            if due <= self.claiming:  # each due call gets one agent, not a herd of them
                return False
            self.claiming += 1
            return True

    def run_agent(self, index: int) -> None:
        """Claim the next call, talk, have it hung up, wrap up; until told to stop."""
        rng = random.Random(SEED + 100 + index)
        headers = {"Authorization": f"Bearer {self.tokens[index]}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=10) as client:
            while not self.stop_agents.is_set():
                if not self._may_claim():
                    time.sleep(0.05)
                    continue
                start = time.perf_counter()
                try:
                    response = client.post("/api/calls/next")
                except httpx.HTTPError:
                    self.errors["claim transport"] += 1
                    continue
                finally:
                    elapsed_ms = (time.perf_counter() - start) * 1000
                    with self.lock:
                        self.claiming -= 1
                        self.claim_ms.append(elapsed_ms)
                if response.status_code != 200:
                    if response.status_code not in (404, 409):
                        self.errors[f"claim {response.status_code}"] += 1
                    time.sleep(rng.uniform(*EMPTY_BACKOFF_S))
                    continue
                call = response.json()
                with self.lock:
                    self.claims[call["reference"]].append(index)
                    self.claimed_at.setdefault(call["reference"], time.monotonic())
                    self.ringing.pop(call["reference"], None)
                time.sleep(rng.uniform(*TALK_S))
                self._hang_up(client, call["reference"])
                body = {"contact_reason_code": REASON, "outcome": "answered"}
                try:
                    wrapped = client.post(f"/api/calls/{call['id']}/wrap-up", json=body)
                except httpx.HTTPError:
                    self.errors["wrap-up transport"] += 1
                    continue
                if wrapped.status_code != 200:
                    self.errors[f"wrap-up {wrapped.status_code}"] += 1

    def _hang_up(self, client: httpx.Client, reference: str) -> None:
        """The caller hangs up: by the CTI stream, or by the agent once the stream has ended."""
        with self.lock:
            cti_id = self.cti_ids.get(reference)
        if cti_id is None:
            return
        posted = threading.Event()
        self.hangups.put((cti_id, posted))
        if not posted.wait(HANGUP_WAIT_S):  # the CTI window is over (or far behind)
            self._post_cti(client, {"event": "hangup", "callId": cti_id})

    def run_stream(self, index: int) -> None:
        """Read one console stream; note when each reference first shows in its queue."""
        headers = {"Authorization": f"Bearer {self.tokens[index]}"}
        timeout = httpx.Timeout(10, read=None)
        try:
            with (
                httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout) as client,
                client.stream("GET", "/console/stream") as response,
            ):
                self.responses[index] = response
                if response.status_code != 200:
                    self.errors[f"stream {response.status_code}"] += 1
                    return
                for line in response.iter_lines():
                    now = time.monotonic()
                    if line.startswith("event:"):
                        self.streams_ready[index].set()
                    elif line.startswith("data:"):
                        for reference in REFERENCE.findall(line):
                            self.seen.setdefault((index, reference), now)
        except (httpx.HTTPError, RuntimeError):
            if not self.stop_streams.is_set():
                self.errors["stream transport"] += 1
        finally:
            self.streams_ready[index].set()

    def run(self) -> float:
        """The whole run: streams, CTI and agents, then the drain; returns the drain seconds."""
        streams = [
            threading.Thread(target=self.run_stream, args=(i,), daemon=True) for i in range(STREAMS)
        ]
        for thread in streams:
            thread.start()
        for ready in self.streams_ready:
            ready.wait(30)
        cti = threading.Thread(target=self.run_cti)
        agents = [threading.Thread(target=self.run_agent, args=(i,)) for i in range(AGENTS)]
        for thread in [cti, *agents]:
            thread.start()
        cti.join()
        self.draining.set()
        drain_start = time.monotonic()
        headers = {"Authorization": f"Bearer {self.tokens[0]}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=10) as client:
            while time.monotonic() - drain_start < DRAIN_S:
                if not client.get("/api/calls").json():
                    break
                time.sleep(0.2)
        drain_s = time.monotonic() - drain_start
        self.stop_agents.set()
        for thread in agents:
            thread.join()
        time.sleep(1.0)  # let the streams render the last changes
        self.stop_streams.set()
        for response in self.responses:
            if response is not None:
                response.close()
        for thread in streams:
            thread.join(5)
        return drain_s


def call_states(url: str) -> dict[str, CallState]:
    """Every call's state in the database, by reference."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = session.execute(select(Call.reference, Call.state))
        states = {reference: state for reference, state in rows}
    engine.dispose()
    return states


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=DURATION_S, help="CTI stream length")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-calls-") as tmp_name:
        url = f"sqlite:///{Path(tmp_name) / 'hotline.sqlite3'}"
        tokens, numbers = build_database(url)
        with Server("real", url, ready_path="/healthz") as server:
            bench = CallsBench(server.base_url, tokens, numbers, args.seconds)
            drain_s = bench.run()
        states = call_states(url)

    claim_p50, claim_p95 = (percentile(bench.claim_ms, p) for p in (50, 95))
    update_ms, missed, taken_first = [], 0, 0
    for reference, sent in bench.sent.items():
        for stream in range(STREAMS):
            shown = bench.seen.get((stream, reference))
            if shown is not None:
                update_ms.append((shown - sent) * 1000)
            elif bench.claimed_at.get(reference, math.inf) - sent < TARGET_UPDATE_P95_MS / 1000:
                taken_first += 1  # claimed before any console was due to show it
            else:
                missed += 1
    # A missed (call, console) pair counts as an endless delay.
    update_p95 = percentile(update_ms + [math.inf] * missed, 95) if update_ms or missed else 0.0
    update_p50 = percentile(update_ms, 50) if update_ms else 0.0
    events_per_s = bench.cti_accepted / bench.cti_elapsed if bench.cti_elapsed else 0.0
    lost = sum(
        1 for ref in bench.sent if ref not in bench.claims and states.get(ref) not in OPEN_OR_DONE
    )
    double = sum(1 for agents in bench.claims.values() if len(agents) > 1)
    not_done = sum(1 for ref in bench.claims if states.get(ref) != CallState.DONE)

    print(
        f"load: {args.seconds:g} s CTI stream at {CTI_EVENTS_PER_S:g} events/s, {AGENTS} agents "
        f"(ring {RING_S:g} s, talk {TALK_S[0]:g}-{TALK_S[1]:g} s), {STREAMS} console streams; "
        f"uvicorn 1 worker, SQLite, 127.0.0.1"
    )
    print(
        f"calls: {len(bench.sent)} offered, {len(bench.claims)} claimed, {not_done} claimed but "
        f"not done; {len(bench.claim_ms)} claim attempts; drain {drain_s:.1f} s"
    )
    print(
        f"console pairs: {len(update_ms)} shown, {missed} missed, {taken_first} claimed within "
        f"{TARGET_UPDATE_P95_MS:g} ms and never shown (not counted)"
    )
    if bench.errors:
        print("errors: " + ", ".join(f"{k} x{v}" for k, v in sorted(bench.errors.items())))
    rows = [
        ("claim p50 (ms)", f"{claim_p50:.1f}", "", ""),
        (
            "claim p95 (ms)",
            f"{claim_p95:.1f}",
            f"<= {TARGET_CLAIM_P95_MS:g}",
            claim_p95 <= TARGET_CLAIM_P95_MS,
        ),
        ("queue update p50 (ms)", f"{update_p50:.0f}", "", ""),
        ("queue update p95 (ms)", f"{update_p95:.0f}", f"<= {TARGET_UPDATE_P95_MS:g}", None),
        ("CTI events/s sustained", f"{events_per_s:.2f}", f"{CTI_EVENTS_PER_S:g}", ""),
        ("lost calls", str(lost), "0", lost == 0),
        ("doubly claimed calls", str(double), "0", double == 0),
    ]
    print(f"{'name':<28} {'value':>10} {'target':>8} {'ok?':>6}")
    for name, value, target, ok in rows:
        if ok is None:
            ok = update_p95 <= TARGET_UPDATE_P95_MS
        if isinstance(ok, bool):
            ok = "ok" if ok else "MISS"
        print(f"{name:<28} {value:>10} {target:>8} {ok:>6}")
    print(
        f"claim_p95_ms={claim_p95:.1f} update_p95_ms={update_p95:.0f} "
        f"events_per_s={events_per_s:.2f} lost={lost} double={double}"
    )


if __name__ == "__main__":
    main()
