"""The load of bench/calls.py: CTI, agents, console streams, an export and letters, on one loop.

Agent i watches console stream i and works on server i mod n (as browsers spread over server
processes behind a balancer). The CTI feeder is open-loop: an event is due at its time and its
latency counts from then, so a slow server cannot slow the offered rate down.
"""

import asyncio
import json
import random
import time
from collections import defaultdict
from datetime import date, timedelta

try:
    from bench import _letters_data as letters
    from bench._calls_client import Conn, Pool, Stream, open_stream
    from bench._calls_data import Seed
except ImportError:  # run as a script (bench/ itself is on sys.path)
    import _letters_data as letters
    from _calls_client import Conn, Pool, Stream, open_stream
    from _calls_data import Seed

SEED = 20261124
CTI_PATH = "/api/cti/bench-cti-token"  # the token bench._support._real_app configures
TALK_S = (2.0, 4.0)
REASON = "mitid"
CTI_CONNECTIONS = 48  # per server: in flight at once, at most
EXPORT_DAYS = 365


class Load:
    """One run's clients and what they saw."""

    def __init__(self, servers: list[tuple[str, int]], seed: Seed, agents: int) -> None:
        self.servers, self.seed, self.agents = servers, seed, agents
        self.cti = [Pool(host, port, CTI_CONNECTIONS) for host, port in servers]
        self.streams: list[Stream] = []
        self.sent: dict[str, tuple[float, int]] = {}  # reference -> (due, order)
        self.cti_ids: dict[str, str] = {}
        self.claims: dict[str, list[int]] = defaultdict(list)
        self.hung_up: set[str] = set()  # by the ramp, while waiting
        self.claim_ms: list[float] = []
        self.errors: dict[str, int] = defaultdict(int)
        self.waiting = self.claiming = self.changes = 0
        self.keep_waiting = 100
        self.measuring = False
        self.stop_agents = asyncio.Event()
        self.stop_side = asyncio.Event()
        self.side = {"exports": [], "letters": []}  # seconds each
        self.side_load = True
        self._order = 0

    def server_of(self, index: int) -> tuple[str, int]:
        return self.servers[index % len(self.servers)]

    async def open_streams(self, count: int) -> None:
        """Open the consoles' streams and wait until each has shown its queue."""
        tokens = self.seed.agent_tokens
        self.streams = [
            await open_stream(*self.server_of(i), i, tokens[i % len(tokens)]) for i in range(count)
        ]
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in self.streams)), 60)

    def close(self) -> None:
        for stream in self.streams:
            stream.close()
        for pool in self.cti:
            pool.close()

    async def new_call(self, server: int, due: float) -> tuple[int, float, str | None]:
        """Post one newCall; (status, latency ms from its due time, reference)."""
        self._order += 1
        order, cti_id = self._order, f"bench-{time.monotonic_ns()}-{self._order}"
        fields = {"event": "newCall", "callId": cti_id, "direction": "in", "to": self.seed.line}
        fields["from"] = f"+4520{order % 1_000_000:06d}"
        status, body = await self.cti[server].post_form(CTI_PATH, fields)
        ms = (time.monotonic() - due) * 1000
        if status != 200:
            self.errors[f"newCall {status}"] += 1
            return status, ms, None
        reference = json.loads(body)["reference"]
        self.sent[reference], self.cti_ids[reference] = (due, order), cti_id
        self.waiting += 1
        self.changes += self.measuring
        return status, ms, reference

    async def hang_up(self, server: int, reference: str) -> tuple[int, float]:
        """Post the hangup of a call; (status, latency ms)."""
        start = time.monotonic()
        fields = {"event": "hangup", "callId": self.cti_ids[reference]}
        status, _ = await self.cti[server].post_form(CTI_PATH, fields)
        if status != 200:
            self.errors[f"hangup {status}"] += 1
        self.changes += self.measuring and status == 200
        return status, (time.monotonic() - start) * 1000

    async def offer(self, rate: float, seconds: float) -> None:
        """newCalls at `rate` per second in all, round-robin over the servers, open-loop."""
        loop, tasks = asyncio.get_running_loop(), []
        start = loop.time()
        for n in range(int(rate * seconds)):
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            mono_due = time.monotonic() - (loop.time() - due)
            tasks.append(asyncio.create_task(self.new_call(n % len(self.servers), mono_due)))
        await asyncio.gather(*tasks)

    async def agent(self, index: int) -> None:
        """Take the next call while more than keep_waiting wait; talk; have it hung up; wrap up."""
        rng = random.Random(SEED + index)
        token = self.seed.agent_tokens[index]
        conn = Conn(*self.server_of(index), {"Authorization": f"Bearer {token}"})
        server = index % len(self.servers)
        while not self.stop_agents.is_set():
            if self.waiting - self.claiming <= self.keep_waiting:
                await asyncio.sleep(0.02)
                continue
            self.claiming += 1
            start = time.monotonic()
            try:
                status, body = await conn.request("POST", "/api/calls/next")
            finally:
                self.claiming -= 1
            if self.measuring:
                self.claim_ms.append((time.monotonic() - start) * 1000)
            if status != 200:
                self.errors[f"claim {status}"] += 1
                await asyncio.sleep(rng.uniform(0.1, 0.2))
                continue
            call = json.loads(body)
            self.claims[call["reference"]].append(index)
            self.waiting -= 1
            self.changes += self.measuring
            await asyncio.sleep(rng.uniform(*TALK_S))
            await self.hang_up(server, call["reference"])
            wrap = json.dumps({"contact_reason_code": REASON, "outcome": "answered"}).encode()
            path = f"/api/calls/{call['id']}/wrap-up"
            status, _ = await conn.request("POST", path, wrap, "application/json")
            if status != 200:
                self.errors[f"wrap-up {status}"] += 1
            self.changes += self.measuring and status == 200
        conn.close()

    async def exports(self) -> None:
        """The cost report exported as CSV, one after another, by a supervisor."""
        auth = {"Authorization": f"Bearer {self.seed.supervisor_token}"}
        conn = Conn(*self.servers[0], auth)
        today = date.today()
        query = f"from={today - timedelta(days=EXPORT_DAYS)}&to={today}"
        while not self.stop_side.is_set():
            start = time.monotonic()
            status, _ = await conn.request("GET", f"/api/reports/cost.csv?{query}")
            if status != 200:
                self.errors[f"export {status}"] += 1
                await asyncio.sleep(1)
            elif self.measuring:
                self.side["exports"].append(time.monotonic() - start)
        conn.close()

    async def letters(self) -> None:
        """Replies as PDF letters through the real API, one after another."""
        conn = Conn(*self.servers[-1], {"Authorization": f"Bearer {self.seed.letters_token}"})
        path = f"/api/calls/{self.seed.letters_call_id}/replies"
        while not self.stop_side.is_set():
            body = json.dumps(letters.reply_json("1p")).encode()
            start = time.monotonic()
            status, _ = await conn.request("POST", path, body, "application/json")
            if status != 201:
                self.errors[f"letter {status}"] += 1
                await asyncio.sleep(1)
            elif self.measuring:
                self.side["letters"].append(time.monotonic() - start)
        conn.close()

    async def surge(self, rate: float, warmup_s: float, seconds: float) -> tuple[float, float]:
        """Agents, exports and letters while newCalls come at `rate`; the measured wall window."""
        workers = [asyncio.create_task(self.agent(i)) for i in range(self.agents)]
        side = [self.exports(), self.letters()] if self.side_load else []
        side = [asyncio.create_task(work) for work in side]
        feeder = asyncio.create_task(self.offer(rate, warmup_s + seconds))
        await asyncio.sleep(warmup_s)
        self.measuring = True
        for stream in self.streams:
            stream.counting = True
        window = (time.time(), time.monotonic())
        await feeder
        self.measuring = False
        for stream in self.streams:
            stream.counting = False
        wall = (window[0], time.time())
        self.stop_side.set()
        self.stop_agents.set()
        await asyncio.gather(*workers, *side)
        self.window = (window[1], time.monotonic())
        return wall

    async def ramp_step(self, per_process: float, seconds: float) -> dict:
        """newCall + hangup pairs at `per_process` events/s on every server; what was accepted."""
        loop, tasks = asyncio.get_running_loop(), []
        n_servers, pairs_per_s = len(self.servers), per_process * len(self.servers) / 2
        latencies: list[float] = []
        statuses: list[int] = []

        async def pair(server: int, due: float) -> None:
            status, ms, reference = await self.new_call(server, due)
            statuses.append(status)
            latencies.append(ms)
            if reference is not None:
                status, ms = await self.hang_up(server, reference)
                statuses.append(status)
                latencies.append(ms)
                self.hung_up.add(reference)
                self.waiting -= 1

        start = loop.time()
        for n in range(int(pairs_per_s * seconds)):
            due = start + n / pairs_per_s
            await asyncio.sleep(max(0.0, due - loop.time()))
            mono_due = time.monotonic() - (loop.time() - due)
            tasks.append(asyncio.create_task(pair(n % n_servers, mono_due)))
        await asyncio.gather(*tasks)
        elapsed = loop.time() - start
        accepted = sum(1 for s in statuses if s == 200)
        return {
            "offered": per_process,
            "accepted": accepted / elapsed / n_servers,
            "ok": accepted == 2 * len(tasks),
            "latencies": latencies,
            "elapsed": elapsed,
        }
