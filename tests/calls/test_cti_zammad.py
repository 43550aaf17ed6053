"""Zammad's own CTI request tests, replayed against our webhook with Zammad's outcome for each call.

The sequences are those of Zammad's spec/requests/integration/cti_spec.rb and the generic CTI
documentation, translated: Zammad's "missed" (done=false) is our abandoned call, an answer by
someone Hotline doesn't know is "answered elsewhere", and an outgoing call is never queued.
"""

import pytest
from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState

LINE = "4930600000000"
CALLER = "4912347114711"

# (name, [(transport, fields)...], expected) with expected: state, answered, queue, from.
SEQUENCES = [
    (
        "outbound hung up by the agent before the citizen answered",
        [
            ("form", dict(event="newCall", direction="out", to=CALLER, user="user 1")),
            ("form", dict(event="hangup", direction="out", cause="cancel")),
        ],
        dict(state=CallState.OUTGOING, answered=False, ended=True),
    ),
    (
        "outbound answered by the citizen, then hung up",
        [
            ("form", dict(event="newCall", direction="out", to=CALLER, **{"user[]": "user 1"})),
            ("form", dict(event="answer", direction="out", to=CALLER)),
            ("form", dict(event="hangup", direction="out", cause="normalClearing", to=CALLER)),
        ],
        dict(state=CallState.OUTGOING, answered=True, ended=True),
    ),
    (
        "inbound answered (no user named), hung up, then a late answer as JSON",
        [
            ("form", dict(event="newCall", direction="in", **{"from": CALLER}, user="user 1")),
            ("form", dict(event="answer", direction="in", **{"from": CALLER})),
            ("form", dict(event="hangup", direction="in", cause="normalClearing")),
            ("json", dict(event="answer", direction="in", **{"from": CALLER})),
        ],
        dict(state=CallState.ELSEWHERE, answered=True, ended=True),
    ),
    (
        "inbound answered by voicemail: missed",
        [
            ("form", dict(event="newCall", direction="in", user=["user 1", "user 2"])),
            ("form", dict(event="answer", direction="in", user="voicemail")),
            ("form", dict(event="hangup", direction="in", cause="normalClearing")),
        ],
        dict(state=CallState.ABANDONED, answered=False, ended=True),
    ),
    (
        "inbound hung up while ringing: missed",
        [
            ("form", dict(event="newCall", direction="in", user="user 1,user 2")),
            ("form", dict(event="hangup", direction="in", cause="normalClearing")),
        ],
        dict(state=CallState.ABANDONED, answered=False, ended=True),
    ),
    (
        "inbound forwarded while ringing: not missed",
        [
            ("form", dict(event="newCall", direction="in")),
            ("form", dict(event="hangup", direction="in", cause="forwarded")),
        ],
        dict(state=CallState.ELSEWHERE, answered=False, ended=True),
    ),
    (
        "inbound from a hidden number, with a queue name and no user",
        [("form", dict(event="newCall", direction="in", user="", queue="some_queue_name"))],
        dict(state=CallState.WAITING, answered=False, queue="some_queue_name", caller="anonymous"),
    ),
    (
        "inbound by JSON with call_id and user[]",
        [("json", dict(event="newCall", direction="in", **{"user[]": ["user 1", "user 2"]}))],
        dict(state=CallState.WAITING, answered=False),
    ),
]
MISSED_CAUSES = ["cancel", "noAnswer", "busy", "congestion", "notFound", "normalClearing"]


def _post(cti, call_id: str, transport: str, fields: dict, id_key: str):
    fields = {"to": LINE, **fields, id_key: call_id}
    if "from" not in fields and fields.get("direction") == "in":
        fields["from"] = "anonymous" if fields.get("queue") else CALLER
    if fields.get("direction") == "out":
        fields.setdefault("from", LINE)
    return cti(as_json=transport == "json", **fields)


@pytest.mark.parametrize("id_key", ["callId", "call_id"])
@pytest.mark.parametrize(
    ("name", "steps", "expected"), SEQUENCES, ids=[name for name, _, _ in SEQUENCES]
)
def test_zammad_sequence(cti, session, name, steps, expected, id_key):
    call_id = f"{id_key}-{abs(hash(name))}"
    for transport, fields in steps:
        response = _post(cti, call_id, transport, fields, id_key)
        assert response.status_code == 200, (fields, response.text)
    call = session.scalar(select(Call).where(Call.cti_call_id == call_id))
    assert call.state == expected["state"]
    assert (call.answered_at is not None) == expected["answered"]
    assert call.agent_id is None
    if "ended" in expected:
        assert (call.ended_at is not None) == expected["ended"]
    if "queue" in expected:
        assert call.cti_queue == expected["queue"]
    if "caller" in expected:
        assert call.from_number == expected["caller"]


@pytest.mark.parametrize("cause", MISSED_CAUSES)
def test_every_cause_but_forwarded_misses_an_unanswered_incoming_call(cti, session, cause):
    call_id = f"missed-{cause}"
    assert _post(cti, call_id, "form", dict(event="newCall", direction="in"), "callId").is_success
    response = _post(
        cti, call_id, "form", dict(event="hangup", direction="in", cause=cause), "callId"
    )
    assert response.status_code == 200
    call = session.scalar(select(Call).where(Call.cti_call_id == call_id))
    assert call.state == CallState.ABANDONED and call.end_cause == cause


@pytest.mark.parametrize("cause", [*MISSED_CAUSES, "forwarded"])
def test_no_cause_makes_an_answered_call_missed(cti, session, make_user, cause):
    agent = make_user(Role.AGENT, username="agent")
    call_id = f"answered-{cause}"
    _post(cti, call_id, "form", dict(event="newCall", direction="in"), "callId")
    _post(cti, call_id, "form", dict(event="answer", direction="in", user="AGENT"), "callId")
    _post(cti, call_id, "form", dict(event="hangup", direction="in", cause=cause), "callId")
    call = session.scalar(select(Call).where(Call.cti_call_id == call_id))
    assert call.state == CallState.WRAP_UP and call.agent_id == agent.id


@pytest.mark.parametrize(
    "who",
    [
        dict(user="AGENT"),
        dict(user=["someone else", "Agent"]),
        dict(user="someone else,agent"),
        dict(answeringNumber="Agent@Example.dk"),
        dict(answeringNumber="agent"),
    ],
    ids=["user upper case", "user list", "comma-joined", "answeringNumber e-mail", "login"],
)
@pytest.mark.parametrize("transport", ["form", "json"])
def test_the_answering_agent_is_found_case_insensitively(cti, session, make_user, who, transport):
    agent = make_user(Role.AGENT, username="agent")
    agent.email = "agent@example.dk"
    session.commit()
    call_id = f"who-{transport}-{sorted(who.items())}"
    _post(cti, call_id, transport, dict(event="newCall", direction="in"), "callId")
    fields = dict(event="answer", direction="in", **who)
    if transport == "form" and isinstance(who.get("user"), list):
        fields = dict(event="answer", direction="in", **{"user[]": who["user"]})
    assert _post(cti, call_id, transport, fields, "callId").status_code == 200
    call = session.scalar(select(Call).where(Call.cti_call_id == call_id))
    assert call.state == CallState.ACTIVE and call.agent_id == agent.id


@pytest.mark.parametrize("direction", ["sideways", "IN", "", "inbound"])
def test_an_invalid_direction_is_refused_like_zammad_and_creates_nothing(cti, session, direction):
    response = cti(event="newCall", callId="bad-direction", to=LINE, direction=direction)
    if direction == "":
        # An empty field is an absent one: the call is incoming, as with no direction at all.
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert "retning" in response.json()["detail"].lower()
    assert session.scalar(select(Call).where(Call.cti_call_id == "bad-direction")) is None


def test_placetel_notifications_are_read_as_zammad_maps_them(cti, session, make_user):
    agent = make_user(Role.AGENT, username="anna")
    new = dict(event="IncomingCall", call_id="pt-1", to=LINE, **{"from": CALLER})
    assert cti(**new).status_code == 200
    assert cti(event="CallAccepted", call_id="pt-1", peer="Anna").status_code == 200
    assert cti(event="HungUp", call_id="pt-1", type="accepted").status_code == 200
    answered = session.scalar(select(Call).where(Call.cti_call_id == "pt-1"))
    assert answered.state == CallState.WRAP_UP and answered.agent_id == agent.id
    assert answered.end_cause == "normalClearing"

    assert cti(event="IncomingCall", call_id="pt-2", to=LINE).status_code == 200
    assert cti(event="HungUp", call_id="pt-2", type="missed").status_code == 200
    assert cti(event="OutgoingCall", call_id="pt-3", to=CALLER, **{"from": LINE}).status_code == 200
    states = dict(session.execute(select(Call.cti_call_id, Call.state)).all())
    assert states["pt-2"] == CallState.ABANDONED and states["pt-3"] == CallState.OUTGOING
