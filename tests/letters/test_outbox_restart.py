"""A real outbox worker process, killed with SIGKILL at each point of an SMTP delivery and
restarted: nothing lost; sent twice only when killed while the server stored the message and had
not yet answered for it (RFC 1047's window), then with the same Message-ID; a restart takes back
the dead worker's mail at once. And several sends at once: one slow recipient holds up no other."""

import asyncio
import email
import email.policy
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from hotline.db import utcnow
from hotline.letters.models import Reply, ReplyStatus
from hotline.letters.outbox import deliver_due_replies
from hotline.letters.service import create_reply
from tests.conftest import require
from tests.letters.conftest import reply_form
from tests.live import free_port

LEASE_S = 2.0
DEADLINE_S = 15.0


class GatedHandler:
    """A mail server that can hold the next RCPT or DATA before answering, until released."""

    def __init__(self) -> None:
        self.accepted: list[email.message.EmailMessage] = []
        self.hold_at: str | None = None
        self.hold_for: str | None = None  # RCPT only: hold this recipient, every time
        self.holding = threading.Event()
        self.release = threading.Event()

    async def _hold_if_asked(self, command: str) -> None:
        if self.hold_at != command:
            return
        self.hold_at = None  # only the first such command: the restarted worker goes through
        await self._hold()

    async def _hold(self) -> None:
        self.holding.set()
        while not self.release.is_set():
            await asyncio.sleep(0.01)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        await self._hold_if_asked("RCPT")
        if address == self.hold_for:
            await self._hold()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        await self._hold_if_asked("QUIT")
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        # Kept before the 250, as a real server stores a message before it answers for it.
        self.accepted.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        await self._hold_if_asked("DATA")
        return "250 Message accepted"


@pytest.fixture
def mail_server():
    """A real SMTP server on loopback whose handler the test controls."""
    handler = GatedHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        handler.release.set()  # a held command must answer before the server can stop
        controller.stop()


@pytest.fixture
def worker(database_url, mail_server, tmp_path):
    """Start `hotline outbox run` as its own process: worker(*args) -> Popen; killed at the end."""
    command = Path(sys.executable).with_name("hotline")
    require(command.exists(), f"the installed command {command}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_DATABASE_URL=database_url,
        HOTLINE_DATA_DIR=str(tmp_path / "var"),
        HOTLINE_MAIL_URL=f"smtp://127.0.0.1:{mail_server.port}",
        HOTLINE_OUTBOX_LEASE_S=str(LEASE_S),
        HOTLINE_OUTBOX_INTERVAL_S="0.1",
    )
    processes: list[subprocess.Popen] = []

    def start(*args: str, **settings: str) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(processes) + 1}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [str(command), "outbox", "run", *args],
            env=env | {f"HOTLINE_{name.upper()}": value for name, value in settings.items()},
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        process.log_path = log.name
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _log_of(process: subprocess.Popen) -> str:
    return Path(process.log_path).read_text(errors="replace")


def wait_for(condition, what: str, *, process: subprocess.Popen | None = None) -> None:
    """Poll until the condition holds; fail at the deadline, or when the worker died."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(
                f"the worker exited ({process.returncode}) before {what}:\n{_log_of(process)}"
            )
        if time.monotonic() > deadline:
            log = _log_of(process) if process is not None else ""
            pytest.fail(f"no {what} within {DEADLINE_S} s\n{log}")
        time.sleep(0.05)


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL: no cleanup, no finally, as in a power cut or the OOM killer."""
    process.kill()
    assert process.wait(timeout=10) == -9


@pytest.fixture
def queued_reply(session, call, agent, settings) -> Reply:
    reply = create_reply(
        session=session, call=call, author=agent, form=reply_form(), settings=settings
    )
    session.commit()
    return reply


def _reload(session, reply: Reply) -> Reply:
    session.expire_all()
    return session.get(Reply, reply.id)


def test_killed_before_the_end_of_data_delivers_once_after_a_restart(
    session, queued_reply, mail_server, worker
):
    handler: GatedHandler = mail_server.handler
    handler.hold_at = "RCPT"
    first = worker()
    wait_for(handler.holding.is_set, "SMTP transaction from the worker", process=first)
    reply = _reload(session, queued_reply)
    assert reply.status == ReplyStatus.SENDING and reply.attempts == 0
    assert reply.next_attempt_at <= utcnow() + timedelta(seconds=LEASE_S)

    kill_hard(first)
    handler.release.set()  # the server answers a connection that is gone, and gets no DATA
    assert handler.accepted == []
    assert _reload(session, queued_reply).status == ReplyStatus.SENDING

    second = worker()
    wait_for(
        lambda: _reload(session, queued_reply).status == ReplyStatus.SENT,
        "delivery after the restart",
        process=second,
    )
    second.terminate()
    second.wait(timeout=10)

    [message] = handler.accepted
    reply = _reload(session, queued_reply)
    assert message["Message-ID"].strip() == reply.message_id
    assert message["Subject"] == reply.subject
    assert reply.attempts == 1 and reply.last_error is None
    assert "re-queued 1 reply e-mail(s) whose lease expired" in _log_of(second)


def test_killed_after_it_was_sent_sends_nothing_again(session, queued_reply, mail_server, worker):
    handler: GatedHandler = mail_server.handler
    first = worker()
    wait_for(
        lambda: _reload(session, queued_reply).status == ReplyStatus.SENT,
        "delivery",
        process=first,
    )
    kill_hard(first)
    reply = _reload(session, queued_reply)
    assert reply.next_attempt_at is None
    # Past any lease the first worker held: a restart must still find nothing to do.
    wait_for(lambda: utcnow() > reply.sent_at + timedelta(seconds=LEASE_S), "end of the lease")

    second = worker("--once")
    assert second.wait(timeout=DEADLINE_S) == 0, _log_of(second)

    assert "0 replies sent" in _log_of(second)
    assert len(handler.accepted) == 1
    assert _reload(session, queued_reply).status == ReplyStatus.SENT


def test_killed_after_the_250_before_sent_is_recorded_sends_again_with_the_same_message_id(
    session, queued_reply, mail_server, worker
):
    """The documented window: the server took the message, the worker died before recording it."""
    handler: GatedHandler = mail_server.handler
    handler.hold_at = "DATA"  # the message is stored; the 250 is not yet on its way
    first = worker()
    wait_for(handler.holding.is_set, "the end of DATA", process=first)
    kill_hard(first)
    handler.release.set()

    second = worker()
    wait_for(
        lambda: _reload(session, queued_reply).status == ReplyStatus.SENT,
        "delivery after the restart",
        process=second,
    )
    second.terminate()
    second.wait(timeout=10)

    message_id = _reload(session, queued_reply).message_id
    assert [m["Message-ID"].strip() for m in handler.accepted] == [message_id, message_id]


def test_killed_while_the_server_says_goodbye_sends_nothing_again(
    session, queued_reply, mail_server, worker
):
    """Recorded as sent at the server's 250 to the end of DATA, before QUIT."""
    handler: GatedHandler = mail_server.handler
    handler.hold_at = "QUIT"
    first = worker()
    wait_for(handler.holding.is_set, "the QUIT", process=first)
    reply = _reload(session, queued_reply)
    assert reply.status == ReplyStatus.SENT and reply.claimed_by is None
    kill_hard(first)
    handler.release.set()
    wait_for(lambda: utcnow() > reply.sent_at + timedelta(seconds=LEASE_S), "end of the lease")

    second = worker("--once")
    assert second.wait(timeout=DEADLINE_S) == 0, _log_of(second)
    assert "0 replies sent" in _log_of(second)
    assert len(handler.accepted) == 1


def test_a_restarted_worker_takes_back_its_dead_predecessors_mail_at_once(
    session, queued_reply, mail_server, worker
):
    handler: GatedHandler = mail_server.handler
    handler.hold_at = "RCPT"
    first = worker(outbox_lease_s="600")  # the default lease: ten minutes
    wait_for(handler.holding.is_set, "SMTP transaction from the worker", process=first)
    assert f":{first.pid}:" in _reload(session, queued_reply).claimed_by
    kill_hard(first)
    handler.release.set()

    second = worker(outbox_lease_s="600")
    wait_for(  # within DEADLINE_S, not after the lease
        lambda: _reload(session, queued_reply).status == ReplyStatus.SENT,
        "delivery after the restart",
        process=second,
    )
    assert "whose lease expired or whose worker ended" in _log_of(second)
    [message] = handler.accepted
    assert message["Message-ID"].strip() == _reload(session, queued_reply).message_id


def test_one_slow_recipient_holds_up_no_other_mail(
    session, call, agent, settings, make_session, mail_server
):
    handler: GatedHandler = mail_server.handler
    handler.hold_for = "slow@borger.example"
    settings.mail_url = f"smtp://127.0.0.1:{mail_server.port}"
    addresses = ["slow@borger.example", "a@borger.example", "b@borger.example"]
    for address in addresses:
        form = reply_form(recipient_email=address)
        create_reply(session=session, call=call, author=agent, form=form, settings=settings)
    session.commit()
    run = threading.Thread(
        target=deliver_due_replies, kwargs={"make_session": make_session, "settings": settings}
    )
    run.start()
    try:
        wait_for(lambda: len(handler.accepted) == 2, "the two other replies")
        assert handler.holding.is_set()
        assert {m["To"].addresses[0].addr_spec for m in handler.accepted} == set(addresses[1:])
    finally:
        handler.release.set()
        run.join(timeout=DEADLINE_S)
    session.expire_all()
    assert {r.status for r in session.scalars(select(Reply))} == {ReplyStatus.SENT}
