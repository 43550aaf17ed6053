"""`hotline calls simulate` posting CTI events to the app."""

from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.calls.cli import simulate_calls
from hotline.calls.models import Call, CallState


def test_simulate_offers_calls_and_hangs_up(app, aarhus_line, session):
    slept = []
    with TestClient(app) as client:
        references = simulate_calls(
            client,
            token="test-cti-token",
            count=3,
            to_numbers=[aarhus_line],
            hangup_after=0.5,
            sleep=slept.append,
        )
    assert len(set(references)) == 3 and slept == [0.5]
    calls = session.scalars(select(Call).where(Call.reference.in_(references))).all()
    assert {c.line_municipality_code for c in calls} == {"0751"}
    assert {c.state for c in calls} == {CallState.ABANDONED}
    assert all(c.from_number.startswith("+45") for c in calls)
