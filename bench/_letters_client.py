"""The load generator of bench/letters.py: clients posting replies, each from its own thread.

A client is one keep-alive httpx connection posting its letters one after another, as an agent's
browser would; several clients start together at a barrier. The same code posts to the real API
and to the bare route that shows the generator is fast enough.
"""

import io
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

try:
    from bench._letters_data import Agent
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _letters_data import Agent

TIMEOUT_S = 120.0


@dataclass
class Clients:
    """One httpx client per agent against one server; use as a context manager."""

    base_url: str
    agents: list[Agent]
    http: list[httpx.Client] = field(default_factory=list)

    def __enter__(self) -> "Clients":
        self.http = [
            httpx.Client(base_url=self.base_url, headers=agent.headers, timeout=TIMEOUT_S)
            for agent in self.agents
        ]
        return self

    def __exit__(self, *_exc) -> None:
        for client in self.http:
            client.close()

    def post(self, index: int, body: dict) -> tuple[httpx.Response, float]:
        """Post one reply as agent `index` on its call; the response and its seconds."""
        path = f"/api/calls/{self.agents[index].call_id}/replies"
        start = time.perf_counter()
        response = self.http[index].post(path, json=body)
        return response, time.perf_counter() - start

    def run(self, clients: int, letters: int, make_body: Callable[[], dict]) -> "Run":
        """`clients` agents each posting `letters` replies, started together; all must be 201."""
        barrier = threading.Barrier(clients)
        spans: list[tuple[float, float]] = []
        replies: list[int] = []
        failures: list[str] = []
        lock = threading.Lock()
        bodies = [[make_body() for _ in range(letters)] for _ in range(clients)]

        def client(index: int) -> None:
            barrier.wait()
            start = time.perf_counter()
            for body in bodies[index]:
                response, _ = self.post(index, body)
                with lock:
                    if response.status_code == 201:
                        replies.append(response.json()["id"])
                    else:
                        failures.append(f"{response.status_code} {response.text[:200]}")
            with lock:
                spans.append((start, time.perf_counter()))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise RuntimeError(f"{len(failures)} replies failed, first: {failures[0]}")
        seconds = max(end for _, end in spans) - min(start for start, _ in spans)
        return Run(clients * letters, seconds, replies)

    def pages(self, reply_id: int, index: int = 0) -> int:
        """The page count of agent `index`'s archived reply's PDF, read back."""
        response = self.http[index].get(f"/api/replies/{reply_id}.pdf")
        response.raise_for_status()
        return pdf_pages(response.content)


def pdf_pages(pdf: bytes) -> int:
    """A PDF's page count."""
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


@dataclass
class Run:
    """Letters posted, the seconds from the first start to the last finish, the replies' ids."""

    letters: int
    seconds: float
    replies: list[int]

    @property
    def per_second(self) -> float:
        """Letters per second."""
        return self.letters / self.seconds


def timed_floor(render: Callable[[int], bytes], letters: int) -> tuple[float, list[bytes]]:
    """Letters per second of `letters` renders one after another, and the PDFs."""
    start = time.perf_counter()
    pdfs = [render(n) for n in range(letters)]
    return letters / (time.perf_counter() - start), pdfs


def cpu_seconds(root: int) -> dict[str, float] | None:
    """CPU seconds so far of a server process, its children (the render workers) and this one.

    None where /proc can't tell (not Linux).
    """
    tick = os.sysconf("SC_CLK_TCK")
    found = {"server": 0.0, "workers": 0.0, "client": time.process_time()}
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(pid) == root:
            found["server"] += seconds
        elif int(fields[1]) == root:  # ppid
            found["workers"] += seconds
    return found


def machine_busy() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs so far, from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None
    return sum(values) - values[3] - values[4], sum(values)  # less idle and iowait
