"""The calls change feed: "the queue or an agent's state changed", shared by every server process.

A service that changes the queue or an agent's state calls `mark_calls_changed(session)`. On
PostgreSQL that sends `NOTIFY hotline_calls` in the same transaction, so PostgreSQL delivers it on
commit only, to every process listening. On SQLite the signal goes, after commit, to the feeds of
this process only (one process serves a SQLite database). Each process runs one `CallsFeed`, which
wakes the live streams subscribed to it.
"""

import asyncio
import logging
import threading
from contextlib import asynccontextmanager, suppress

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction

from hotline.db import Listener

log = logging.getLogger(__name__)

CHANNEL = "hotline_calls"
# The listening connection's name in pg_stat_activity.
LISTENER_NAME = "hotline-calls-feed"
# A silent connection is checked this often; a lost one is retried after 0.5, 1, 2 ... 30 s.
LISTENER_CHECK_S = 30.0
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0
_PENDING = "hotline_calls_changed"

_local_feeds: dict[str, set["CallsFeed"]] = {}
_local_lock = threading.Lock()


def mark_calls_changed(session: Session) -> None:
    """Signal, once the session's transaction commits, that the queue or an agent changed."""
    if session.info.get(_PENDING):
        return
    session.info[_PENDING] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


def _publish_after_commit(session: Session) -> None:
    if not session.info.pop(_PENDING, False):
        return
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        publish_locally(str(bind.url))


def _forget_after_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended (a commit published already)
        session.info.pop(_PENDING, None)


LISTENERS = (
    Listener(Session, "after_commit", _publish_after_commit),
    Listener(Session, "after_transaction_end", _forget_after_rollback),
)


def publish_locally(database_url: str) -> None:
    """Wake this process's feeds on the database (from any thread)."""
    with _local_lock:
        feeds = list(_local_feeds.get(database_url, ()))
    for feed in feeds:
        feed.changed_threadsafe()


class CallsFeed:
    """One per process: wakes every subscribed stream when the queue or an agent changed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.subscribers: set[asyncio.Queue[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.listening = False
        # Counts the changes: streams woken by the same change share one render of it.
        self.generation = 0

    def subscribe(self) -> asyncio.Queue[None]:
        """A queue that holds one item whenever something changed since it was last emptied."""
        changes: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        self.subscribers.add(changes)
        return changes

    def unsubscribe(self, changes: asyncio.Queue[None]) -> None:
        """Stop waking this queue."""
        self.subscribers.discard(changes)

    def changed(self) -> None:
        """Wake every subscriber; one that has not yet woken stays woken once (bursts coalesce)."""
        self.generation += 1
        for changes in list(self.subscribers):
            with suppress(asyncio.QueueFull):
                changes.put_nowait(None)

    def changed_threadsafe(self) -> None:
        """changed(), called from another thread (a request's worker thread)."""
        if self.loop is None:
            return
        with suppress(RuntimeError):  # the loop has closed: nobody is listening any more
            self.loop.call_soon_threadsafe(self.changed)

    @asynccontextmanager
    async def running(self):
        """Listen for changes while the app runs (a background task on PostgreSQL)."""
        self.loop = asyncio.get_running_loop()
        if self.engine.dialect.name == "postgresql":
            task = asyncio.create_task(self._listen_postgres())
            try:
                yield self
            finally:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            return
        url = str(self.engine.url)
        with _local_lock:
            _local_feeds.setdefault(url, set()).add(self)
        try:
            yield self
        finally:
            with _local_lock:
                _local_feeds.get(url, set()).discard(self)

    async def _listen_postgres(self) -> None:
        delay = RETRY_FIRST_S
        while True:
            try:
                await self._listen_once()
            except Exception as exc:  # whatever broke, the streams need the listener back
                if self.listening:  # it had worked: start the backoff afresh
                    delay = RETRY_FIRST_S
                self.listening = False
                log.warning("calls feed: not listening (%s); retrying in %s s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    async def _listen_once(self) -> None:
        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await psycopg.AsyncConnection.connect(
            dsn, autocommit=True, application_name=LISTENER_NAME, connect_timeout=10
        )
        async with connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            self.listening = True
            log.info("calls feed: listening on %s", CHANNEL)
            # Whatever changed while nobody listened: every stream renders afresh.
            self.changed()
            while True:
                async for _ in connection.notifies(timeout=LISTENER_CHECK_S):
                    self.changed()
                # No news for a while: make sure the connection is still there.
                await asyncio.wait_for(connection.execute("SELECT 1"), 10)
