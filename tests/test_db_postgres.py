"""PostgreSQL's pool: a connection idle for a while is pinged before use, a busy one is not.

Collected in the suite's PostgreSQL pass only (tests/conftest.py).
"""

import time

import pytest
from sqlalchemy import text

from hotline import db_postgres
from hotline.db import make_engine


@pytest.fixture
def pool_engine(database_url, monkeypatch):
    """A fresh engine on the test database, its pings counted in engine.pings."""
    monkeypatch.setattr(db_postgres, "PING_AFTER_IDLE_S", 0.3)
    engine = make_engine(database_url)
    engine.pings = 0
    real_ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection):
        engine.pings += 1
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_given_back_a_moment_ago_is_handed_out_without_a_ping(pool_engine):
    first = _backend_pid(pool_engine)
    for _ in range(5):
        assert _backend_pid(pool_engine) == first  # the same pooled connection each time
    assert pool_engine.pings == 0


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced_before_use(pool_engine, engine):
    first = _backend_pid(pool_engine)
    time.sleep(0.4)
    assert _backend_pid(pool_engine) == first  # idle: pinged, alive, kept
    assert pool_engine.pings == 1
    with engine.connect() as other:  # the server ends that connection, as a restart would
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    time.sleep(0.4)
    second = _backend_pid(pool_engine)  # pinged, found dead, replaced: no error reaches here
    assert second != first
    assert pool_engine.pings == 2
