"""`hotline cti asterisk` replaying recorded AMI streams from a real TCP server on loopback."""

import asyncio
import logging
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, CtiEvent
from tests.calls.ami_replay import Clock, replay, with_manager_user
from tests.calls.ami_server import Connection, FakeAsterisk


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("hotline.calls.cti.utcnow", clock.now)
    return clock


@pytest.fixture
def asterisk_settings(settings, aarhus_line):
    return with_manager_user(settings)


def calls_by_id(session) -> dict[str, Call]:
    return {c.cti_call_id: c for c in session.scalars(select(Call))}


def events_of(session) -> list[tuple[str, str, int]]:
    rows = session.execute(
        select(CtiEvent.cti_call_id, CtiEvent.event, func.count())
        .group_by(CtiEvent.cti_call_id, CtiEvent.event)
        .order_by(CtiEvent.cti_call_id, CtiEvent.event)
    )
    return [tuple(row) for row in rows]


def seconds(start: datetime | None, end: datetime | None) -> float:
    return (end - start).total_seconds()


def test_answered_calls_end_in_wrap_up_or_elsewhere_with_the_platforms_times(
    asterisk_settings, make_session, session, make_user, clock
):
    anna = make_user(Role.AGENT, username="anna")
    server = FakeAsterisk([Connection(stream="answered.ami")])
    adapter = asyncio.run(replay(server, asterisk_settings, make_session, clock))

    calls = calls_by_id(session)
    assert set(calls) == {"1733560000.34", "1733560003.36"}  # queue "intern" is not served
    answered = calls["1733560000.34"]
    assert (answered.state, answered.agent_id) == (CallState.WRAP_UP, anna.id)
    assert (answered.from_number, answered.to_number) == ("+4520123456", "+4588000751")
    assert (answered.line_municipality_code, answered.cti_queue) == ("0751", "hotline")
    assert answered.offered_at == clock.at(0)
    assert seconds(answered.offered_at, answered.answered_at) == 12  # HoldTime, not the delay
    assert seconds(answered.answered_at, answered.ended_at) == 95  # TalkTime
    assert answered.end_cause == "normalClearing"
    elsewhere = calls["1733560003.36"]
    assert (elsewhere.state, elsewhere.agent_id) == (CallState.ELSEWHERE, None)
    assert elsewhere.from_number == "anonymous"
    assert seconds(elsewhere.offered_at, elsewhere.answered_at) == 14
    assert seconds(elsewhere.answered_at, elsewhere.ended_at) == 80
    assert events_of(session) == [
        (call_id, event, 1)
        for call_id in ("1733560000.34", "1733560003.36")
        for event in ("answer", "hangup", "newCall")
    ]
    assert adapter.recorder.counts["refused"] == adapter.recorder.counts["skipped"] == 0
    login, status = server.actions[0][:2]
    assert (login["Action"], login["Username"], login["Secret"], login["Events"]) == (
        "Login",
        "hotline",
        "s3cret",
        "on",
    )
    assert status["Action"] == "QueueStatus"


WAITING_BEFORE = {
    "Channel": "PJSIP/trunk-00000020",
    "Uniqueid": "1733561000.50",
    "CallerIDNum": "86123456",
    "Queue": "hotline",
    "Wait": "30",
    "Exten": "88000751",
}


def test_abandoned_calls_and_a_caller_waiting_before_the_adapter_started(
    asterisk_settings, make_session, session, clock, caplog
):
    caplog.set_level(logging.INFO)
    server = FakeAsterisk([Connection(stream="abandoned.ami", waiting=[WAITING_BEFORE])])
    adapter = asyncio.run(replay(server, asterisk_settings, make_session, clock))

    assert_abandoned(session, server)
    assert adapter.recorder.counts["skipped"] == 1  # the join cut short; the rest went on
    assert "QueueCallerJoin event skipped: no Uniqueid" in caplog.text
    for number in ("86123456", "21234567", "25678901"):
        assert number not in caplog.text  # callers' numbers are personal data


def test_a_database_outage_delays_recording_and_loses_nothing(
    asterisk_settings, make_session, session, clock
):
    failures = iter(range(3))

    def flaky_session():
        if next(failures, None) is not None:
            raise OperationalError("BEGIN", {}, ConnectionRefusedError("database restarting"))
        return make_session()

    server = FakeAsterisk([Connection(stream="abandoned.ami", waiting=[WAITING_BEFORE])])
    adapter = asyncio.run(replay(server, asterisk_settings, flaky_session, clock))

    assert_abandoned(session, server)
    assert adapter.recorder.counts == {"recorded": 6, "duplicate": 0, "refused": 0, "skipped": 1}


def assert_abandoned(session, server: FakeAsterisk) -> None:
    calls = calls_by_id(session)
    live = calls["1733561010.52"]
    assert (live.state, live.end_cause) == (CallState.ABANDONED, "cancel")
    assert seconds(live.offered_at, live.ended_at) == 38
    before = calls["1733561000.50"]
    assert before.state == CallState.ABANDONED
    # QueueEntry has no dialled number: the adapter asked with Getvar.
    assert (before.from_number, before.to_number) == ("+4586123456", "+4588000751")
    assert before.line_municipality_code == "0751"
    getvar = [a for a in server.actions[0] if a["Action"] == "Getvar"]
    assert [(a["Channel"], a["Variable"]) for a in getvar] == [("PJSIP/trunk-00000020", "EXTEN")]
    assert len(events_of(session)) == 4


def test_a_dropped_connection_reconnects_resynchronises_and_loses_nothing(
    asterisk_settings, make_session, session, make_user, clock
):
    anna = make_user(Role.AGENT, username="anna")
    bo = make_user(Role.AGENT, username="bo")
    still_waiting = {
        "Channel": "PJSIP/trunk-00000032",
        "Uniqueid": "1733562004.62",
        "CallerIDNum": "23456789",
        "Queue": "hotline",
        "Wait": "16",
        "Exten": "88000751",
    }
    joined_meanwhile = {
        "Channel": "PJSIP/trunk-00000034",
        "Uniqueid": "1733562020.65",
        "CallerIDNum": "24567890",
        "Queue": "hotline",
        "Wait": "3",
        "Exten": "88000751",
    }
    server = FakeAsterisk(
        [
            Connection(stream="dropped-1.ami"),
            Connection(stream="dropped-2.ami", waiting=[still_waiting, joined_meanwhile]),
        ]
    )
    adapter = asyncio.run(replay(server, asterisk_settings, make_session, clock))

    assert adapter.logins == 2
    assert [[a["Action"] for a in actions][:2] for actions in server.actions] == [
        ["Login", "QueueStatus"],
        ["Login", "QueueStatus"],
    ]
    calls = calls_by_id(session)
    assert len(calls) == 3
    completed = calls["1733562000.60"]
    assert (completed.state, completed.agent_id) == (CallState.WRAP_UP, anna.id)
    assert seconds(completed.offered_at, completed.answered_at) == 9
    assert seconds(completed.answered_at, completed.ended_at) == 65
    answered = calls["1733562004.62"]
    assert (answered.state, answered.agent_id) == (CallState.ACTIVE, bo.id)
    assert seconds(answered.offered_at, answered.answered_at) == 78
    meanwhile = calls["1733562020.65"]
    assert (meanwhile.state, meanwhile.to_number) == (CallState.ABANDONED, "+4588000751")
    # Found by the resynchronisation at 10 s, having waited 3 s by Asterisk's Wait.
    assert meanwhile.offered_at == clock.at(7)
    assert seconds(meanwhile.offered_at, meanwhile.ended_at) == 60
    assert {count for _, _, count in events_of(session)} == {1}
    assert len(events_of(session)) == 3 + 2 + 2
