"""Two server processes share one queue through PostgreSQL's LISTEN/NOTIFY (PostgreSQL only).

tests/calls/conftest.py collects this module only when the suite runs on PostgreSQL: on SQLite
one process serves the database, and the change feed is in-process by design.
"""

import os
import subprocess
import threading
import time
import uuid
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import create_engine, text

from hotline.calls.events import LISTENER_NAME
from tests.calls.sse import EventReader, log_in, make_ready, named, queue_shows
from tests.live import (
    DEMO_PASSWORD,
    HOTLINE,
    ROOT,
    LiveServer,
    free_port,
    start_live_server,
    stop_live_server,
)

AARHUS_LINE = "+4588000751"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two `hotline serve` processes on one PostgreSQL database (with the demo data)."""
    first = start_live_server(
        tmp_path_factory.mktemp("first"), os.environ["HOTLINE_TEST_DATABASE_URL"]
    )
    second = _second_server(first, tmp_path_factory.mktemp("second"))
    yield first, second
    for server in (second, first):
        stop_live_server(server)


def _second_server(first: LiveServer, tmp_dir) -> LiveServer:
    port = free_port()
    env = {**first.env, "HOTLINE_PORT": str(port)}
    log = open(tmp_dir / "server.log", "wb")  # noqa: SIM115  (closed with the process)
    process = subprocess.Popen(
        [*HOTLINE, "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    server = replace(first, url=f"http://127.0.0.1:{port}", env=env, process=process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_dir / "server.log").read_text()
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the second server did not answer /healthz within 30 s")


def _new_call(server: LiveServer, caller: str = "+4520123456") -> tuple[str, str]:
    cti_id = uuid.uuid4().hex
    response = server.post_cti(event="newCall", callId=cti_id, to=AARHUS_LINE, **{"from": caller})
    assert response.status_code == 200, response.text
    return cti_id, response.json()["reference"]


def _listeners(server: LiveServer) -> list[int]:
    engine = create_engine(server.env["HOTLINE_DATABASE_URL"])
    with engine.connect() as connection:
        pids = connection.scalars(
            text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": LISTENER_NAME},
        ).all()
    engine.dispose()
    return list(pids)


def test_a_call_posted_to_one_server_appears_on_a_stream_of_the_other(servers):
    first, second = servers
    with httpx.Client(base_url=second.url, timeout=10) as browser:
        log_in(browser, "agent", DEMO_PASSWORD)
        with browser.stream("GET", "/console/stream") as response:
            events = EventReader(response)
            events.wait_for(named("queue"))
            _, reference = _new_call(first)
            queue = events.wait_for(named("queue", reference))
            assert "Aarhus" in queue.data


def test_a_claim_on_one_server_updates_the_board_on_the_other(servers):
    first, second = servers
    _, reference = _new_call(second)
    with httpx.Client(base_url=first.url, timeout=10) as browser:
        log_in(browser, "supervisor", DEMO_PASSWORD)
        with browser.stream("GET", "/supervisor/stream") as response:
            events = EventReader(response)
            events.wait_for(named("board", reference))
            with httpx.Client(base_url=second.url, timeout=10) as console:
                log_in(console, "agent", DEMO_PASSWORD)
                make_ready(console)
            with second.api("agent") as agent:
                claimed = agent.post(f"/api/calls/{_call_id(agent, reference)}/claim")
                assert claimed.status_code == 200, claimed.text
                board = events.wait_for(named("board", "I samtale"))
                assert reference in board.data
                wrap_up = {"contact_reason_code": "pas", "outcome": "answered"}
                done = agent.post(f"/api/calls/{claimed.json()['id']}/wrap-up", json=wrap_up)
                assert done.status_code == 200, done.text
            events.wait_for(lambda e: e.name == "board" and reference not in e.data)


def test_an_open_stream_survives_its_server_losing_the_listening_connection(servers):
    first, second = servers
    with httpx.Client(base_url=second.url, timeout=10) as browser:
        log_in(browser, "agent", DEMO_PASSWORD)
        with browser.stream("GET", "/console/stream") as response:
            events = EventReader(response)
            events.wait_for(named("queue"))
            before = _listeners(first)
            assert len(before) == 2  # one per server process
            engine = create_engine(first.env["HOTLINE_DATABASE_URL"])
            with engine.connect() as connection:
                for pid in before:
                    connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            engine.dispose()
            deadline = time.monotonic() + 15
            while not (len(now := _listeners(first)) == 2 and not set(now) & set(before)):
                assert time.monotonic() < deadline, "the listeners did not come back"
                time.sleep(0.2)
            # A patch when calls already wait from the module's earlier tests, else the whole queue.
            _, reference = _new_call(first)
            events.wait_for(queue_shows(reference))


def _call_id(api: httpx.Client, reference: str) -> int:
    waiting = api.get("/api/calls", params={"state": "waiting"}).json()
    return next(c["id"] for c in waiting if c["reference"] == reference)


def _at_once(posts) -> list[httpx.Response]:
    """Send the requests together: each thread waits at the barrier, then posts."""
    barrier = threading.Barrier(len(posts))
    results: list[httpx.Response | None] = [None] * len(posts)

    def send(i, server, event):
        barrier.wait()
        results[i] = server.post_cti(**event)

    threads = [
        threading.Thread(target=send, args=(i, server, event))
        for i, (server, event) in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_one_event_posted_to_both_servers_at_once_makes_one_call_and_one_transition(servers):
    first, second = servers
    ids = [uuid.uuid4().hex for _ in range(12)]
    for cti_id in ids:
        new = dict(event="newCall", callId=cti_id, to=AARHUS_LINE, direction="in")
        responses = _at_once([(first, new), (second, new)])
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        assert len({r.json()["reference"] for r in responses} - {None}) == 1
        hangup = dict(event="hangup", callId=cti_id, cause="cancel")
        assert [r.status_code for r in _at_once([(first, hangup), (second, hangup)])] == [200, 200]
    # A newCall on one server and its hangup on the other at the same moment: never a ghost.
    racing = [uuid.uuid4().hex for _ in range(12)]
    for cti_id in racing:
        new = dict(event="newCall", callId=cti_id, to=AARHUS_LINE, direction="in")
        hangup = dict(event="hangup", callId=cti_id, cause="cancel")
        statuses = sorted(r.status_code for r in _at_once([(first, new), (second, hangup)]))
        assert statuses in ([200, 200], [200, 202])

    engine = create_engine(first.env["HOTLINE_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.cti_call_id, c.state, "
                "(SELECT count(*) FROM cti_events e WHERE e.cti_call_id = c.cti_call_id) "
                "FROM calls c WHERE c.cti_call_id = ANY(:ids)"
            ),
            {"ids": ids + racing},
        ).all()
    engine.dispose()
    assert sorted(row[0] for row in rows) == sorted(ids + racing)  # exactly one call each
    assert {row[1] for row in rows} == {"abandoned"}
    assert {row[2] for row in rows} == {2}  # one newCall and one hangup each
