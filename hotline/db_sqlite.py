"""SQLite engines: WAL, foreign keys, and the writers of this process taking turns.

SQLite lets one connection write at a time; the others wait in its busy handler, which polls with
growing sleeps (up to 0.1 s) and gives up after the busy timeout. In a surge of writers on one
server process (claims, wrap-ups and CTI events of 200 consoles) that polling let some writers
lose every round for the whole 30 s, and they failed with "database is locked". Here a connection
takes its database's writer lock, process-wide, before its transaction's first write and gives it
back when the transaction ends: the writers of this process wait in turn on that lock (for the
same timeout at most), and SQLite's own lock is free whenever one of them asks for it. Other
processes (a CLI command next to the server) still meet SQLite's busy handler.
"""

import re
import sqlite3
import threading

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_S = 30.0
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


class WriterConnection(sqlite3.Connection):
    """A pysqlite connection that holds its database's writer lock while it writes."""

    writer_lock = None  # its database's threading.Lock, set on connect
    holds_writer_lock = False

    def take_writer_lock(self) -> None:
        """Wait for the other writers of this process to end their transactions (once per one)."""
        if self.holds_writer_lock or self.writer_lock is None:
            return
        if not self.writer_lock.acquire(timeout=BUSY_TIMEOUT_S):
            raise sqlite3.OperationalError("database is locked (by a writer of this process)")
        self.holds_writer_lock = True

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()

    def _give_back(self) -> None:
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            self.writer_lock.release()


def begin_immediate(dbapi_connection: WriterConnection) -> None:
    """Start a write transaction now, if none is open (after this process's writers)."""
    if not dbapi_connection.in_transaction:
        dbapi_connection.take_writer_lock()
        dbapi_connection.execute("BEGIN IMMEDIATE")


def make_sqlite_engine(url: str, pool_size: int) -> Engine:
    """An engine on a SQLite file: foreign keys, WAL, a busy timeout, writers in turn."""
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": BUSY_TIMEOUT_S,
            "factory": WriterConnection,
        },
        pool_size=pool_size,
        max_overflow=pool_size,
    )
    database = engine.url.database or ""
    lock = None
    if database and database != ":memory:":
        with _locks_lock:  # one per file, shared by every engine on it in this process
            lock = _locks.setdefault(database, threading.Lock())

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        dbapi_connection.writer_lock = lock
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _writers_in_turn(connection, _cursor, statement, _parameters, _context, _executemany):
        if _WRITE.match(statement):
            connection.connection.driver_connection.take_writer_lock()

    @event.listens_for(engine, "savepoint")
    def _begin_before_savepoint(connection, _name):
        # pysqlite only sends BEGIN before DML; a SAVEPOINT outside a transaction would start
        # one of its own whose RELEASE commits. Savepoints guard writes, so take the write
        # lock now (IMMEDIATE waits on busy_timeout instead of failing on a stale snapshot).
        begin_immediate(connection.connection.driver_connection)

    return engine
