"""The CTI webhook: newCall, answer and hangup from the telephony platform."""

import asyncio

from sqlalchemy import func, select

from hotline.auth.models import Role
from hotline.calls import api
from hotline.calls.cti import record_cti_event
from hotline.calls.models import Call, CallState, CtiEvent


def test_new_call_by_form_is_queued_with_line_municipality_and_e164_number(
    cti, aarhus_line, api_client, make_user
):
    response = cti(
        event="newCall",
        callId="abc-1",
        to="88000751",
        direction="in",
        **{"from": "20 12 34 56", "user[]": "", "queue": "hotline"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["reference"].startswith("DH-")

    waiting = api_client(make_user(Role.AGENT)).get("/api/calls?state=waiting").json()
    assert len(waiting) == 1
    entry = waiting[0]
    assert entry["reference"] == body["reference"]
    assert entry["from"] == "+4520123456"
    assert entry["to"] == aarhus_line
    assert entry["line_municipality_code"] == "0751"
    assert entry["line_municipality_name"] == "Aarhus Kommune"
    assert entry["municipality_code"] == "0751"  # preselected
    assert entry["wait_seconds"] >= 0


def test_new_call_by_json_is_queued(cti, aarhus_line, api_client, make_user):
    response = cti(
        as_json=True,
        event="newCall",
        callId="json-1",
        to=aarhus_line,
        direction="in",
        user=[],
        **{"from": "+46701234567"},
    )
    assert response.status_code == 200, response.text
    waiting = api_client(make_user(Role.SUPERVISOR)).get("/api/calls").json()
    assert [c["from"] for c in waiting] == ["+46701234567"]


def test_unparseable_number_is_kept_raw_and_unknown_line_has_no_municipality(cti, session):
    assert (
        cti(event="newCall", callId="anon-1", to="12", **{"from": "anonymous"}).status_code == 200
    )
    call = session.scalar(select(Call).where(Call.cti_call_id == "anon-1"))
    assert call.from_number == "anonymous"
    assert call.line_municipality_code is None and call.municipality_code is None


def test_repeated_event_is_idempotent(new_call, cti, session):
    call_id, reference = new_call()
    again = cti(event="newCall", callId=call_id, to="+4588000751", **{"from": "20123456"})
    assert again.status_code == 200
    assert again.json()["reference"] == reference
    assert session.scalar(select(func.count(Call.id))) == 1
    assert session.scalar(select(func.count(CtiEvent.id))) == 1

    assert cti(event="hangup", callId=call_id).status_code == 200
    assert cti(event="hangup", callId=call_id).status_code == 200
    assert session.scalar(select(func.count(CtiEvent.id))) == 2


def test_hangup_before_answer_abandons_the_call(new_call, cti, session):
    call_id, _ = new_call()
    assert cti(event="hangup", callId=call_id, cause="cancel").status_code == 200
    call = session.scalar(select(Call).where(Call.cti_call_id == call_id))
    assert call.state == CallState.ABANDONED
    assert call.ended_at is not None


def test_answer_by_known_user_assigns_the_call(new_call, cti, session, make_user):
    agent = make_user(Role.AGENT, username="mette")
    call_id, _ = new_call()
    assert (
        cti(event="answer", callId=call_id, user="mette", answeringNumber="201").status_code == 200
    )
    call = session.scalar(select(Call).where(Call.cti_call_id == call_id))
    assert call.state == CallState.ACTIVE and call.agent_id == agent.id
    assert call.answered_at is not None

    assert cti(event="hangup", callId=call_id).status_code == 200
    session.refresh(call)
    assert call.ended_at is not None and call.state == CallState.WRAP_UP


def test_answer_by_unknown_user_takes_the_call_out_of_the_queue_as_answered_elsewhere(
    new_call, cti, session, api_client, make_user
):
    call_id, _ = new_call()
    assert cti(event="answer", callId=call_id, user="nobody").status_code == 200
    call = session.scalar(select(Call).where(Call.cti_call_id == call_id))
    assert call.state == CallState.ELSEWHERE and call.agent_id is None
    assert call.answered_at is not None
    assert api_client(make_user(Role.AGENT)).get("/api/calls").json() == []

    assert cti(event="hangup", callId=call_id, cause="normalClearing").status_code == 200
    session.refresh(call)
    assert call.state == CallState.ELSEWHERE and call.ended_at is not None


def test_answer_by_an_agent_with_an_open_call_still_takes_the_call_out_of_the_queue(
    new_call, cti, session, make_user
):
    make_user(Role.AGENT, username="mette")
    first, _ = new_call()
    second, _ = new_call()
    assert cti(event="answer", callId=first, user="mette").status_code == 200
    assert cti(event="answer", callId=second, user="mette").status_code == 200
    call = session.scalar(select(Call).where(Call.cti_call_id == second))
    assert call.state == CallState.ELSEWHERE and call.agent_id is None
    assert call.answered_at is not None


def test_cti_event_runs_the_database_work_off_the_event_loop(new_call, cti, monkeypatch):
    """A synchronous SQLite write waiting on busy_timeout must not freeze every request."""
    loops: list[bool] = []

    def recording(**kwargs):
        try:
            asyncio.get_running_loop()
            loops.append(True)
        except RuntimeError:
            loops.append(False)
        return record_cti_event(**kwargs)

    monkeypatch.setattr(api, "record_cti_event", recording)
    call_id, _ = new_call()
    assert cti(event="hangup", callId=call_id).status_code == 200
    assert loops == [False, False]


def test_event_for_an_unknown_call_id_is_held_not_refused(cti, session):
    response = cti(event="hangup", callId="never-offered")
    assert response.status_code == 202
    assert response.json() == {"status": "held", "reference": None}
    assert session.scalar(select(func.count(Call.id))) == 0


def test_malformed_events_are_422(cti):
    missing_id = cti(event="newCall")
    assert missing_id.status_code == 422 and "callId" in missing_id.json()["detail"]
    missing_event = cti(callId="x")
    assert missing_event.status_code == 422 and "event" in missing_event.json()["detail"]
    unknown = cti(event="transfer", callId="x")
    assert unknown.status_code == 422 and "transfer" in unknown.json()["detail"]
    not_an_object = cti(as_json=True)  # {} has neither field
    assert not_an_object.status_code == 422


def test_wrong_token_is_404_and_records_nothing(cti, session):
    response = cti(token="wrong", event="newCall", callId="x", to="+4588000751")
    assert response.status_code == 404
    assert "error" in response.json()
    assert session.scalar(select(func.count(Call.id))) == 0
