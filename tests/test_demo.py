"""The demo data: complete, and loading it twice changes nothing."""

from sqlalchemy import func, select

from hotline.auth.models import User
from hotline.demo import load_demo
from hotline.municipalities.models import Municipality
from hotline.rules.models import RuleVersion


def _counts(session):
    return (
        session.scalar(select(func.count()).select_from(User)),
        session.scalar(select(func.count()).select_from(RuleVersion)),
        session.scalar(select(func.count()).where(Municipality.participating.is_(True))),
    )


def test_demo_load_is_idempotent_and_complete(session, settings):
    load_demo(session=session, settings=settings)
    session.commit()
    first = _counts(session)
    load_demo(session=session, settings=settings)
    session.commit()
    assert _counts(session) == first
    users, versions, participating = first
    assert users == 5
    assert 45 <= participating <= 55
    assert versions >= 13
    aarhus = session.get(Municipality, "0751")
    assert aarhus.participating and aarhus.dialled_number == "+4588000751"
    names = set(session.scalars(select(User.username)))
    assert names == {"agent", "supervisor", "admin-aarhus", "admin-aalborg", "sysadmin"}
    assert all(u.is_demo for u in session.scalars(select(User)))
