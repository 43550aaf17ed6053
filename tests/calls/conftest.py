"""Fixtures of the calls tests: a participating line and a CTI helper."""

import itertools
import os

import pytest

from hotline.calls.service import seed_contact_reasons
from hotline.municipalities.models import Municipality

AARHUS_LINE = "+4588000751"
_call_ids = itertools.count(1)

# Two server processes share the live queue only through PostgreSQL (LISTEN/NOTIFY): that module
# is collected in the suite's PostgreSQL pass only (not skipped on SQLite: it does not exist there).
if not os.environ.get("HOTLINE_TEST_DATABASE_URL", "").startswith("postgresql"):
    collect_ignore = ["test_live_two_servers.py"]


@pytest.fixture
def aarhus_line(session) -> str:
    """Aarhus participates with the after-hours number +45 88 00 07 51."""
    aarhus = session.get(Municipality, "0751")
    aarhus.participating = True
    aarhus.dialled_number = AARHUS_LINE
    seed_contact_reasons(session=session)
    session.commit()
    return AARHUS_LINE


@pytest.fixture
def cti(client):
    """Post a CTI event: cti(event="newCall", callId="x", ...) -> response."""

    def post(as_json: bool = False, token: str = "test-cti-token", **fields):
        if as_json:
            return client.post(f"/api/cti/{token}", json=fields)
        return client.post(f"/api/cti/{token}", data=fields)

    return post


@pytest.fixture
def new_call(cti, aarhus_line):
    """Offer a new call on the Aarhus line; returns (callId, reference)."""

    def offer(from_number: str = "20 12 34 56") -> tuple[str, str]:
        call_id = f"cti-{next(_call_ids)}"
        response = cti(
            event="newCall", callId=call_id, to=aarhus_line, direction="in", **{"from": from_number}
        )
        assert response.status_code == 200, response.text
        return call_id, response.json()["reference"]

    return offer
