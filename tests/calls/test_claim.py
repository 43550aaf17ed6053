"""Claiming calls: atomic, one call per agent, only agents and supervisors."""

import threading
import time

import pytest
from sqlalchemy import select

from hotline.auth.models import Role, User
from hotline.calls.models import Call, CallState, ContactReason
from hotline.calls.queue import claim_call, claim_next_call, list_waiting_calls
from hotline.db import make_sessionmaker
from hotline.kit.errors import Conflict, PermissionDenied


def _call(session, reference: str) -> Call:
    return session.scalar(select(Call).where(Call.reference == reference))


def test_twenty_agents_claiming_the_same_call_at_once_exactly_one_wins(
    engine, new_call, make_user, session
):
    _, reference = new_call()
    call_id = _call(session, reference).id
    agent_ids = [make_user(Role.AGENT).id for _ in range(20)]
    sessionmaker = make_sessionmaker(engine)
    barrier = threading.Barrier(len(agent_ids))
    results: list[str] = []
    lock = threading.Lock()

    def attempt(agent_id: int) -> None:
        with sessionmaker() as own:
            agent = own.get(User, agent_id)
            # Give the connection back: 20 threads must not exhaust the engine's pool of 15.
            own.commit()
            barrier.wait()
            try:
                claim_call(session=own, call_id=call_id, agent=agent)
                own.commit()
                outcome = f"won:{agent_id}"
            except Conflict as exc:
                own.rollback()
                outcome = exc.key
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(a,)) for a in agent_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    winners = [r for r in results if r.startswith("won:")]
    assert len(results) == 20
    assert len(winners) == 1
    assert results.count("calls.already_taken") == 19
    session.expire_all()
    call = session.get(Call, call_id)
    assert call.state == CallState.ACTIVE
    assert f"won:{call.agent_id}" == winners[0]


def test_agent_with_an_active_call_cannot_claim_another(new_call, make_user, session):
    agent = make_user(Role.AGENT)
    first, second = new_call()[1], new_call()[1]
    claim_call(session=session, call_id=_call(session, first).id, agent=agent)
    with pytest.raises(Conflict) as exc:
        claim_call(session=session, call_id=_call(session, second).id, agent=agent)
    assert exc.value.key == "calls.agent_busy"


def test_claim_next_takes_the_oldest_and_sets_answered_at(new_call, make_user, session):
    oldest, newer = new_call()[1], new_call()[1]
    call = claim_next_call(session=session, agent=make_user(Role.SUPERVISOR))
    assert call.reference == oldest
    assert call.answered_at is not None
    assert [c.reference for c in list_waiting_calls(session=session)] == [newer]


def test_claim_next_on_an_empty_queue_is_a_conflict(session, make_user, aarhus_line):
    with pytest.raises(Conflict):
        claim_next_call(session=session, agent=make_user(Role.AGENT))


def test_municipality_admin_cannot_claim(new_call, make_user, session):
    _, reference = new_call()
    with pytest.raises(PermissionDenied):
        claim_call(
            session=session,
            call_id=_call(session, reference).id,
            agent=make_user(Role.MUNICIPALITY_ADMIN, "0751"),
        )


def test_claim_over_the_api(new_call, api_client, make_user):
    _, reference = new_call()
    agent_client = api_client(make_user(Role.AGENT))
    response = agent_client.post("/api/calls/next")
    assert response.status_code == 200
    assert response.json()["reference"] == reference and response.json()["state"] == "active"
    other = api_client(make_user(Role.AGENT))
    assert other.post(f"/api/calls/{response.json()['id']}/claim").status_code == 409


def test_one_agent_claiming_two_calls_at_once_gets_exactly_one(
    engine, new_call, make_user, session
):
    """Under READ COMMITTED, NOT EXISTS misses the other uncommitted claim; the index does not."""
    call_ids = [_call(session, new_call()[1]).id for _ in range(2)]
    agent_id = make_user(Role.AGENT).id
    sessionmaker = make_sessionmaker(engine)
    barrier = threading.Barrier(2)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(call_id: int) -> None:
        with sessionmaker() as own:
            agent = own.get(User, agent_id)
            own.commit()
            # Work done before the claim in the same transaction must survive a refused claim.
            own.add(ContactReason(code=f"t-{call_id}", label="Test"))
            barrier.wait()
            try:
                claim_call(session=own, call_id=call_id, agent=agent)
                # Hold the claim uncommitted while the other thread claims.
                time.sleep(0.5)
                outcome = "won"
            except Conflict as exc:
                outcome = exc.key
            own.commit()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in call_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(results) == ["calls.agent_busy", "won"]
    session.expire_all()
    states = [session.get(Call, c).state for c in call_ids]
    assert sorted(states) == [CallState.ACTIVE, CallState.WAITING]
    reasons = session.scalars(select(ContactReason.code).where(ContactReason.code.like("t-%")))
    assert sorted(reasons) == sorted(f"t-{c}" for c in call_ids)


def test_a_call_answered_outside_hotline_cannot_be_claimed(new_call, cti, make_user, session):
    call_id, reference = new_call()
    assert cti(event="answer", callId=call_id, user="nobody").status_code == 200
    with pytest.raises(Conflict) as refused:
        claim_call(
            session=session, call_id=_call(session, reference).id, agent=make_user(Role.AGENT)
        )
    assert refused.value.key == "calls.already_taken"
