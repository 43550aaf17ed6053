"""Fixtures of the municipalities tests."""

import pytest
from sqlalchemy import select, update

from hotline.municipalities.models import Municipality


@pytest.fixture
def keep_municipality_contacts(session):
    """Put phone, web and links back afterwards: the municipalities table outlives each test."""
    saved = session.execute(
        select(
            Municipality.code, Municipality.phone, Municipality.web, Municipality.self_service_links
        )
    ).all()
    session.rollback()
    yield
    session.rollback()
    for code, phone, web, links in saved:
        session.execute(
            update(Municipality)
            .where(Municipality.code == code)
            .values(phone=phone, web=web, self_service_links=links)
        )
    session.commit()
