"""The worker process side of export_pool: one export at a time, on its own database engine."""

import logging
import os
from multiprocessing.connection import Connection

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotline.db import make_engine, make_sessionmaker
from hotline.reports.call_detail import call_detail_csv

log = logging.getLogger(__name__)
STOP = "stop"  # as export_pool.STOP
NICENESS = 10

_url = ""
_engine: Engine | None = None
_sessions: sessionmaker[Session] | None = None


def serve(connection: Connection) -> None:
    """Answer the server's export requests until it closes the pipe."""
    from hotline.kit.logging import install_cpr_log_filter

    install_cpr_log_filter()
    # An export is background work: the server's claims and streams come first for the CPU.
    os.nice(NICENESS)
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        if request == STOP:  # it came after the export had ended: nothing to stop
            continue
        try:
            _export(connection, *request)
        except (BrokenPipeError, ConnectionResetError):
            break
    if _engine is not None:
        _engine.dispose()


def _export(connection: Connection, database_url: str, filters, dialect: str) -> None:
    chunks = call_detail_csv(_sessions_for(database_url), filters, dialect)
    try:
        for chunk in chunks:
            if connection.poll() and connection.recv() == STOP:
                break
            connection.send(("chunk", chunk))
    except (BrokenPipeError, ConnectionResetError):
        raise
    except Exception as exc:  # the server raises it in its own thread; the details are here
        log.exception("call-detail export failed")
        connection.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
        return
    finally:
        chunks.close()
    connection.send(("end", None))


def _sessions_for(database_url: str) -> sessionmaker[Session]:
    """The sessionmaker of the server's database (the last one asked for is kept)."""
    global _url, _engine, _sessions
    if _engine is None or _url != database_url:
        if _engine is not None:
            _engine.dispose()
        _url, _engine = database_url, make_engine(database_url)
        _sessions = make_sessionmaker(_engine)
    return _sessions
