"""A fake Asterisk manager interface (AMI) on loopback that replays recorded event streams.

A stream file under ami_streams/ is AMI text as Asterisk sends it: header blocks separated by
blank lines. Lines starting with "#" are comments; a block "-- advance N" waits until the adapter
has recorded everything sent so far, then moves the test clock N seconds on; "-- drop" closes the
connection there.
"""

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

STREAMS = Path(__file__).parent / "ami_streams"
GREETING = b"Asterisk Call Manager/5.0.4\r\n"


@dataclass
class Connection:
    """What the fake Asterisk does on one accepted connection."""

    # Replayed once QueueStatus is answered.
    stream: str | None = None
    # Callers waiting now, for QueueStatus and Getvar: Channel, Uniqueid, CallerIDNum, Queue,
    # Wait and the dialled number as Exten.
    waiting: list[dict[str, str]] = field(default_factory=list)
    # False: Login is answered with an error and the connection closed, as Asterisk does.
    login: bool = True
    # True: after QueueStatus, no action is answered any more (a silently dead connection).
    mute: bool = False
    # True: the greeting, then no answer at all (an Asterisk that hangs).
    silent: bool = False


def stream_blocks(name: str) -> list[str]:
    """The blocks of a stream file: AMI messages and "-- " directives."""
    text = (STREAMS / name).read_text()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    blocks = "\n".join(lines).split("\n\n")
    return [block.strip() for block in blocks if block.strip()]


def message(*headers: tuple[str, str | int]) -> bytes:
    """One AMI message."""
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode() + b"\r\n"


class FakeAsterisk:
    """Serves the scripted connections in order; any further one logs in and stays idle."""

    def __init__(
        self,
        connections: list[Connection],
        *,
        username: str = "hotline",
        secret: str = "s3cret",
        port: int = 0,
    ) -> None:
        self.connections = connections
        self.username, self.secret, self.port = username, secret, port
        # Called with the seconds and the number of events sent so far (see the module).
        self.on_advance: Callable[[int, int], Awaitable[None]] | None = None
        self.actions: list[list[dict[str, str]]] = []
        self.events_sent = 0
        self.finished = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        """Listen on 127.0.0.1; the port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        """Stop listening and end every connection and replay."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.add(asyncio.current_task())
        self._writers.add(writer)
        index = len(self.actions)
        script = self.connections[index] if index < len(self.connections) else Connection()
        self.actions.append([])
        writer.write(GREETING)
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action = dict(
                    line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line
                )
                self.actions[index].append(action)
                answered = self.actions[index][:-1]
                muted = script.mute and any(a.get("Action") == "QueueStatus" for a in answered)
                if muted or script.silent:
                    continue
                if not await self._answer(action, script, index, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)
            self._tasks.discard(asyncio.current_task())

    async def _answer(
        self, action: dict[str, str], script: Connection, index: int, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one action; False when the connection ends."""
        name, action_id = action.get("Action", ""), action.get("ActionID", "")
        ok = (("Response", "Success"), ("ActionID", action_id))
        if name == "Login":
            if not script.login or (action.get("Username"), action.get("Secret")) != (
                self.username,
                self.secret,
            ):
                writer.write(
                    message(("Response", "Error"), ok[1], ("Message", "Authentication failed"))
                )
                await writer.drain()
                return False
            writer.write(message(*ok, ("Message", "Authentication accepted")))
            self._event(
                writer,
                ("Event", "FullyBooted"),
                ("Privilege", "system,all"),
                ("Uptime", 86400),
                ("LastReload", 3600),
                ("Status", "Fully Booted"),
            )
        elif name == "QueueStatus":
            self._queue_status(writer, script, action_id)
            self._replay(script, index, writer)
        elif name == "Getvar":
            caller = next(
                (w for w in script.waiting if w["Channel"] == action.get("Channel")), None
            )
            if caller is None:
                writer.write(message(("Response", "Error"), ok[1], ("Message", "No such channel")))
            else:
                variable = action.get("Variable", "")
                writer.write(message(*ok, ("Variable", variable), ("Value", caller["Exten"])))
        elif name == "Ping":
            writer.write(message(*ok, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")))
        elif name == "Logoff":
            writer.write(
                message(("Response", "Goodbye"), ok[1], ("Message", "Thanks for all the fish."))
            )
            return False
        else:
            writer.write(
                message(("Response", "Error"), ok[1], ("Message", "Invalid/unknown command"))
            )
        await writer.drain()
        return True

    def _event(self, writer: asyncio.StreamWriter, *headers: tuple[str, str | int]) -> None:
        self.events_sent += 1
        writer.write(message(*headers))

    def _queue_status(
        self, writer: asyncio.StreamWriter, script: Connection, action_id: str
    ) -> None:
        list_id = ("ActionID", action_id)
        writer.write(
            message(
                ("Response", "Success"),
                list_id,
                ("EventList", "start"),
                ("Message", "Queue status will follow"),
            )
        )
        writer.write(
            message(
                ("Event", "QueueParams"),
                list_id,
                ("Queue", "hotline"),
                ("Max", 0),
                ("Strategy", "rrmemory"),
                ("Calls", len(script.waiting)),
                ("Holdtime", 20),
                ("TalkTime", 180),
                ("Completed", 41),
                ("Abandoned", 3),
                ("ServiceLevel", 60),
                ("ServicelevelPerf", 92.7),
                ("ServicelevelPerf2", 90.2),
                ("Weight", 0),
            )
        )
        for position, caller in enumerate(script.waiting, 1):
            self.events_sent += 1
            writer.write(
                message(
                    ("Event", "QueueEntry"),
                    list_id,
                    ("Queue", caller["Queue"]),
                    ("Position", position),
                    ("Channel", caller["Channel"]),
                    ("Uniqueid", caller["Uniqueid"]),
                    ("CallerIDNum", caller["CallerIDNum"]),
                    ("CallerIDName", "<unknown>"),
                    ("ConnectedLineNum", "<unknown>"),
                    ("ConnectedLineName", "<unknown>"),
                    ("Wait", caller["Wait"]),
                    ("Priority", 0),
                )
            )
        writer.write(
            message(
                ("Event", "QueueStatusComplete"),
                list_id,
                ("EventList", "Complete"),
                ("ListItems", len(script.waiting) + 1),
            )
        )

    def _replay(self, script: Connection, index: int, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._play(script, index, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _play(self, script: Connection, index: int, writer: asyncio.StreamWriter) -> None:
        for block in stream_blocks(script.stream) if script.stream else []:
            if block == "-- drop":
                writer.close()
                break
            if block.startswith("-- advance "):
                await self.on_advance(int(block.split()[-1]), self.events_sent)
                continue
            self._event(
                writer,
                *(
                    line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
                    for line in block.splitlines()
                ),
            )
            await writer.drain()
        if index == len(self.connections) - 1:
            self.finished.set()


@contextmanager
def serving_in_thread(server: FakeAsterisk) -> Iterator[int]:
    """Run the server on an event loop of its own in a thread (for a command that runs its own)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    port = asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
