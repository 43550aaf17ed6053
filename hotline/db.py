"""Database base class, engine and the one-transaction-per-request session."""

import asyncio
import hashlib
import inspect
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial, wraps

import anyio
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import DateTime, MetaData, TypeDecorator, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from hotline.db_postgres import make_postgres_engine
from hotline.db_sqlite import begin_immediate, make_sqlite_engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# anyio's default thread limiter runs 40 synchronous routes at once.
SQLITE_POOL_SIZE = 40
# Kept open on PostgreSQL (each is a server process there); up to SQLITE_POOL_SIZE in a burst.
POSTGRES_POOL_SIZE = 20


def make_engine(url: str) -> Engine:
    """Create an engine (SQLite's: see db_sqlite)."""
    if url.startswith("sqlite"):
        # As many pooled connections as requests run at once in the thread pool: beyond the pool,
        # each request would open a connection (and run the pragmas) and close it again.
        return make_sqlite_engine(url, SQLITE_POOL_SIZE)
    # As many pooled connections as route threads too: with fewer, threads beyond the pool waited
    # for a connection and, in a surge, failed after the pool's 30 s timeout; now a request waits
    # for a thread, which has no timeout. The overflow's connections are closed when idle.
    return make_postgres_engine(
        url, pool_size=POSTGRES_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE - POSTGRES_POOL_SIZE
    )


def bound_engine(session: Session) -> Engine:
    """The engine a session works on (per-database caches are keyed by it)."""
    bind = session.get_bind()
    return getattr(bind, "engine", bind)


def lock_for_write(session: Session, key: str) -> None:
    """Make writers on the same key wait for each other until this transaction ends.

    PostgreSQL takes a transaction-level advisory lock on the key; SQLite has one writer at a time,
    so taking its write lock now (BEGIN IMMEDIATE) serialises everything, this key included. After
    the lock, every read sees what the writer before committed.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(key)})
        return
    begin_immediate(session.connection().connection.driver_connection)


def advisory_key(name: str, size: int = 8) -> int:
    """A PostgreSQL advisory lock key for a name: signed, of `size` bytes (8: bigint, 4: int)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:size], "big", signed=True)


_AT_COMMIT = "hotline_writes_at_commit"


def write_at_commit(session: Session, key: str, write: Callable[[Session], None]) -> None:
    """Run `write` just before the session's transaction commits (once per key; dropped on
    rollback).

    For a small write that must not hold its lock through the rest of the request: on SQLite a
    write takes the database's one write lock, and a request that wrote in one trip to the thread
    pool and then waited for another held it while every thread waited for the lock.
    """
    session.info.setdefault(_AT_COMMIT, {})[key] = write


def _run_writes_at_commit(session: Session) -> None:
    for write in session.info.pop(_AT_COMMIT, {}).values():
        write(session)


def _drop_writes_at_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the whole transaction, not a savepoint
        session.info.pop(_AT_COMMIT, None)


@dataclass(frozen=True)
class Listener:
    """An ORM event listener as its module declares it: switched on by install_listeners."""

    # A class (Session, a model) and module-level functions: an export worker process gets the
    # server's listeners pickled, by reference.
    target: type
    event_name: str
    fn: Callable


LISTENERS = (
    Listener(Session, "before_commit", _run_writes_at_commit),
    Listener(Session, "after_rollback", _drop_writes_at_commit),
)

_installed: dict[Listener, None] = {}  # in the order installed
_installing = threading.Lock()


class ListenersNotInstalled(RuntimeError):
    """Sessions asked for in a process whose entry point switched no listeners on."""


def install_listeners(listeners: Iterable[Listener]) -> None:
    """Switch the listeners on for this process, each once: installing again changes nothing.

    SQLAlchemy would call a function listening twice twice (the roll-up would count each call
    twice), and the tests build many apps in one process.
    """
    with _installing:
        for listener in listeners:
            if listener not in _installed:
                event.listen(listener.target, listener.event_name, listener.fn)
                _installed[listener] = None


def installed_listeners() -> tuple[Listener, ...]:
    """The listeners switched on in this process, in the order they were."""
    return tuple(_installed)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker whose objects stay readable after commit; refused before any listener is on.

    A process whose entry point forgot to install the listeners would write calls without their
    roll-up and let audit entries change, silently; refused here, it fails at its first session.
    """
    if not _installed:
        raise ListenersNotInstalled(
            "no ORM listeners are installed in this process: its entry point must install them "
            "first (hotline.models.install_listeners installs the product's)"
        )
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def cli_sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions for a command-line run; its connections are closed when the run ends."""
    engine = make_engine(database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


@contextmanager
def cli_session(database_url: str) -> Iterator[Session]:
    """One session for a command-line run (the caller commits); closed with its connections."""
    with cli_sessions(database_url) as make_session, make_session() as session:
        yield session


# Ending a session gets threads of its own: on the routes' limiter, a connection's holder could
# wait for a thread to commit on while every route thread waits for a connection (or on a row
# it holds), which stalled 200 agents on two processes until the pool's 30 s timeout.
_ending_limiters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _end_off_loop(session: Session, *, commit: bool) -> None:
    loop = asyncio.get_running_loop()
    limiters = _ending_limiters.get(loop)
    if limiters is None:
        # SQLite: a session holding this process's writer lock (db_sqlite) ends on threads of its
        # own. Sessions whose commit writes (roll-ups, write_at_commit) wait there for the lock;
        # had they filled the threads, its holder would have had none to commit on.
        limiters = _ending_limiters[loop] = {
            False: anyio.CapacityLimiter(SQLITE_POOL_SIZE),
            True: anyio.CapacityLimiter(2),
        }
    limiter = limiters[_holds_writer_lock(session)]
    await anyio.to_thread.run_sync(partial(_end, session, commit=commit), limiter=limiter)


def _holds_writer_lock(session: Session) -> bool:
    if not session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return False
    return session.connection().connection.driver_connection.holds_writer_lock


_request_session: ContextVar[Session | None] = ContextVar("hotline_request_session", default=None)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request: committed when the handler returns, rolled back on error."""
    # Async so that opening the session (no I/O) costs no trip to the thread pool; the commit or
    # rollback and the close do I/O, so they run there, together (or at the end of a synchronous
    # handler's own thread: TransactionRoute).
    session = request.app.state.sessionmaker()
    token = _request_session.set(session)
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):  # a dropped client must not leave it open
            await _end_off_loop(session, commit=False)
        raise
    finally:
        _request_session.reset(token)
    if _ends_without_io(session):
        _end(session, commit=True)
        return
    with anyio.CancelScope(shield=True):
        await _end_off_loop(session, commit=True)


class TransactionRoute(APIRoute):
    """A route whose synchronous handler commits the request's session in its own thread.

    Ended by get_session instead, a transaction that wrote kept its locks (SQLite's one writer
    lock, PostgreSQL's rows) while the handler's thread handed back to the event loop and a second
    thread took the commit: in a surge, most of the time a claim held SQLite's writer lock was
    spent in that hand-over. The commit is the one get_session would make; an error raised by the
    handler still rolls everything back, and get_session then has nothing left to do.
    """

    def __init__(self, path: str, endpoint: Callable, **kwargs) -> None:
        if inspect.isfunction(endpoint) and not inspect.iscoroutinefunction(endpoint):
            endpoint = commit_on_return(endpoint)
        super().__init__(path, endpoint, **kwargs)


def commit_on_return(handler: Callable) -> Callable:
    """A synchronous handler that commits the request's session in its thread when it returns."""

    @wraps(handler)
    def handle(*args, **kwargs):
        result = handler(*args, **kwargs)
        session = _request_session.get()
        if session is not None and not _ends_without_io(session):
            session.commit()
        return result

    return handle


def _ends_without_io(session: Session) -> bool:
    """Whether committing and closing the session needs no database round trip."""
    if session.info.get(_AT_COMMIT):
        return False
    if not session.in_transaction():
        return True
    # pysqlite opens a transaction only for a write; after reads alone its COMMIT and the pool's
    # reset are no-ops in process. Any other database ends a transaction over the network.
    if (
        session.new
        or session.dirty
        or session.deleted
        or session.get_bind().dialect.name != "sqlite"
    ):
        return False
    return not session.connection().connection.driver_connection.in_transaction


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit and session.in_transaction():  # not when its handler committed already
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Use this, not a plain Depends(get_session): scope="function" ends the transaction before the
# response is sent, so a failed commit is a 500 (not a lost write) and a redirect never outruns
# the data it points to.
request_session = Depends(get_session, scope="function")


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)
