"""The reports bench's claim load: agents taking calls through the real routes while exports run.

A process of its own (so the export's reader never delays a claim's clock) runs AGENTS agents on
one event loop, each on a keep-alive connection of raw HTTP/1.1 (no HTTP library). A queue of
QUEUE_DEPTH calls waits all the time: each agent, once per CYCLE_S (jittered), sends a newCall to
the CTI webhook (one call in for each one taken), claims the oldest waiting call
(POST /api/calls/next, timed), has it hung up by the CTI webhook and wraps it up. The new calls
are offered today, after the exported period, so the export's rows never change. Every claim is
kept as (start, ms), on the monotonic clock all processes share, for the bench to sort into its
windows. `capacity` runs the same agents with no pause against a raw ASGI app: what the generator
itself can do.
"""

import asyncio
import json
import multiprocessing
import random
import time
from dataclasses import dataclass, field

from sqlalchemy import select, update

from hotline.auth.models import Role, User
from hotline.auth.service import create_user, issue_api_token
from hotline.calls.models import Call, CallState
from hotline.db import make_engine, make_sessionmaker
from hotline.municipalities.models import Municipality

try:
    import uvloop
except ImportError:  # the standard loop works too, a little slower
    uvloop = None

AGENTS = 20
CYCLE_S = 4.0  # each agent claims about every 4 s: 5 claims/s, 20 requests/s in all
QUEUE_DEPTH = 100
CTI_PATH = "/api/cti/bench-cti-token"  # the token bench._support.Server configures
AGENT_PREFIX = "bench-reports-agent-"
OPEN = (CallState.WAITING, CallState.ACTIVE, CallState.WRAP_UP)
SEED = 20261207
# uvicorn closes a connection idle for 5 s: an agent back from a pause opens a fresh one (before
# its newCall, so never on a claim's clock).
IDLE_S = 3.0


def prepare(url: str, first_undated_day) -> tuple[list[str], list[str]]:
    """The agents' fresh API tokens and the hotline's numbers; a previous run's calls closed."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        # An interrupted run (PostgreSQL keeps its data) leaves calls waiting or taken.
        session.execute(
            update(Call)
            .where(Call.state.in_(OPEN), Call.offered_at >= first_undated_day)
            .values(state=CallState.ABANDONED, agent_id=None)
        )
        tokens = []
        for n in range(AGENTS):
            name = f"{AGENT_PREFIX}{n:02d}"
            user = session.scalars(select(User).where(User.username == name)).one_or_none()
            if user is None:
                user = create_user(
                    session=session, username=name, full_name=f"Bench Agent {n:02d}",
                    password="bench-password-123456", role=Role.AGENT,
                )  # fmt: skip
            tokens.append(issue_api_token(session=session, user=user, name="bench"))
        numbers = session.scalars(
            select(Municipality.dialled_number).where(Municipality.participating.is_(True))
        ).all()
        session.commit()
    engine.dispose()
    return tokens, [number for number in numbers if number]


@dataclass
class Tally:
    """What one load run saw: every claim as (start, ms), requests, errors."""

    claims: list[tuple[float, float]] = field(default_factory=list)
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def error(self, what: str) -> None:
        """Count one error of this kind."""
        self.errors[what] = self.errors.get(what, 0) + 1


class _Agent:
    """One agent's keep-alive connection; requests are written as bytes, answers read by length."""

    def __init__(self, host: str, port: int, token: str, tally: Tally) -> None:
        self.host, self.port, self.token, self.tally = host, port, token, tally
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def post(self, path: str, body: dict, auth: bool = True) -> tuple[int, dict]:
        """POST JSON; (status, JSON answer or {})."""
        if self.writer is None or time.monotonic() - self.used > IDLE_S:
            if self.writer is not None:
                self.writer.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode()
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if auth:
            head += f"Authorization: Bearer {self.token}\r\n"
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        self.writer.write(head.encode() + data)
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.decode("latin-1").lower().split("\r\n")
        length = next(int(ln[15:]) for ln in lines if ln.startswith("content-length:"))
        content = await self.reader.readexactly(length)
        self.used = time.monotonic()
        self.tally.requests += 1
        status = int(lines[0].split(" ", 2)[1])
        try:
            return status, json.loads(content) if content else {}
        except ValueError:
            return status, {}


class _Load:
    """The shared queue of the agents: which CTI call id a waiting call's reference has."""

    def __init__(self, host, port, tokens, numbers, cycle_s: float, tally: Tally) -> None:
        self.host, self.port, self.tokens, self.numbers = host, port, tokens, numbers
        self.cycle_s, self.tally = cycle_s, tally
        self.cti_ids: dict[str, str] = {}
        self.sent = 0
        self.rng = random.Random(SEED)

    async def new_call(self, agent: _Agent) -> None:
        """A call comes in through the CTI webhook."""
        self.sent += 1
        cti_id = f"bench-reports-{time.time_ns()}-{self.sent}"
        body = {"event": "newCall", "callId": cti_id, "direction": "in"}
        body |= {"from": f"+4520{self.sent % 1_000_000:06d}", "to": self.rng.choice(self.numbers)}
        status, answer = await agent.post(CTI_PATH, body, auth=False)
        if status != 200:
            self.tally.error(f"newCall {status}")
        elif answer.get("reference"):
            self.cti_ids[answer["reference"]] = cti_id

    async def run_agent(self, index: int, stop_at: float, stop) -> None:
        """Claim, hang up and wrap up, about once a cycle, until the end."""
        agent = _Agent(self.host, self.port, self.tokens[index], self.tally)
        rng = random.Random(SEED + index)
        await asyncio.sleep(rng.uniform(0, self.cycle_s))  # the agents do not start in step
        while time.monotonic() < stop_at and not stop.is_set():
            due = time.monotonic() + self.cycle_s * rng.uniform(0.5, 1.5)
            try:
                await self.cycle(agent)
            except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as exc:
                self.tally.error(type(exc).__name__)
                agent.writer = None  # a fresh connection for the next cycle
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def cycle(self, agent: _Agent) -> None:
        """One call in, the oldest one claimed, hung up and wrapped up."""
        await self.new_call(agent)
        start = time.monotonic()
        status, call = await agent.post("/api/calls/next", {})
        self.tally.claims.append((start, (time.monotonic() - start) * 1000))
        if status != 200:
            self.tally.error(f"claim {status}")
            return
        cti_id = self.cti_ids.pop(call.get("reference"), None)
        if cti_id is not None:
            await agent.post(CTI_PATH, {"event": "hangup", "callId": cti_id}, auth=False)
        done = {"contact_reason_code": "mitid", "outcome": "answered"}
        status, _ = await agent.post(f"/api/calls/{call.get('id')}/wrap-up", done)
        if status != 200:
            self.tally.error(f"wrap-up {status}")

    async def run(self, seconds: float, stop, ready) -> None:
        """Fill the queue, then let the agents work until the time is up or `stop` is set."""
        filler = _Agent(self.host, self.port, "", self.tally)
        for _ in range(QUEUE_DEPTH):
            await self.new_call(filler)
        self.tally.requests = 0
        ready.set()
        begin = time.monotonic()
        stop_at = begin + seconds
        await asyncio.gather(*(self.run_agent(i, stop_at, stop) for i in range(len(self.tokens))))
        self.tally.seconds = time.monotonic() - begin


def _in_process(host, port, tokens, numbers, cycle_s, seconds, stop, ready, results) -> None:
    tally = Tally()
    load = _Load(host, port, tokens, numbers, cycle_s, tally)
    try:
        if uvloop is not None:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(load.run(seconds, stop, ready))
        else:
            asyncio.run(load.run(seconds, stop, ready))
    finally:
        results.send(tally)


class ClaimLoad:
    """The load in a process of its own: start(), then stop() returns its Tally."""

    def __init__(self, host, port, tokens, numbers, cycle_s=CYCLE_S, seconds=3600.0) -> None:
        context = multiprocessing.get_context("spawn")
        self.stop_event, self.ready = context.Event(), context.Event()
        self.results, child = context.Pipe(duplex=False)
        args = (host, port, tokens, numbers, cycle_s, seconds, self.stop_event, self.ready, child)
        self.process = context.Process(target=_in_process, args=args, daemon=True)

    def start(self) -> "ClaimLoad":
        """Start the agents; returns once the queue is full and they are at work."""
        self.process.start()
        while not self.ready.wait(0.2):
            if not self.process.is_alive():
                raise RuntimeError(f"the claim load exited with {self.process.exitcode}")
        return self

    def stop(self) -> Tally:
        """Stop the agents and collect what they saw."""
        self.stop_event.set()
        return self.wait()

    def wait(self) -> Tally:
        """What the agents saw, once they are done."""
        tally = self.results.recv()
        self.process.join(30)
        return tally


def capacity(host: str, port: int, seconds: float = 3.0) -> Tally:
    """The same agents with no pause between cycles, against whatever serves host:port."""
    load = ClaimLoad(host, port, ["x"] * AGENTS, ["+4500000000"], cycle_s=0.0, seconds=seconds)
    return load.start().wait()
