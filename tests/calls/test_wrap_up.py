"""The active call: municipality, notes, wrap-up and the durations recorded."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, ContactReason, Outcome
from hotline.calls.queue import claim_call
from hotline.calls.service import (
    after_call_seconds,
    get_active_call,
    seed_contact_reasons,
    set_call_municipality,
    talk_seconds,
    wait_seconds,
    wrap_up_call,
)
from hotline.db import utcnow
from hotline.kit.errors import InvalidInput, PermissionDenied


@pytest.fixture
def claimed(new_call, make_user, session):
    """An agent with a claimed call: (agent, call)."""
    agent = make_user(Role.AGENT)
    _, reference = new_call()
    call_id = session.scalar(select(Call.id).where(Call.reference == reference))
    call = claim_call(session=session, call_id=call_id, agent=agent)
    session.commit()
    return agent, call


def test_seed_contact_reasons_is_idempotent(session, aarhus_line):
    assert seed_contact_reasons(session=session) == 0
    labels = dict(session.execute(select(ContactReason.code, ContactReason.label)).all())
    assert labels["koerekort"] == "Kørekort" and labels["ydelser"] == "Ydelser og pension"
    assert len(labels) >= 15


def test_wrap_up_requires_a_reason(claimed, session):
    agent, call = claimed
    with pytest.raises(InvalidInput) as exc:
        wrap_up_call(
            session=session,
            call=call,
            user=agent,
            contact_reason_code=None,
            outcome="answered",
            notes="",
        )
    assert exc.value.key == "calls.reason_required"
    assert call.state == CallState.ACTIVE


def test_wrap_up_records_outcome_and_durations(claimed, session):
    agent, call = claimed
    assert get_active_call(session=session, agent=agent).id == call.id
    # Shift the timeline so every duration is a known, non-zero number.
    call.answered_at = utcnow() - timedelta(seconds=400)
    call.offered_at = call.answered_at - timedelta(seconds=75)
    call.ended_at = call.answered_at + timedelta(seconds=300)
    set_call_municipality(session=session, call=call, code="851", user=agent)
    wrap_up_call(
        session=session,
        call=call,
        user=agent,
        contact_reason_code="pas",
        outcome="referred",
        notes="Henvist til Borgerservice",
    )
    session.commit()
    session.expire_all()
    done = session.get(Call, call.id)
    assert done.state == CallState.DONE and done.outcome == Outcome.REFERRED
    assert done.municipality_code == "0851"
    assert wait_seconds(done) == 75 and talk_seconds(done) == 300
    assert 99 <= after_call_seconds(done) <= 110
    assert get_active_call(session=session, agent=agent) is None


def test_unknown_municipality_is_refused(claimed, session):
    agent, call = claimed
    with pytest.raises(InvalidInput):
        set_call_municipality(session=session, call=call, code="9999", user=agent)


def test_another_agent_cannot_change_or_wrap_up_the_call(claimed, session, make_user):
    _, call = claimed
    other = make_user(Role.AGENT)
    with pytest.raises(PermissionDenied):
        set_call_municipality(session=session, call=call, code="0751", user=other)
    with pytest.raises(PermissionDenied):
        wrap_up_call(
            session=session, call=call, user=other, contact_reason_code="pas", outcome="answered"
        )


def test_wrap_up_over_the_api(claimed, api_client):
    agent, call = claimed
    client = api_client(agent)
    missing = client.post(f"/api/calls/{call.id}/wrap-up", json={"outcome": "answered"})
    assert missing.status_code == 422
    assert "henvendelsesårsag" in missing.json()["detail"]
    assert (
        client.post(f"/api/calls/{call.id}/municipality", json={"code": "0101"}).status_code == 200
    )
    done = client.post(
        f"/api/calls/{call.id}/wrap-up",
        json={"contact_reason_code": "mitid", "outcome": "answered"},
    )
    assert done.status_code == 200
    body = done.json()
    assert body["state"] == "done" and body["municipality_code"] == "0101"
    assert body["talk_seconds"] is not None and body["after_call_seconds"] is not None
    assert client.get(f"/api/calls/{call.id}").json()["outcome"] == "answered"
