"""`hotline cti asterisk`: keep a manager (AMI) connection to Asterisk and record its queue events.

The connection uses panoramisk's protocol and action handling; reconnecting is the adapter's own:
a growing, capped delay after a refused or dropped connection or a refused login, and on every
login a QueueStatus so that callers who joined while disconnected are not lost.
"""

import asyncio
import logging
import signal
from collections.abc import Mapping
from typing import Any

from panoramisk import Manager
from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.asterisk_events import MAPPED_EVENTS, AmiMapping
from hotline.calls.asterisk_record import CtiRecorder
from hotline.config import Settings

log = logging.getLogger(__name__)

# QueueEntry carries no dialled number; asked for with Getvar when no channel variable is set.
DIALPLAN_EXTENSION = "EXTEN"


class AsteriskLoginError(Exception):
    """Asterisk refused the adapter's login before it had ever logged in: a setup mistake."""


class ConnectionLost(Exception):
    """The manager connection ended or stopped answering."""


class _LoginRefused(Exception):
    pass


class _QuietLog(logging.LoggerAdapter):
    """panoramisk's routine messages (protocol version, actions requeued) at debug level."""

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)


class _Manager(Manager):
    """panoramisk's Manager for one connection: the adapter decides when to connect again."""

    def __init__(self, *, lost: asyncio.Future, **config: Any) -> None:
        super().__init__(**config)
        self.lost = lost

    def connection_made(self, f: asyncio.Future) -> None:
        if f.cancelled() or f.exception() is not None:
            return  # the adapter awaits the same task and sees why
        super().connection_made(f)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        if isinstance(exc, Mapping):  # panoramisk passes the Shutdown event itself
            exc = f"Asterisk sent {exc.get('Event')} (restart: {exc.get('Restart') or '?'})"
        if not self.lost.done():
            self.lost.set_result(str(exc) if exc else "closed by Asterisk")

    def ping(self) -> None:
        pass  # the adapter's keepalive waits for the answer, so it notices a dead connection


class AsteriskAdapter:
    """Records Asterisk's queue events through one manager connection at a time, until stopped."""

    def __init__(
        self,
        make_session: sessionmaker[Session],
        settings: Settings,
        *,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        keepalive_s: float = 20.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.settings = settings
        self.mapping = AmiMapping.from_settings(
            settings.asterisk_queues, settings.asterisk_dialled_variable
        )
        self.recorder = CtiRecorder(
            make_session, self.mapping, retry_s=backoff_s, max_retry_s=max_backoff_s
        )
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.keepalive_s, self.timeout_s = keepalive_s, timeout_s
        self.logins = 0
        # Unsolicited events and QueueStatus entries received.
        self.received = 0
        self._delay = backoff_s

    @property
    def address(self) -> str:
        """Where Asterisk's manager interface is, for messages."""
        return f"{self.settings.asterisk_host}:{self.settings.asterisk_port}"

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, resynchronise and record until stop is set; records what arrived, then returns.

        Raises AsteriskLoginError when the first login is refused.
        """
        recording = asyncio.create_task(self.recorder.run(stop))
        try:
            await self._connect_until(stop)
        except BaseException:
            recording.cancel()
            raise
        finally:
            self.recorder.finish()
            await asyncio.gather(recording, return_exceptions=True)
        log.info("stopped; CTI events %s", self.recorder.counts)

    async def _connect_until(self, stop: asyncio.Event) -> None:
        stopping = asyncio.create_task(stop.wait())
        connection = stopping
        try:
            while not stop.is_set():
                connection = asyncio.create_task(self._connection())
                await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not connection.done():
                    return
                self._report(connection.exception())
                log.info("connecting again in %g s", self._delay)
                await asyncio.wait({stopping}, timeout=self._delay)
                self._delay = min(self._delay * 2, self.max_backoff_s)
        finally:
            for task in (stopping, connection):
                task.cancel()
            await asyncio.gather(stopping, connection, return_exceptions=True)

    def _report(self, exc: BaseException | None) -> None:
        """Log why a connection ended; raise what must end the adapter."""
        if isinstance(exc, _LoginRefused):
            if not self.logins:
                raise AsteriskLoginError(
                    f"Asterisk at {self.address} refused the login of "
                    f"{self.settings.asterisk_username!r}: {exc} (check HOTLINE_ASTERISK_"
                    f"USERNAME, HOTLINE_ASTERISK_SECRET and manager.conf)"
                )
            log.error("Asterisk at %s refused the login: %s", self.address, exc)
        elif isinstance(exc, OSError | TimeoutError | ConnectionLost):
            log.warning("manager connection to %s: %s", self.address, str(exc) or repr(exc))
        elif exc is not None:
            raise exc

    async def _connection(self) -> None:
        """One connection: log in, resynchronise, then keep it alive until it is lost."""
        loop = asyncio.get_running_loop()
        manager = _Manager(
            lost=loop.create_future(),
            loop=loop,
            host=self.settings.asterisk_host,
            port=self.settings.asterisk_port,
            log=_QuietLog(logging.getLogger(f"{__name__}.ami")),
        )
        manager.register_event("*", self._on_event)
        try:
            await asyncio.wait_for(manager.connect(), self.timeout_s)
            login = await self._send(
                manager,
                "Login",
                {
                    "Username": self.settings.asterisk_username,
                    "Secret": self.settings.asterisk_secret,
                    "Events": "on",
                },
            )
            if not login.success:
                raise _LoginRefused(login.message or login.response or "refused")
            self.logins += 1
            log.info("logged in to Asterisk at %s", self.address)
            await self._resynchronise(manager)
            self._delay = self.backoff_s
            while True:
                # A ping that gets no answer shows a connection that died without a word.
                await asyncio.wait({manager.lost}, timeout=self.keepalive_s)
                await self._send(manager, "Ping", {})
        finally:
            manager.close()

    def _on_event(self, _manager: Manager, message: Mapping[str, Any]) -> None:
        self.received += 1
        if message.get("Event") in MAPPED_EVENTS:
            self.recorder.put(dict(message))

    async def _resynchronise(self, manager: _Manager) -> None:
        """Offer every caller waiting in a queue now: QueueStatus's entries as newCall events."""
        answer = await self._send(manager, "QueueStatus", {})
        if not isinstance(answer, list):
            if not answer.success:
                log.warning("QueueStatus refused: %s", answer.message or answer.response)
            return
        entries = [dict(m) for m in answer if m.get("Event") == "QueueEntry"]
        served = [e for e in entries if self._serves(e.get("Queue"))]
        for entry in served:
            entry["Exten"] = await self._dialled_number(manager, entry.get("Channel"))
        for entry in served:
            self.recorder.put(entry)
        self.received += len(entries)
        log.info("QueueStatus: %d waiting in the queues served", len(served))

    def _serves(self, queue: Any) -> bool:
        return not self.mapping.queues or queue in self.mapping.queues

    async def _dialled_number(self, manager: _Manager, channel: Any) -> str:
        if not channel:
            return ""
        variable = self.mapping.dialled_variable or DIALPLAN_EXTENSION
        answer = await self._send(manager, "Getvar", {"Channel": channel, "Variable": variable})
        if not answer.success:
            log.warning("Getvar %s on a waiting caller: %s", variable, answer.message)
            return ""
        return str(answer.get("Value") or "").strip()

    async def _send(self, manager: _Manager, action: str, fields: dict[str, Any]) -> Any:
        """Send an action; its answer (a list for an event list), or why there is none."""
        if manager.lost.done():
            raise ConnectionLost(manager.lost.result())
        answer = manager.send_action({"Action": action, **fields})
        await asyncio.wait(
            {answer, manager.lost}, timeout=self.timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        if answer.done():
            return answer.result()
        if manager.lost.done():
            raise ConnectionLost(manager.lost.result())
        raise TimeoutError(f"no answer to {action} in {self.timeout_s:g} s")


async def run_until_signalled(adapter: AsteriskAdapter) -> None:
    """Run the adapter until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await adapter.run(stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
