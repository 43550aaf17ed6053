"""Events out of order and a phone system gone silent: no ghost ever waits in the queue."""

from datetime import timedelta

from sqlalchemy import func, select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.calls.cti_sweep import sweep
from hotline.calls.models import Call, CallState, CtiEvent
from hotline.db import utcnow


def _call(session, call_id: str) -> Call:
    session.expire_all()
    return session.scalar(select(Call).where(Call.cti_call_id == call_id))


def test_a_hangup_before_its_new_call_ends_the_call_when_it_arrives(
    cti, aarhus_line, session, api_client, make_user
):
    assert cti(event="hangup", callId="early-1", cause="cancel").status_code == 202
    assert cti(event="hangup", callId="early-1", cause="cancel").status_code == 202  # a retry
    response = cti(event="newCall", callId="early-1", to=aarhus_line, **{"from": "20123456"})
    assert response.status_code == 200 and response.json()["reference"]

    call = _call(session, "early-1")
    assert call.state == CallState.ABANDONED and call.end_cause == "cancel"
    assert call.ended_at is not None and call.offered_at <= call.ended_at
    agent = api_client(make_user(Role.AGENT))
    assert agent.get("/api/calls").json() == []
    assert agent.post("/api/calls/next").status_code == 409  # the queue is empty: no ghost
    assert session.scalar(select(func.count(CtiEvent.id)).where(CtiEvent.held.is_(True))) == 0


def test_an_answer_and_hangup_before_the_new_call_give_the_agent_the_call_in_order(
    cti, aarhus_line, session, make_user
):
    agent = make_user(Role.AGENT, username="mette")
    assert cti(event="hangup", callId="early-2", cause="normalClearing").status_code == 202
    assert cti(event="answer", callId="early-2", user="Mette").status_code == 202
    assert cti(event="newCall", callId="early-2", to=aarhus_line).status_code == 200

    call = _call(session, "early-2")
    assert call.state == CallState.WRAP_UP and call.agent_id == agent.id
    assert call.offered_at <= call.answered_at <= call.ended_at


def test_held_events_older_than_the_window_are_dropped(cti, aarhus_line, session, settings):
    assert cti(event="hangup", callId="too-early", cause="cancel").status_code == 202
    later = utcnow() + timedelta(seconds=settings.cti_hold_seconds + 1)
    assert sweep(session=session, settings=settings, now=later) == (0, 1)
    session.commit()
    assert cti(event="newCall", callId="too-early", to=aarhus_line).status_code == 200
    assert _call(session, "too-early").state == CallState.WAITING


def test_a_waiting_call_nobody_hears_from_is_closed_as_lost_and_audited(
    new_call, cti, session, settings, api_client, make_user
):
    call_id, reference = new_call()
    fresh_id, _ = new_call()
    _call(session, call_id).offered_at = utcnow() - timedelta(
        minutes=settings.cti_silent_call_minutes + 1
    )
    session.commit()
    assert sweep(session=session, settings=settings) == (1, 0)
    session.commit()

    call = _call(session, call_id)
    assert call.state == CallState.LOST and call.end_cause == "lost" and call.ended_at
    assert _call(session, fresh_id).state == CallState.WAITING
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "call.lost"))
    assert entry.entity_id == reference and entry.actor_id is None
    assert entry.municipality_code == "0751"
    waiting = api_client(make_user(Role.AGENT)).get("/api/calls").json()
    assert [c["call_id"] for c in waiting] == [fresh_id]

    # A hangup that finally arrives changes nothing: the call stays lost.
    assert cti(event="hangup", callId=call_id, cause="cancel").status_code == 200
    assert _call(session, call_id).state == CallState.LOST


def test_a_claimed_call_is_not_swept(new_call, session, settings, api_client, make_user):
    call_id, _ = new_call()
    agent = api_client(make_user(Role.AGENT))
    assert agent.post("/api/calls/next").status_code == 200
    _call(session, call_id).offered_at = utcnow() - timedelta(days=1)
    session.commit()
    assert sweep(session=session, settings=settings) == (0, 0)
    assert _call(session, call_id).state == CallState.ACTIVE


def test_the_platform_call_id_and_queue_are_in_the_api(cti, aarhus_line, api_client, make_user):
    cti(event="newCall", callId="platform-42", to=aarhus_line, direction="in", queue="borger")
    supervisor = api_client(make_user(Role.SUPERVISOR))
    [entry] = supervisor.get("/api/calls").json()
    assert entry["call_id"] == "platform-42" and entry["queue"] == "borger"
    assert entry["direction"] == "in"
    detail = supervisor.get(f"/api/calls/{entry['id']}").json()
    assert detail["call_id"] == "platform-42" and detail["end_cause"] is None


def test_a_new_call_first_heard_of_late_is_dated_back_by_its_hold_time(cti, aarhus_line, session):
    before = utcnow()
    assert cti(event="newCall", callId="late-1", to=aarhus_line, holdTime="40").status_code == 200
    call = _call(session, "late-1")
    assert before - timedelta(seconds=41) < call.offered_at <= utcnow() - timedelta(seconds=40)
    # A repeat of the newCall with another hold time changes nothing.
    cti(event="newCall", callId="late-1", to=aarhus_line, holdTime="5")
    assert _call(session, "late-1").offered_at == call.offered_at
