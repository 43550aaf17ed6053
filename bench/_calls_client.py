"""The load generator of bench/calls.py: raw HTTP/1.1 on one asyncio loop, no HTTP library.

`Conn` is one keep-alive connection sending a request and reading its whole answer
(Content-Length or chunked). `Pool` hands connections to an open-loop sender, so a late server
makes requests wait (counted in their latency) rather than slowing the offered rate. `Stream`
reads one console's event stream and notes only what the bench needs: bytes, events, and when
each call's reference first showed, as a row or as the queue's newest call.
"""

import asyncio
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

MARK = re.compile(rb'data-(reference|newest)=\\?"([^"\\]*)')
HEAD_END = b"\r\n\r\n"


class Conn:
    """One keep-alive connection; reopened when the server has closed it."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        lines = [f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
        self.headers = ("\r\n".join(lines) + "\r\n").encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = ""
    ) -> tuple[int, bytes]:
        """Send one request; its status and body (one retry on a connection the server closed)."""
        for attempt in (1, 2):
            if self.writer is None or self.writer.is_closing():
                self.reader, self.writer = await asyncio.open_connection(
                    self.host, self.port, limit=1 << 22
                )
            extra = f"Content-Type: {content_type}\r\n" if content_type else ""
            head = f"{method} {path} HTTP/1.1\r\n{extra}Content-Length: {len(body)}\r\n"
            try:
                self.writer.write(head.encode() + self.headers + b"\r\n" + body)
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.writer.close()
                self.writer = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, bytes]:
        """POST url-encoded form fields."""
        body = urlencode(fields).encode()
        return await self.request("POST", path, body, "application/x-www-form-urlencoded")

    async def _response(self) -> tuple[int, bytes]:
        head = await self.reader.readuntil(HEAD_END)
        status, lower = int(head[9:12]), head.lower()
        if b"transfer-encoding: chunked" in lower:
            chunks = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            await self.reader.readexactly(2)
            body = b"".join(chunks)
        else:
            at = lower.find(b"content-length:")
            length = int(lower[at + 15 : lower.find(b"\r\n", at)]) if at >= 0 else 0
            body = await self.reader.readexactly(length)
        if b"connection: close" in lower:
            self.writer.close()
            self.writer = None
        return status, body

    def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()


class Pool:
    """Connections to one server, lent to one request at a time."""

    def __init__(self, host: str, port: int, size: int, headers: dict | None = None) -> None:
        self.free: asyncio.Queue[Conn] = asyncio.Queue()
        self.all = [Conn(host, port, headers) for _ in range(size)]
        for conn in self.all:
            self.free.put_nowait(conn)

    async def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, bytes]:
        """POST a form on the next free connection."""
        conn = await self.free.get()
        try:
            return await conn.post_form(path, fields)
        finally:
            self.free.put_nowait(conn)

    def close(self) -> None:
        """Close every connection."""
        for conn in self.all:
            conn.close()


@dataclass
class Stream(asyncio.Protocol):
    """One console's live stream: bytes and events received, and when references first showed."""

    index: int
    bytes: int = 0
    events: int = 0
    rows: dict[str, float] = field(default_factory=dict)  # reference -> first seen as a row
    newest: list[tuple[float, str]] = field(default_factory=list)  # (when, newest reference)
    counting: bool = False
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    transport: asyncio.Transport | None = None
    _tail: bytes = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self.counting:
            self.bytes += len(data)
            self.events += data.count(b"event: ")
        if not self.ready.is_set() and b"event: queue" in data:
            self.ready.set()
        seen = self._tail + data
        self._tail = seen[-120:]
        for kind, value in MARK.findall(seen):
            reference = value.decode()
            if kind == b"reference":
                self.rows.setdefault(reference, now)
            elif reference and (not self.newest or self.newest[-1][1] != reference):
                self.newest.append((now, reference))

    def connection_lost(self, exc) -> None:
        self.closed.set()

    def close(self) -> None:
        """Close the stream."""
        if self.transport is not None:
            self.transport.close()


async def open_stream(host: str, port: int, index: int, token: str) -> Stream:
    """A console stream of the agent with this API token."""
    loop = asyncio.get_running_loop()
    stream = Stream(index)
    await loop.create_connection(lambda: stream, host, port)
    request = (
        f"GET /console/stream HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    )
    stream.transport.write(request.encode())
    return stream
