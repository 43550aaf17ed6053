"""The session's transaction semantics hold on both databases."""

from sqlalchemy import select, text

from hotline import db
from hotline.db import make_engine, make_sessionmaker
from hotline.municipalities.models import Municipality


def test_a_savepoint_stays_inside_the_outer_transaction(engine):
    """Rolling back the request's transaction also undoes what a savepoint released."""
    with make_sessionmaker(engine)() as session:
        session.scalar(select(Municipality).where(Municipality.code == "0751"))
        with session.begin_nested():
            session.get(Municipality, "0751").name = "Ændret i savepoint"
        session.get(Municipality, "0851").name = "Ændret efter"
        session.flush()
        session.rollback()
    with make_sessionmaker(engine)() as session:
        assert session.get(Municipality, "0751").name == "Aarhus Kommune"
        assert session.get(Municipality, "0851").name == "Aalborg Kommune"


def test_a_session_that_only_read_ends_without_a_database_round_trip(engine):
    from hotline.db import _ends_without_io, make_sessionmaker
    from hotline.municipalities.models import Municipality

    sessions = make_sessionmaker(engine)
    with sessions() as session:
        assert _ends_without_io(session)  # nothing done yet
        session.get(Municipality, "0751")
        # SQLite reads open no transaction; PostgreSQL's must be ended over the network.
        assert _ends_without_io(session) == (engine.dialect.name == "sqlite")
        session.get(Municipality, "0751").dialled_number = "+4588000751"
        assert not _ends_without_io(session)  # a pending change is a write at commit
        session.flush()
        assert not _ends_without_io(session)  # a flushed write is an open transaction
        session.rollback()


def test_a_write_at_commit_runs_once_per_key_at_commit_and_is_dropped_on_rollback(engine):
    from sqlalchemy import update

    from hotline.db import _ends_without_io, make_sessionmaker, write_at_commit
    from hotline.municipalities.models import Municipality

    def rename(name: str):
        def write(session) -> None:
            session.execute(
                update(Municipality).where(Municipality.code == "0851").values(region_name=name)
            )

        return write

    sessions = make_sessionmaker(engine)
    with sessions() as session:
        kept = session.get(Municipality, "0851").region_name
        write_at_commit(session, "rename", rename("Dropped"))
        assert not _ends_without_io(session)  # the commit has a write to make
        session.rollback()
        write_at_commit(session, "rename", rename("First"))
        write_at_commit(session, "rename", rename("Second"))  # the same key: the latest wins
        with engine.connect() as other:  # not written before the commit
            assert other.scalar(select_region_name()) == kept
        session.commit()
        assert session.scalar(select_region_name()) == "Second"
        session.execute(
            update(Municipality).where(Municipality.code == "0851").values(region_name=kept)
        )
        session.commit()


def select_region_name():
    from sqlalchemy import select

    from hotline.municipalities.models import Municipality

    return select(Municipality.region_name).where(Municipality.code == "0851")


def test_sqlite_writers_of_one_process_wait_their_turn_instead_of_polling(engine):
    import threading

    from sqlalchemy import text

    if engine.dialect.name != "sqlite":
        return  # PostgreSQL locks rows, not the database
    first, second = engine.connect(), engine.connect()
    # Without the writers' turn the second writer would meet SQLite's busy handler, here set to
    # give up at once.
    second.exec_driver_sql("PRAGMA busy_timeout=0")
    rename = "UPDATE municipalities SET region_name = region_name WHERE code = :code"
    first.execute(text(rename), {"code": "0751"})  # first holds the write lock
    done = []

    def write_second() -> None:
        second.execute(text(rename), {"code": "0851"})
        second.commit()
        done.append(True)

    writer = threading.Thread(target=write_second)
    writer.start()
    writer.join(0.3)
    assert writer.is_alive() and not done  # waiting for its turn, not failed
    first.commit()
    writer.join(5)
    assert done == [True]
    first.close()
    second.close()


def test_every_synchronous_route_commits_in_its_handler_thread(app):
    """No synchronous route ends its transaction in a second trip to the thread pool."""
    import inspect

    from fastapi.routing import APIRoute

    from hotline.db import TransactionRoute

    synchronous = [
        route
        for route in app.routes
        if isinstance(route, APIRoute) and not inspect.iscoroutinefunction(route.endpoint)
    ]
    assert len(synchronous) > 100
    assert [r.path for r in synchronous if not isinstance(r, TransactionRoute)] == []


def test_a_transaction_route_commits_in_the_handler_thread_and_rolls_back_on_error(engine):
    import inspect
    import threading

    from fastapi import APIRouter, FastAPI
    from fastapi.testclient import TestClient
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from hotline.db import TransactionRoute, request_session

    router = APIRouter(route_class=TransactionRoute)
    threads: dict[str, int] = {}

    @router.post("/rename/{name}")
    def rename(name: str, session: Session = request_session):
        threads["handler"] = threading.get_ident()
        session.get(Municipality, "0751").name = name
        session.flush()
        if name == "fejl":
            raise RuntimeError("after the write")
        return {"ok": True}

    app = FastAPI()
    app.state.sessionmaker = make_sessionmaker(engine)
    app.router.routes.extend(router.routes)

    endpoint = router.routes[0].endpoint  # what FastAPI runs in the thread pool

    def committed(session):
        if "commit" not in threads:  # the first: the one that wrote
            frames = [f.frame.f_code for f in inspect.stack()]
            threads["commit"] = threading.get_ident()
            threads["in_endpoint"] = endpoint.__code__ in frames

    event.listen(Session, "after_commit", committed)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.post("/rename/Aarhus Ny").status_code == 200
            assert threads["commit"] == threads["handler"]
            assert threads["in_endpoint"]  # before the thread went back to the event loop
            threads.clear()
            assert client.post("/rename/fejl").status_code == 500
            assert "commit" not in threads
    finally:
        event.remove(Session, "after_commit", committed)
    with make_sessionmaker(engine)() as session:
        assert session.get(Municipality, "0751").name == "Aarhus Ny"
        session.get(Municipality, "0751").name = "Aarhus Kommune"
        session.commit()


def test_a_command_line_session_closes_its_connections_at_the_end(database_url, monkeypatch):
    engines = []

    def recording_engine(url):
        engines.append(make_engine(url))
        return engines[-1]

    monkeypatch.setattr(db, "make_engine", recording_engine)
    with db.cli_session(database_url) as session:
        assert session.execute(text("SELECT 1")).scalar() == 1
        session.commit()
        assert engines[0].pool.checkedout() == 0 and engines[0].pool.checkedin() == 1
    assert engines[0].pool.checkedin() == 0  # disposed: nothing left open
