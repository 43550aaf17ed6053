"""The session's transaction semantics hold on both databases."""

from sqlalchemy import select

from hotline.db import make_sessionmaker
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
