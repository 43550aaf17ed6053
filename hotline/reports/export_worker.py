"""The worker process side of export_pool: one export or file at a time, on its own engine."""

import logging
import os
from contextlib import ExitStack
from multiprocessing.connection import Connection
from tempfile import TemporaryFile

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotline.db import make_engine, make_sessionmaker
from hotline.kit.errors import HotlineError
from hotline.reports.call_detail import call_detail_csv
from hotline.reports.cost_files import cost_report_file

log = logging.getLogger(__name__)
STOP, GO = "stop", "go"  # as export_pool.STOP and GO
DETAIL, COST = "detail", "cost"  # as export_pool.DETAIL and COST
SPILL_READ = 1 << 20
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
        if request in (STOP, GO):  # it came after the export had ended: nothing to do
            continue
        kind, *arguments = request
        try:
            if kind == COST:
                _cost_file(connection, *arguments)
            else:
                _export(connection, *arguments)
        except (BrokenPipeError, ConnectionResetError):
            break
    if _engine is not None:
        _engine.dispose()


def _cost_file(
    connection: Connection, database_url: str, filters, kind: str, dialect: str, generated_at
) -> None:
    """One cost report's file and name, sent back whole."""
    try:
        with _sessions_for(database_url)() as session:
            answer = cost_report_file(
                session=session,
                filters=filters,
                kind=kind,
                dialect=dialect,
                generated_at=generated_at,
            )
    except HotlineError as exc:  # refused (no cost rate, ...): the server answers it as its own
        connection.send(("refused", (type(exc), exc.key, exc.params)))
        return
    except Exception as exc:  # the server raises it in its own thread; the details are here
        log.exception("cost report file failed")
        connection.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
        return
    connection.send(("file", answer))


def _export(
    connection: Connection, database_url: str, filters, dialect: str, part, kept_back: bool
) -> None:
    """One export or slice; a slice kept back waits in a file until the server says GO."""
    chunks = call_detail_csv(_sessions_for(database_url), filters, dialect, part=part)
    try:
        with ExitStack() as files:
            spill = (
                files.enter_context(TemporaryFile(prefix="hotline-export-")) if kept_back else None
            )
            for chunk in chunks:
                if connection.poll():
                    message = connection.recv()
                    if message == STOP:
                        break
                    if message == GO:
                        spill = _send_kept(connection, spill)
                if spill is None:
                    connection.send(("chunk", chunk))
                else:
                    spill.write(chunk)
            else:
                if spill is not None and connection.recv() == GO:
                    _send_kept(connection, spill)
    except (BrokenPipeError, ConnectionResetError):
        raise
    except Exception as exc:  # the server raises it in its own thread; the details are here
        log.exception("call-detail export failed")
        connection.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
        return
    finally:
        chunks.close()
    connection.send(("end", None))


def _send_kept(connection: Connection, spill) -> None:
    """Send what the file kept back, in pieces (then the slice streams as it is made)."""
    spill.seek(0)
    while piece := spill.read(SPILL_READ):
        connection.send(("chunk", piece))


def _sessions_for(database_url: str) -> sessionmaker[Session]:
    """The sessionmaker of the server's database (the last one asked for is kept)."""
    global _url, _engine, _sessions
    if _engine is None or _url != database_url:
        if _engine is not None:
            _engine.dispose()
        _url, _engine = database_url, make_engine(database_url)
        _sessions = make_sessionmaker(_engine)
    return _sessions
