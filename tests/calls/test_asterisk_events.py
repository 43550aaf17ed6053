"""Asterisk's queue events mapped to CTI payloads: the pure mapping."""

import pytest

from hotline.calls.asterisk_events import (
    AmiEventError,
    AmiMapping,
    cti_payloads,
    interface_endpoint,
)
from tests.calls.ami_server import stream_blocks

EVERY_QUEUE = AmiMapping()
CALL = {"callId": "1733560000.34", "direction": "in", "from": "20123456", "queue": "hotline"}


def caller(event: str, **headers: str) -> dict[str, str]:
    """An event about the caller channel of CALL, with the headers Asterisk 18 sends."""
    return {
        "Event": event,
        "Privilege": "agent,all",
        "Channel": "PJSIP/trunk-00000012",
        "CallerIDNum": "20123456",
        "CallerIDName": "<unknown>",
        "Context": "from-trunk",
        "Exten": "88000751",
        "Uniqueid": "1733560000.34",
        "Linkedid": "1733560000.34",
        "Queue": "hotline",
        **headers,
    }


def test_join_is_a_new_call_on_the_dialled_number():
    payloads = cti_payloads(caller("QueueCallerJoin", Position="1", Count="1"), EVERY_QUEUE)
    assert payloads == [{"event": "newCall", **CALL, "to": "88000751"}]


def test_connect_repeats_the_new_call_and_names_the_agent():
    event = caller(
        "AgentConnect", MemberName="anna", Interface="PJSIP/anna", HoldTime="12", RingTime="3"
    )
    new_call, answer = cti_payloads(event, EVERY_QUEUE)
    assert new_call["event"] == "newCall"
    assert answer == {
        "event": "answer",
        **CALL,
        "to": "88000751",
        "user": ["anna"],
        "answeringNumber": "anna",
        "holdTime": 12,
    }


def test_complete_alone_answers_and_hangs_up():
    event = caller(
        "AgentComplete",
        MemberName="Anna Holm",
        Interface="Local/anna@agents/n",
        HoldTime="12",
        TalkTime="95",
        Reason="transfer",
    )
    payloads = cti_payloads(event, EVERY_QUEUE)
    assert [p["event"] for p in payloads] == ["newCall", "answer", "hangup"]
    assert payloads[1]["user"] == ["Anna Holm"] and payloads[1]["answeringNumber"] == "anna"
    assert payloads[2] | {"to": None} == {
        "event": "hangup",
        **CALL,
        "to": None,
        "cause": "normalClearing",
        "holdTime": 12,
        "talkTime": 95,
    }


def test_abandon_is_a_cancelled_hangup_with_the_hold_time():
    event = caller("QueueCallerAbandon", Position="2", OriginalPosition="3", HoldTime="38")
    payloads = cti_payloads(event, EVERY_QUEUE)
    assert [p["event"] for p in payloads] == ["newCall", "hangup"]
    assert (payloads[1]["cause"], payloads[1]["holdTime"]) == ("cancel", 38)


def test_queue_entry_carries_the_wait_and_the_number_the_adapter_asked_for():
    entry = {
        "Event": "QueueEntry",
        "ActionID": "action/1",
        "Queue": "hotline",
        "Position": "1",
        "Channel": "PJSIP/trunk-00000020",
        "Uniqueid": "1733561000.50",
        "CallerIDNum": "86123456",
        "Wait": "30",
    }
    [payload] = cti_payloads(entry, EVERY_QUEUE)
    assert "to" not in payload and payload["holdTime"] == 30
    assert cti_payloads(entry | {"Exten": "88000751"}, EVERY_QUEUE)[0]["to"] == "88000751"


@pytest.mark.parametrize("number", ["", "<unknown>", "Unknown", None])
def test_a_hidden_caller_is_anonymous(number):
    event = caller("QueueCallerJoin", CallerIDNum=number)
    assert cti_payloads(event, EVERY_QUEUE)[0]["from"] == "anonymous"


def test_the_dialled_number_from_a_channel_variable():
    mapping = AmiMapping.from_settings("", " HOTLINE_DIALLED ")
    event = caller("QueueCallerJoin", Exten="s", ChanVariable=["A=1", "hotline_dialled=88000751"])
    assert cti_payloads(event, mapping)[0]["to"] == "88000751"
    assert "to" not in cti_payloads(caller("QueueCallerJoin", Exten="s"), mapping)[0]


def test_only_the_queues_served():
    mapping = AmiMapping.from_settings("hotline, hotline-en,", "")
    assert mapping.queues == {"hotline", "hotline-en"}
    assert cti_payloads(caller("QueueCallerJoin"), mapping)
    assert cti_payloads(caller("QueueCallerJoin", Queue="intern"), mapping) == []


def test_other_events_map_to_nothing():
    for name in ("QueueCallerLeave", "AgentCalled", "Hangup", "FullyBooted", "", None):
        assert cti_payloads(caller(name), EVERY_QUEUE) == []
    assert cti_payloads({}, EVERY_QUEUE) == []


def test_garbled_times_are_left_out_and_a_missing_uniqueid_is_an_error():
    event = caller("AgentComplete", MemberName="anna", HoldTime="-3", TalkTime="９５")
    hangup = cti_payloads(event, EVERY_QUEUE)[-1]
    assert "holdTime" not in hangup and "talkTime" not in hangup
    assert (
        "holdTime" not in cti_payloads(caller("AgentConnect", HoldTime="99999999"), EVERY_QUEUE)[1]
    )
    with pytest.raises(AmiEventError):
        cti_payloads(caller("AgentConnect", Uniqueid=""), EVERY_QUEUE)
    with pytest.raises(AmiEventError):
        cti_payloads(caller("AgentConnect", Uniqueid="9" * 101), EVERY_QUEUE)


def test_headers_are_read_whatever_their_case():
    event = {k.lower(): v for k, v in caller("QueueCallerJoin").items()}
    assert cti_payloads(event, EVERY_QUEUE)[0]["callId"] == "1733560000.34"


@pytest.mark.parametrize(
    ("interface", "endpoint"),
    [("PJSIP/anna", "anna"), ("SIP/101", "101"), ("Local/bo@agents/n", "bo"), ("", "")],
)
def test_interface_endpoint(interface, endpoint):
    assert interface_endpoint(interface) == endpoint


def test_the_recorded_streams_map_and_only_the_cut_event_fails():
    events = {"newCall": 0, "answer": 0, "hangup": 0}
    errors = []
    for name in ("answered.ami", "abandoned.ami", "dropped-1.ami", "dropped-2.ami"):
        for block in stream_blocks(name):
            if block.startswith("-- "):
                continue
            headers = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            try:
                for payload in cti_payloads(headers, EVERY_QUEUE):
                    events[payload["event"]] += 1
            except AmiEventError as exc:
                errors.append((name, str(exc)))
    assert events == {"newCall": 16, "answer": 7, "hangup": 6}
    assert errors == [("abandoned.ami", "no Uniqueid")]
