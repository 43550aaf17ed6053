"""The live streams over a real server (uvicorn in a thread): the console's queue, the board.

On SQLite the change reaches the stream in process; on PostgreSQL through NOTIFY and the feed's
LISTEN connection (the PostgreSQL pass of the suite runs these too).
"""

import asyncio
import itertools
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from hotline.auth.account import create_token
from hotline.auth.models import Role, User
from hotline.calls import presence
from hotline.calls.agents import choose_agent_state
from hotline.calls.events import CallsFeed, mark_calls_changed
from hotline.calls.models import AgentState, AgentStatus
from hotline.main import create_app
from hotline.web import live_renders, live_views
from tests.calls.conftest import AARHUS_LINE
from tests.calls.sse import EventReader, log_in, named, serve_in_thread
from tests.conftest import TEST_PASSWORD

_cti_ids = itertools.count(1)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def server(app):
    """The app served by uvicorn in a thread; its base URL."""
    with serve_in_thread(app) as url:
        yield url


def cti(url: str, settings, **event) -> dict:
    """Post an event as the telephony platform does; returns the answer."""
    response = httpx.post(f"{url}/api/cti/{settings.cti_token}", data=event)
    assert response.status_code == 200, response.text
    return response.json()


def offer_call(url: str, settings, caller: str = "+4520123456", cti_id: str = "") -> str:
    """The telephony platform reports a new call on the Aarhus line; returns its reference."""
    cti_id = cti_id or f"live-{next(_cti_ids)}"
    answer = cti(url, settings, event="newCall", callId=cti_id, to=AARHUS_LINE, **{"from": caller})
    return answer["reference"]


@contextmanager
def browser(url: str, username: str) -> Iterator[httpx.Client]:
    """A client logged in with the session cookie, as the console's browser is."""
    with httpx.Client(base_url=url, timeout=10) as client:
        log_in(client, username, TEST_PASSWORD)
        yield client


def test_a_new_call_reaches_an_open_console_stream(server, settings, make_user, aarhus_line):
    make_user(Role.AGENT, username="mette")
    with browser(server, "mette") as client, client.stream("GET", "/console/stream") as response:
        assert response.headers["cache-control"] == "no-store"
        events = EventReader(response)
        assert "Ingen ventende opkald" in events.wait_for(named("queue")).data
        assert "Ikke klar" in events.wait_for(named("agent-state")).data  # away after login
        reference = offer_call(server, settings)
        queue = events.wait_for(named("queue", reference))
        assert "Aarhus" in queue.data and "+4520123456" in queue.data
        assert "Tag næste opkald (1)" in queue.data


def test_the_board_follows_an_agent_through_a_call(
    server, settings, make_user, aarhus_line, api_client_for
):
    make_user(Role.SUPERVISOR, username="sven")
    agent = make_user(Role.AGENT, username="mette", full_name="Mette Hansen")
    reference = offer_call(server, settings, cti_id="board-1")
    with browser(server, "sven") as client, client.stream("GET", "/supervisor/stream") as response:
        events = EventReader(response)
        board = events.wait_for(named("board", reference))
        assert 'id="waiting-count">1<' in board.data and "Aarhus" in board.data
        api = api_client_for(server, agent)
        call_id = api.post("/api/calls/next").json()["id"]
        board = events.wait_for(named("board", "I samtale"))
        assert "Mette Hansen" in board.data and reference in board.data
        assert 'id="waiting-count">0<' in board.data
        cti(server, settings, event="hangup", callId="board-1")
        events.wait_for(named("board", "Efterbehandling"))
        wrap_up = {"contact_reason_code": "pas", "outcome": "answered"}
        assert api.post(f"/api/calls/{call_id}/wrap-up", json=wrap_up).status_code == 200
        board = events.wait_for(lambda e: e.name == "board" and reference not in e.data)
        assert 'data-agent-state="available"' in board.data


def test_each_console_gets_its_own_variant_and_csrf_token(
    server, settings, make_user, aarhus_line, api_client_for
):
    make_user(Role.AGENT, username="mette")
    make_user(Role.AGENT, username="anna")
    busy_agent = make_user(Role.AGENT, username="jonas")
    offer_call(server, settings, cti_id="variant-1")
    api_client_for(server, busy_agent).post("/api/calls/next").raise_for_status()
    reference = offer_call(server, settings, cti_id="variant-2")
    with (
        browser(server, "mette") as mette,
        browser(server, "anna") as anna,
        browser(server, "jonas") as jonas,
    ):
        ready = {"state": "available", "csrf_token": _page_csrf(mette)}
        assert mette.post("/console/state", data=ready).status_code == 303
        with (
            mette.stream("GET", "/console/stream") as mette_stream,
            anna.stream("GET", "/console/stream") as anna_stream,
            jonas.stream("GET", "/console/stream") as jonas_stream,
        ):
            free = EventReader(mette_stream).wait_for(named("queue", reference)).data
            away = EventReader(anna_stream).wait_for(named("queue", reference)).data
            busy = EventReader(jonas_stream).wait_for(named("queue", reference)).data
        # Only the ready agent may take it; the one who is not ready is told why.
        assert "/claim" in free and "/claim" not in busy and "/claim" not in away
        assert "Du er meldt ikke klar" in away and 'aria-disabled="true"' in away
        assert "Du er meldt ikke klar" not in free + busy
        # The fragment holds no CSRF token: its buttons submit the page's one claim form.
        assert "csrf" not in free and live_renders.CSRF_SLOT not in free
        assert 'form="queue-form"' in free
        claim = re.search(r'formaction="(/console/calls/\d+/claim)"', free).group(1)
        taken = mette.post(claim, data={"csrf_token": _page_csrf(mette)})
        assert taken.status_code == 303 and taken.headers["location"] == "/console"
        assert mette.post(claim, data={}).status_code == 403  # without the token: refused


def _page_csrf(client: httpx.Client) -> str:
    return CSRF_FIELD.search(client.get("/console").text).group(1)


def test_a_console_stream_opened_with_an_api_token_notes_its_console_at_once(
    server, session, make_user, aarhus_line
):
    # The token's first use is written in the request's own transaction; noting the console in
    # another one waited for that write (SQLite: one writer) until the busy timeout.
    agent = make_user(Role.AGENT, username="mette")
    choose_agent_state(session=session, user=agent, state="away")
    _, token = create_token(session=session, user=agent, name="integration")
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    with (
        httpx.Client(base_url=server, timeout=10) as client,
        client.stream("GET", "/console/stream", headers=headers) as response,
    ):
        EventReader(response).wait_for(named("agent-state", "Ikke klar"), timeout=5)
        assert time.monotonic() - started < 5
    session.expire_all()
    assert session.get(AgentStatus, agent.id).console_seen_at is not None


def test_an_agent_who_closes_every_console_is_made_away(
    settings, session, make_user, aarhus_line, monkeypatch
):
    monkeypatch.setattr(presence, "PRESENCE_CHECK_S", 0.2)
    settings.console_gone_after_s = 1
    agent = make_user(Role.AGENT, username="mette")
    with serve_in_thread(create_app(settings)) as url, browser(url, "mette") as client:
        token = CSRF_FIELD.search(client.get("/console").text).group(1)
        with client.stream("GET", "/console/stream") as response:
            events = EventReader(response)
            events.wait_for(named("agent-state", "Ikke klar"))
            client.post("/console/state", data={"state": "available", "csrf_token": token})
            events.wait_for(named("agent-state", "Klar"))
            time.sleep(2)  # longer than console_gone_after_s: the open stream keeps it "klar"
            assert _state_of(session, agent) == AgentState.AVAILABLE
        deadline = time.monotonic() + 5
        while _state_of(session, agent) != AgentState.AWAY:
            assert time.monotonic() < deadline, "still available after the console closed"
            time.sleep(0.1)


def _state_of(session, user: User) -> AgentState:
    session.expire_all()
    return session.get(AgentStatus, user.id).state


def test_a_burst_of_changes_ends_in_a_render_that_shows_them_all(
    server, settings, make_user, aarhus_line
):
    make_user(Role.AGENT, username="mette")
    with browser(server, "mette") as client, client.stream("GET", "/console/stream") as response:
        events = EventReader(response)
        events.wait_for(named("queue"))
        references = [offer_call(server, settings, caller=f"+452012345{i}") for i in range(6)]
        shown: set[str] = set()

        def shows_all(event) -> bool:
            if event.name in ("queue", "queue-rows"):
                shown.update(r for r in references if r in event.data)
            return shown == set(references)

        events.wait_for(shows_all)
    queue_renders = [e for e in events.seen if e.name in ("queue", "queue-rows")]
    assert len(queue_renders) <= 1 + len(references)
    # After the first, the queue's changes come as patches of the rows, not the whole fragment.
    assert [e.name for e in queue_renders[2:]] == ["queue-rows"] * len(queue_renders[2:])


def test_the_stream_sends_a_heartbeat_while_nothing_changes(
    server, make_user, aarhus_line, monkeypatch
):
    monkeypatch.setattr(live_views, "HEARTBEAT_SECONDS", 0.2)
    make_user(Role.SUPERVISOR, username="sven")
    with browser(server, "sven") as client, client.stream("GET", "/supervisor/stream") as response:
        events = EventReader(response)
        events.wait_for(named("board"))
        assert events.wait_for(named("comment"), timeout=5).data == "heartbeat"


def test_the_stream_ends_when_the_user_is_logged_out_everywhere(
    server, settings, session, make_user, aarhus_line
):
    agent = make_user(Role.AGENT, username="mette")
    with browser(server, "mette") as client, client.stream("GET", "/console/stream") as response:
        events = EventReader(response)
        events.wait_for(named("queue"))
        session.get(User, agent.id).session_epoch += 1
        session.commit()
        reference = offer_call(server, settings)  # a change: the next render checks the login
        while (event := events.next()) is not None:
            assert reference not in event.data
        assert client.get("/console/stream").status_code == 401


def test_a_logout_ends_that_sessions_stream_and_no_other(server, settings, make_user, aarhus_line):
    make_user(Role.AGENT, username="mette")
    with (
        browser(server, "mette") as leaving,
        browser(server, "mette") as staying,
        leaving.stream("GET", "/console/stream") as ended,
        staying.stream("GET", "/console/stream") as kept,
    ):
        ending, going_on = EventReader(ended), EventReader(kept)
        ending.wait_for(named("queue"))
        going_on.wait_for(named("queue"))
        csrf = CSRF_FIELD.search(leaving.get("/console").text).group(1)
        assert leaving.post("/logout", data={"csrf_token": csrf}).status_code == 303
        while ending.next() is not None:  # the logout's own change ends the stream
            pass
        reference = offer_call(server, settings)
        going_on.wait_for(lambda event: reference in event.data)


def test_the_stream_ends_when_the_session_expires(settings, make_user, aarhus_line):
    settings.session_max_age_s = 2
    make_user(Role.AGENT, username="mette")
    with serve_in_thread(create_app(settings)) as url, browser(url, "mette") as client:
        started = time.monotonic()
        with client.stream("GET", "/console/stream") as response:
            events = EventReader(response)
            while events.next() is not None:
                pass
        assert time.monotonic() - started < 6
        assert [e.name for e in events.seen][:2] == ["queue", "agent-state"]


def test_a_commit_wakes_the_feed_and_a_rollback_does_not(engine, session, make_user):
    agent_id = make_user(Role.AGENT).id

    def change(commit: bool) -> None:
        with session.begin():
            session.get(User, agent_id).full_name = "Ændret"
            mark_calls_changed(session)
            if not commit:
                session.rollback()

    async def scenario() -> None:
        feed = CallsFeed(engine)
        async with feed.running():
            while engine.dialect.name == "postgresql" and not feed.listening:
                await asyncio.sleep(0.05)
            changes = feed.subscribe()
            await asyncio.sleep(0.2)
            while not changes.empty():  # the listener's "I am back" wake-up
                changes.get_nowait()
            await asyncio.to_thread(change, False)
            await asyncio.sleep(0.5)
            assert changes.empty()
            await asyncio.to_thread(change, True)
            await asyncio.wait_for(changes.get(), 5)

    session.commit()
    asyncio.run(scenario())


def test_changes_coalesce_in_a_subscriber(engine):
    async def scenario() -> None:
        feed = CallsFeed(engine)
        changes = feed.subscribe()
        for _ in range(5):
            feed.changed()
        assert changes.qsize() == 1
        feed.unsubscribe(changes)
        feed.changed()
        assert changes.qsize() == 1

    asyncio.run(scenario())


@pytest.fixture
def api_client_for(session):
    """api_client_for(url, user) -> an httpx client with a fresh bearer token of the user."""
    from hotline.auth.service import issue_api_token

    clients: list[httpx.Client] = []

    def factory(url: str, user: User) -> httpx.Client:
        token = issue_api_token(session=session, user=user, name="live")
        session.commit()
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()
