"""The queue on the live streams: a window of the oldest calls, shared bytes, per-row patches."""

import json
from datetime import timedelta

import pytest

from hotline.auth.models import Role
from hotline.calls.models import AgentState, AgentStatus, Call, CallState
from hotline.db import utcnow
from hotline.web.console_views import QUEUE_ROWS
from hotline.web.live_renders import CSRF_SLOT, build_snapshot

_numbers = iter(range(100_000, 999_999))


@pytest.fixture
def offer(session, aarhus_line):
    """offer(n) puts n waiting calls on the Aarhus line, each a second younger than the last."""
    start = utcnow() - timedelta(hours=1)
    made: list[Call] = []

    def put(n: int = 1) -> list[Call]:
        calls = []
        for _ in range(n):
            number = next(_numbers)
            call = Call(
                reference=f"HL-T-{number}",
                from_number=f"+4520{number}",
                line_municipality_code="0751",
                offered_at=start + timedelta(seconds=len(made)),
            )
            session.add(call)
            made.append(call)
            calls.append(call)
        session.commit()
        return calls

    return put


def events(data: bytes) -> list[tuple[str, str]]:
    """The (name, data) of each server-sent event in the bytes."""
    parsed = []
    for block in data.decode().split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith("event: "):
            body = "\n".join(line[len("data: ") :] for line in lines[1:])
            parsed.append((lines[0][len("event: ") :], body))
    return parsed


def ready(session, *users) -> None:
    for user in users:
        session.merge(AgentStatus(user_id=user.id, state=AgentState.AVAILABLE, since=utcnow()))
    session.commit()


def test_consoles_of_one_variant_share_the_same_bytes_without_a_csrf_token(
    session, make_user, offer
):
    mette, anna = make_user(Role.AGENT, username="mette"), make_user(Role.AGENT, username="anna")
    ready(session, mette, anna)
    offer(3)
    shot = build_snapshot(session, board=False)
    mette_bytes, _ = shot.console(mette.id, "mettes-token", None)
    anna_bytes, _ = shot.console(anna.id, "annas-token", None)
    queue_of = {name: data for name, data in events(mette_bytes)}
    assert queue_of["queue"] in {name: data for name, data in events(anna_bytes)}["queue"]
    assert shot.console(anna.id, "x", None)[0].startswith(shot.encoded[("queue", "free")])
    assert "csrf" not in queue_of["queue"] and CSRF_SLOT not in queue_of["queue"]
    assert 'form="queue-form"' in queue_of["queue"]
    assert 'formaction="/console/calls/' in queue_of["queue"]
    # The badge's form holds the console's own token.
    assert "mettes-token" in queue_of["agent-state"]


def test_a_new_call_is_sent_as_one_row_and_an_unchanged_queue_not_at_all(session, make_user, offer):
    mette = make_user(Role.AGENT, username="mette")
    ready(session, mette)
    offer(5)
    first = build_snapshot(session, board=False)
    _, shown = first.console(mette.id, "t", None)
    (new,) = offer(1)
    second = build_snapshot(session, board=False)
    sent, shown = second.console(mette.id, "t", shown)
    ((name, data),) = events(sent)  # the badge did not change: not sent again
    patch = json.loads(data)
    assert name == "queue-rows"
    assert list(patch["rows"]) == [str(new.id)] and new.reference in patch["rows"][str(new.id)]
    assert patch["order"][-1] == new.id and len(patch["order"]) == 6
    assert "Tag næste opkald (6)" in patch["head"]
    third = build_snapshot(session, board=False)
    assert third.console(mette.id, "t", shown)[0] == b""


def test_a_claimed_call_leaves_the_order_and_the_claimer_gets_the_whole_busy_queue(
    session, make_user, offer
):
    mette, anna = make_user(Role.AGENT, username="mette"), make_user(Role.AGENT, username="anna")
    ready(session, mette, anna)
    oldest, *_ = offer(4)
    first = build_snapshot(session, board=False)
    _, mette_shown = first.console(mette.id, "t", None)
    _, anna_shown = first.console(anna.id, "t", None)
    oldest.state, oldest.agent_id = CallState.ACTIVE, anna.id
    session.commit()
    second = build_snapshot(session, board=False)
    ((name, data),) = events(second.console(mette.id, "t", mette_shown)[0])
    patch = json.loads(data)
    assert name == "queue-rows" and patch["rows"] == {} and oldest.id not in patch["order"]
    anna_events = dict(events(second.console(anna.id, "t", anna_shown)[0]))
    assert "/claim" not in anna_events["queue"]  # busy: the whole fragment, no take buttons


def test_the_console_lists_the_oldest_calls_and_counts_the_rest(session, make_user, offer):
    mette = make_user(Role.AGENT, username="mette")
    ready(session, mette)
    calls = offer(QUEUE_ROWS + 7)
    shot = build_snapshot(session, board=False)
    queue = dict(events(shot.console(mette.id, "t", None)[0]))["queue"]
    assert queue.count("<tr id=") == QUEUE_ROWS
    assert calls[0].reference in queue and calls[QUEUE_ROWS].reference not in queue
    assert "og 7 flere venter" in queue
    assert f'data-newest="{calls[-1].reference}"' in queue


def test_the_board_is_rendered_only_when_asked_for(session, make_user, offer):
    offer(2)
    assert build_snapshot(session, board=False).board is None
    assert "waiting-count" in build_snapshot(session, board=True).board
