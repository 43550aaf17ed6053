"""A lean HTTP/1.1 load generator: raw keep-alive connections on one event loop, no HTTP library.

Each of N connections is an asyncio Protocol that writes a pre-built GET request, waits for the
whole response (status line, headers, a Content-Length body), then writes the next one: no
pipelining, so N is the number of requests in flight, as N browsers would have. Requests are
bytes built once; a response costs one find and one slice, so the client stays far ahead of a
Python server (the httpx thread pool it replaces topped out near 1,100 requests/s against a route
doing nothing). Responses complete in a measured window after a warm-up; a non-200 is an error.
`raw_asgi_app` is the plain ASGI app the generator's own rate is checked against.
"""

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

try:
    import uvloop
except ImportError:  # the standard loop works too, a little slower
    uvloop = None

HEADER_END = b"\r\n\r\n"
LENGTH_HEADER = b"\r\ncontent-length:"


@dataclass
class Run:
    """One load run: completed requests in the measured window, errors and latencies."""

    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def latency_ms(self, pct: float) -> float:
        """The pct-th percentile (nearest rank) of the latencies."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def get_requests(
    host: str, port: int, targets: Sequence[str], headers: dict[str, str] | None = None
) -> list[bytes]:
    """GET requests for these targets (path and query, already encoded), as bytes on the wire."""
    lines = [f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    tail = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return [f"GET {target} HTTP/1.1\r\n".encode() + tail for target in targets]


class _Window:
    """What the connections share: the requests, the clock and the tallies."""

    def __init__(self, requests: list[bytes], warmup_s: float, seconds: float) -> None:
        self.requests = requests
        self.next = 0
        self.start = time.perf_counter() + warmup_s
        self.stop = self.start + seconds
        self.completed = self.errors = 0
        self.latencies: list[float] = []
        self.first_error = ""


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending a request whenever the previous response is complete."""

    def __init__(self, window: _Window, done: asyncio.Future) -> None:
        self.window, self.done = window, done
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.sent_at = 0.0

    def connection_made(self, transport) -> None:
        self.transport = transport
        self._send()

    def _send(self) -> None:
        window = self.window
        if time.perf_counter() >= window.stop:
            self.transport.close()
            return
        request = window.requests[window.next % len(window.requests)]
        window.next += 1
        self.sent_at = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        end = buffer.find(HEADER_END)
        if end < 0:
            self.buffer = buffer
            return
        head = buffer[:end].lower()
        at = head.find(LENGTH_HEADER)
        if at < 0:
            raise RuntimeError(f"a response without Content-Length: {head[:200]!r}")
        line_end = head.find(b"\r\n", at + 2)
        length = int(head[at + len(LENGTH_HEADER) : line_end if line_end > 0 else end])
        total = end + len(HEADER_END) + length
        if len(buffer) < total:
            self.buffer = buffer
            return
        self.buffer = buffer[total:]
        now = time.perf_counter()
        window = self.window
        if window.start <= now < window.stop:
            window.completed += 1
            window.latencies.append((now - self.sent_at) * 1000)
            if head[9:12] != b"200":
                window.errors += 1
                window.first_error = window.first_error or buffer[:total][:300].decode("latin-1")
        self._send()

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.done.set_result(exc)


async def _run(
    host: str, port: int, requests: list[bytes], connections: int, warmup_s: float, seconds: float
) -> Run:
    loop = asyncio.get_running_loop()
    window = _Window(requests, warmup_s, seconds)
    dones = [loop.create_future() for _ in range(connections)]
    for done in dones:
        await loop.create_connection(lambda done=done: _Connection(window, done), host, port)
    failures = [exc for exc in await asyncio.gather(*dones) if exc is not None]
    if failures:
        raise RuntimeError(f"{len(failures)} connections failed, first: {failures[0]!r}")
    if window.errors:
        raise RuntimeError(f"{window.errors} responses were not 200, first: {window.first_error}")
    return Run(window.completed, window.errors, seconds, window.latencies)


def load(
    host: str,
    port: int,
    requests: list[bytes],
    *,
    connections: int = 8,
    seconds: float = 3.0,
    warmup_s: float = 0.5,
) -> Run:
    """Drive the server with `connections` keep-alive connections cycling through `requests`."""
    coroutine = _run(host, port, requests, connections, warmup_s, seconds)
    if uvloop is not None:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coroutine)
    return asyncio.run(coroutine)


def raw_asgi_app(body: bytes):
    """A plain ASGI app answering every request with these JSON bytes: no framework at all."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    message = {"type": "http.response.body", "body": body}

    async def app(scope, receive, send) -> None:
        if scope["type"] == "http":
            await send(start)
            await send(message)
        elif scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    return app
