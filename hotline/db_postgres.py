"""PostgreSQL engines: a pooled connection is pinged before use only after it sat idle.

SQLAlchemy's pool_pre_ping sends a round trip before every checkout, so every request paid for
one more wait on the database; in a surge, each round trip waits for the cores. A connection
given back to the pool a moment ago was alive then. One idle for longer (the server restarted,
a firewall dropped it) is pinged first and, if dead, replaced with a fresh one before the
request sees it. A connection that dies in between fails its request, as it would have with a
ping (it can die after the ping too), and the pool is recycled on that error.
"""

import time

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine

# A connection idle this long is pinged before it is handed out.
PING_AFTER_IDLE_S = 1.0


def make_postgres_engine(url: str, pool_size: int, max_overflow: int) -> Engine:
    """An engine on PostgreSQL whose pool pings connections that have been idle."""
    engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow)

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) <= PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception:  # noqa: BLE001  (whatever the driver raises, the connection is dead)
            alive = False
        if not alive:
            raise exc.DisconnectionError("an idle pooled connection no longer answers")

    return engine
