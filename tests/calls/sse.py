"""Helpers of the live-stream tests: a real server in a thread, a login, an SSE reader."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from tests.live import free_port


@contextmanager
def serve_in_thread(app) -> Iterator[str]:
    """Serve the app with uvicorn in a thread of this process; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def log_in(client: httpx.Client, username: str, password: str) -> None:
    """Log the client in through the login form, as a browser does."""
    page = client.get("/login")
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    token = page.text[start : page.text.index('"', start)]
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text


def make_ready(client: httpx.Client) -> None:
    """The logged-in call taker says "Klar" in the console (only then do they take calls)."""
    page = client.get("/console").text
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    token = page[start : page.index('"', start)]
    response = client.post("/console/state", data={"state": "available", "csrf_token": token})
    assert response.status_code == 303, response.text


@dataclass
class Event:
    """One server-sent event (name "comment" for a comment line such as the heartbeat)."""

    name: str
    data: str


class EventReader:
    """Reads the events of an open text/event-stream response, one at a time."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        self.lines = response.iter_lines()
        self.seen: list[Event] = []

    def next(self) -> Event | None:
        """The next event or comment; None when the stream ended."""
        name, data = "message", []
        for line in self.lines:
            if line.startswith(":"):
                return self._saw(Event("comment", line[1:].strip()))
            if not line:
                if data:
                    return self._saw(Event(name, "\n".join(data)))
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        return None

    def wait_for(self, wanted: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """Read until an event satisfies wanted; fails after timeout or at the stream's end."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.next()
            if event is None:
                raise AssertionError(f"the stream ended; saw {[e.name for e in self.seen]}")
            if wanted(event):
                return event
        raise AssertionError(f"no such event in {timeout} s; saw {[e.name for e in self.seen]}")

    def _saw(self, event: Event) -> Event:
        self.seen.append(event)
        return event


def queue_shows(reference: str) -> Callable[[Event], bool]:
    """The queue sent whole, or patched with a row, showing the call."""
    return lambda event: event.name in ("queue", "queue-rows") and reference in event.data


def named(name: str, containing: str = "") -> Callable[[Event], bool]:
    """An event of this name whose data contains the text."""
    return lambda event: event.name == name and containing in event.data
