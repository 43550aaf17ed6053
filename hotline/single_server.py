"""One server process per SQLite database: a second one is refused at start, saying why.

With SQLite the live queue's change feed is in-process (see calls/events.py): a second server on
the same file would never hear the first one's changes, and its consoles would show a stale
queue. So `hotline serve` holds an exclusive lock beside the database file for as long as it runs;
PostgreSQL needs none (several processes share the queue through LISTEN/NOTIFY).
"""

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


class AnotherServerRunning(RuntimeError):
    """A server process already serves this SQLite database."""


def lock_sqlite_database(database_url: str) -> int | None:
    """Hold the database's server lock (a file descriptor to keep open); None for PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".server-lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 32).decode(errors="replace").strip() or "?"
        os.close(descriptor)
        raise AnotherServerRunning(
            f"Another Hotline server (process {holder}) already serves the SQLite database "
            f"{path}. SQLite takes one server process: its live queue is shared within that "
            "process only. Stop the other one, or use PostgreSQL (HOTLINE_DATABASE_URL) to run "
            "several."
        ) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, str(os.getpid()).encode())
    return descriptor
