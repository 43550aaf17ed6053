"""Outgoing calls: never queued, tied to the agent's open call or a callback to the same number."""

from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call, Callback, CallState

CITIZEN = "+4520123456"


def _call(session, call_id: str) -> Call:
    session.expire_all()
    return session.scalar(select(Call).where(Call.cti_call_id == call_id))


def test_an_outgoing_call_is_never_queued_and_never_abandoned(
    cti, aarhus_line, session, api_client, make_user
):
    agent = make_user(Role.AGENT, username="mette")
    response = cti(
        event="newCall",
        callId="out-1",
        direction="out",
        to="20123456",
        user="Mette",
        **{"from": aarhus_line},
    )
    assert response.status_code == 200
    assert api_client(make_user(Role.AGENT)).get("/api/calls").json() == []
    assert cti(event="hangup", callId="out-1", direction="out", cause="noAnswer").status_code == 200

    call = _call(session, "out-1")
    assert call.state == CallState.OUTGOING and call.direction == "out"
    assert call.agent_id == agent.id and call.to_number == CITIZEN
    assert call.answered_at is None and call.ended_at is not None
    assert call.municipality_code == "0751"  # the line it was made from


def test_an_outgoing_call_belongs_to_the_agents_open_call_to_the_same_number(
    new_call, cti, session, api_client, make_user
):
    agent = make_user(Role.AGENT, username="mette")
    new_call(from_number=CITIZEN)
    taken = api_client(agent).post("/api/calls/next").json()
    cti(event="newCall", callId="out-2", direction="out", to="+45 20 12 34 56", user="mette")
    cti(event="answer", callId="out-2", direction="out", talkTime="3")
    cti(event="hangup", callId="out-2", direction="out", cause="normalClearing", talkTime="3")

    call = _call(session, "out-2")
    assert call.related_call_id == taken["id"] and call.callback_id is None
    assert call.municipality_code == taken["municipality_code"]
    assert call.state == CallState.OUTGOING and call.answered_at and call.ended_at
    # The agent's own call is untouched by their call out.
    assert session.get(Call, taken["id"]).state == CallState.ACTIVE


def test_an_outgoing_call_belongs_to_an_open_callback_to_the_same_number(
    new_call, cti, session, make_user
):
    booker = make_user(Role.AGENT)
    callback = Callback(
        municipality_code="0101",
        booked_by_id=booker.id,
        caller_phone=CITIZEN,
        question="Pas",
    )
    session.add(callback)
    session.commit()
    make_user(Role.AGENT, username="other")
    cti(event="newCall", callId="out-3", direction="out", to="20123456", user="other")

    call = _call(session, "out-3")
    assert call.callback_id == callback.id and call.related_call_id is None
    assert call.municipality_code == "0101"
