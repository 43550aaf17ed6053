"""Agent states: claim, hang-up, wrap-up, choosing available or away, logging in and out."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hotline.auth.models import Role
from hotline.calls.agents import (
    agent_state,
    away_when_consoles_gone,
    choose_agent_state,
    list_agents,
    note_consoles_open,
)
from hotline.calls.models import AgentState, AgentStatus, Call, CallState
from hotline.calls.presence import OpenConsoles
from hotline.calls.queue import claim_call, claim_next_call
from hotline.calls.service import wrap_up_call
from hotline.db import utcnow
from hotline.kit.errors import Conflict, InvalidInput
from tests.conftest import ready


def _state(session, user) -> tuple[AgentState, int | None]:
    session.expire_all()
    status = session.get(AgentStatus, user.id)
    return (status.state, status.call_id) if status else (AgentState.AWAY, None)


def _call_id(session, reference: str) -> int:
    return session.scalar(select(Call.id).where(Call.reference == reference))


def test_an_agent_never_seen_is_away(session, make_user):
    view = agent_state(session=session, user=make_user(Role.AGENT))
    assert view.state == AgentState.AWAY and view.since is None and view.call is None


def test_claim_hangup_and_wrap_up_move_the_agent_through_the_states(
    session, make_user, new_call, cti
):
    agent = make_user(Role.AGENT)
    choose_agent_state(session=session, user=agent, state="available")
    session.commit()
    cti_id, reference = new_call()
    call = claim_call(session=session, call_id=_call_id(session, reference), agent=agent)
    session.commit()
    assert _state(session, agent) == (AgentState.ON_CALL, call.id)

    assert cti(event="hangup", callId=cti_id).status_code == 200
    assert _state(session, agent) == (AgentState.WRAP_UP, call.id)

    call = session.get(Call, call.id)
    wrap_up_call(
        session=session, call=call, user=agent, contact_reason_code="pas", outcome="answered"
    )
    session.commit()
    assert _state(session, agent) == (AgentState.AVAILABLE, None)


def test_a_cti_answer_puts_the_agent_on_the_call(session, make_user, new_call, cti):
    agent = make_user(Role.AGENT, username="mette")
    cti_id, reference = new_call()
    assert cti(event="answer", callId=cti_id, user="mette").status_code == 200
    assert _state(session, agent) == (AgentState.ON_CALL, _call_id(session, reference))


def test_an_away_agent_takes_no_call_from_the_queue_until_ready(session, make_user, new_call):
    agent = make_user(Role.AGENT)
    choose_agent_state(session=session, user=agent, state="away")
    session.commit()
    _, reference = new_call()
    call_id = _call_id(session, reference)
    for take in (
        lambda: claim_call(session=session, call_id=call_id, agent=agent),
        lambda: claim_next_call(session=session, agent=agent),
    ):
        with pytest.raises(Conflict) as refused:
            take()
        assert refused.value.key == "calls.agent_away"
    session.rollback()
    assert session.get(Call, call_id).state == CallState.WAITING
    choose_agent_state(session=session, user=agent, state="available")
    claim_next_call(session=session, agent=agent)
    session.commit()
    assert _state(session, agent) == (AgentState.ON_CALL, call_id)


def test_the_agent_chooses_available_or_away_but_not_during_a_call(session, make_user, new_call):
    agent = make_user(Role.AGENT)
    choose_agent_state(session=session, user=agent, state="available")
    session.commit()
    since = session.get(AgentStatus, agent.id).since
    choose_agent_state(session=session, user=agent, state="available")  # again: "since" stays
    session.commit()
    assert _state(session, agent)[0] == AgentState.AVAILABLE
    assert session.get(AgentStatus, agent.id).since == since
    choose_agent_state(session=session, user=agent, state="away")
    session.commit()
    assert _state(session, agent)[0] == AgentState.AWAY

    for chosen in ("on_call", "wrap_up", "lunch"):
        with pytest.raises(InvalidInput):
            choose_agent_state(session=session, user=agent, state=chosen)
    _, reference = new_call()
    choose_agent_state(session=session, user=agent, state="available")
    claim_call(session=session, call_id=_call_id(session, reference), agent=agent)
    with pytest.raises(Conflict) as refused:
        choose_agent_state(session=session, user=agent, state="away")
    assert refused.value.key == "live.state_busy"


def test_logging_in_and_out_makes_an_agent_away(client, login, make_user, session):
    agent = make_user(Role.AGENT)
    browser = login(agent)
    assert _state(session, agent)[0] == AgentState.AWAY
    page = browser.post("/console/state", data={"state": "available"})
    assert page.status_code == 200 and "Du er meldt klar til opkald." in page.text
    assert 'class="badge hl-state hl-state--available">Klar<' in page.text
    assert _state(session, agent)[0] == AgentState.AVAILABLE
    assert browser.post("/logout").status_code == 200
    assert _state(session, agent)[0] == AgentState.AWAY
    browser.headers.pop("X-CSRF-Token")  # the logged-out session's token
    login(agent).post("/console/state", data={"state": "available"})
    assert _state(session, agent)[0] == AgentState.AVAILABLE
    login(agent)  # a new login (the next morning, another machine) starts away
    assert _state(session, agent)[0] == AgentState.AWAY


def test_logging_in_during_a_call_keeps_the_agent_on_it(login, make_user, new_call, session):
    agent = make_user(Role.AGENT)
    _, reference = new_call()
    claim_call(session=session, call_id=_call_id(session, reference), agent=agent)
    session.commit()
    login(agent)
    assert _state(session, agent)[0] == AgentState.ON_CALL


def test_the_console_refuses_a_state_change_during_a_call(login, make_user, new_call):
    new_call()
    browser = ready(login(make_user(Role.AGENT)))
    browser.post("/console/calls/next")
    page = browser.get("/console")
    assert "I samtale" in page.text and 'id="agent-state-toggle"' not in page.text
    refused = browser.post("/console/state", data={"state": "away"})
    assert "Du har et opkald i gang" in refused.text


def test_a_supervisor_changes_only_their_own_state(login, make_user, session):
    agent = make_user(Role.AGENT)
    supervisor = make_user(Role.SUPERVISOR)
    choose_agent_state(session=session, user=agent, state="available")
    session.commit()
    login(supervisor).post("/console/state", data={"state": "available", "user_id": agent.id})
    assert _state(session, supervisor)[0] == AgentState.AVAILABLE
    assert _state(session, agent)[0] == AgentState.AVAILABLE


def test_the_board_lists_agents_busiest_first_and_away_supervisors_not_at_all(
    session, make_user, new_call
):
    idle = make_user(Role.AGENT, full_name="Anna Away")
    ready = make_user(Role.AGENT, full_name="Bo Klar")
    busy = make_user(Role.AGENT, full_name="Carl Samtale")
    boss = make_user(Role.SUPERVISOR, full_name="Sus Supervisor")
    for user, state in ((idle, "away"), (ready, "available"), (boss, "away")):
        choose_agent_state(session=session, user=user, state=state)
    session.commit()
    _, reference = new_call()
    claim_call(session=session, call_id=_call_id(session, reference), agent=busy)
    session.commit()
    board = list_agents(session=session)
    assert [(a.name, a.state) for a in board] == [
        ("Carl Samtale", AgentState.ON_CALL),
        ("Bo Klar", AgentState.AVAILABLE),
        ("Anna Away", AgentState.AWAY),
    ]
    assert board[0].call.reference == reference


def test_the_board_shows_who_is_on_which_call_and_the_waiting_calls(
    login, make_user, new_call, session
):
    agent = make_user(Role.AGENT, full_name="Mette Hansen")
    first, second = new_call()[1], new_call("+4530303030")[1]
    claim_call(session=session, call_id=_call_id(session, first), agent=agent)
    session.commit()
    board = login(make_user(Role.SUPERVISOR)).get("/supervisor/board").text
    assert 'id="waiting-count">1<' in board
    assert "Mette Hansen" in board and "I samtale" in board and first in board
    assert f'data-reference="{second}"' in board and "Aarhus" in board
    assert 'id="longest-wait"><span class="hl-timer" data-started-at=' in board
    page = login(make_user(Role.SUPERVISOR)).get("/supervisor").text
    assert 'data-live-stream="/supervisor/stream"' in page and "Mette Hansen" in page
    assert "Opkaldsomkostninger" in page  # the cost report is still there


def test_an_available_agent_whose_consoles_have_gone_is_made_away(session, make_user, new_call):
    gone, here, api_only, on_call = (make_user(Role.AGENT) for _ in range(4))
    for agent in (gone, here, api_only, on_call):
        choose_agent_state(session=session, user=agent, state="available")
    session.commit()
    _, reference = new_call()
    claim_call(session=session, call_id=_call_id(session, reference), agent=on_call)
    note_consoles_open(session=session, user_ids=[gone.id, here.id, on_call.id])
    long_ago = utcnow() - timedelta(minutes=5)
    session.execute(
        update(AgentStatus)
        .where(AgentStatus.user_id.in_([gone.id, on_call.id]))
        .values(console_seen_at=long_ago)
    )
    session.commit()

    made_away = away_when_consoles_gone(session=session, gone_after=timedelta(seconds=90))
    session.commit()
    assert made_away == 1
    assert _state(session, gone) == (AgentState.AWAY, None)
    assert _state(session, here)[0] == _state(session, api_only)[0] == AgentState.AVAILABLE
    assert _state(session, on_call)[0] == AgentState.ON_CALL


def test_a_user_with_two_consoles_open_stays_open_until_both_close():
    consoles = OpenConsoles()
    consoles.opened(7)
    consoles.opened(7)
    consoles.opened(3)
    consoles.closed(7)
    assert consoles.user_ids() == [3, 7]
    consoles.closed(7)
    consoles.closed(3)
    assert consoles.user_ids() == []
