"""The outbox: Maildir and a real SMTP server on loopback; retries, leases, no duplicates."""

import asyncio
import email
import email.policy
import mailbox
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from hotline.db import utcnow
from hotline.letters.models import Reply, ReplyStatus
from hotline.letters.outbox import LEASE, deliver_due_replies, run_outbox_worker
from hotline.letters.service import create_reply
from hotline.mail import queue as mail_queue
from hotline.mail.queue import MAX_ATTEMPTS, backoff
from hotline.mail.transports import write_to_maildir
from tests.letters.conftest import reply_form
from tests.live import free_port


class CountingHandler:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted"


@pytest.fixture
def queued_reply(session, call, agent, settings) -> Reply:
    reply = create_reply(
        session=session, call=call, author=agent, form=reply_form(), settings=settings
    )
    session.commit()
    return reply


def _at(moment):
    """A clock for the outbox that always reads the given moment."""
    return lambda: moment


def _reload(session, reply: Reply) -> Reply:
    session.expire_all()
    return session.get(Reply, reply.id)


def test_maildir_delivery_end_to_end(session, queued_reply, settings, make_session):
    sent = deliver_due_replies(make_session=make_session, settings=settings)

    assert sent == 1
    reply = _reload(session, queued_reply)
    assert reply.status == ReplyStatus.SENT and reply.sent_at is not None
    maildir = mailbox.Maildir(settings.data_dir / "mail", create=False)
    [key] = maildir.keys()
    message = email.message_from_bytes(maildir.get_bytes(key), policy=email.policy.default)
    assert message["Subject"] == "Svar på din henvendelse til Aarhus Kommune"
    assert message["From"].addresses[0].display_name == "Aarhus Kommune via Digital Hotline"
    assert message["From"].addresses[0].addr_spec == settings.mail_from
    assert message["Reply-To"].addresses[0].addr_spec == "borgerservice@aarhus.example"
    assert message["To"].addresses[0].display_name == "Søren Østergård"
    assert message["Message-ID"].strip() == reply.message_id
    assert message["Date"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Tak for din henvendelse om pas." in text and "Karen Ærbødig" in text
    assert "<strong>pas</strong>" in html and "Aarhus Kommune" in html
    assert "<img" not in html
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"svar-{reply.reference}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == reply.pdf


def test_the_text_part_shows_the_reply_as_typed_and_the_html_part_escapes_it(
    session, call, agent, settings, make_session
):
    body = "Pas & kørekort: gebyr <20 år er 0 kr. Se <script>alert(1)</script>"
    create_reply(
        session=session, call=call, author=agent, form=reply_form(body_md=body), settings=settings
    )
    session.commit()
    deliver_due_replies(make_session=make_session, settings=settings)

    maildir = mailbox.Maildir(settings.data_dir / "mail", create=False)
    [key] = maildir.keys()
    message = email.message_from_bytes(maildir.get_bytes(key), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert body in text and "&amp;" not in text and "&lt;" not in text
    # The cited rule, introduced, a blank line under the text.
    assert f"{body}\n\nHer er den regel, vi talte om:\n- Pas – fornyelse\n" in text
    assert "Pas &amp; kørekort" in html and "&lt;20 år" in html and "<script>" not in html


def test_maildir_redelivery_overwrites_instead_of_duplicating(
    session, queued_reply, settings, make_session
):
    deliver_due_replies(make_session=make_session, settings=settings)
    reply = _reload(session, queued_reply)
    reply.status = ReplyStatus.QUEUED  # as if the worker crashed after writing, before marking
    session.commit()

    deliver_due_replies(make_session=make_session, settings=settings)

    assert len(mailbox.Maildir(settings.data_dir / "mail", create=False)) == 1


def test_smtp_outage_keeps_the_reply_then_delivers_exactly_once(
    session, queued_reply, settings_with_mail, make_session
):
    port = free_port()
    settings = settings_with_mail(f"smtp://127.0.0.1:{port}")

    assert deliver_due_replies(make_session=make_session, settings=settings) == 0
    reply = _reload(session, queued_reply)
    assert reply.status == ReplyStatus.QUEUED
    assert reply.attempts == 1
    assert "ConnectionRefusedError" in reply.last_error
    assert reply.next_attempt_at > utcnow() + timedelta(seconds=20)
    # Not due yet: another run now does nothing.
    assert deliver_due_replies(make_session=make_session, settings=settings) == 0

    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        later = utcnow() + timedelta(hours=1)
        assert (
            deliver_due_replies(make_session=make_session, settings=settings, clock=_at(later)) == 1
        )
        assert (
            deliver_due_replies(make_session=make_session, settings=settings, clock=_at(later)) == 0
        )
    finally:
        controller.stop()

    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert message["Subject"] == "Svar på din henvendelse til Aarhus Kommune"
    assert message["To"].addresses[0].display_name == "Søren Østergård"
    assert "Karen Ærbødig" in message.get_body(("plain",)).get_content()
    reply = _reload(session, queued_reply)
    assert reply.status == ReplyStatus.SENT
    assert message["Message-ID"].strip() == reply.message_id
    assert reply.last_error is None


class FailingQuitHandler(CountingHandler):
    """Accepts the message, then answers QUIT with an error instead of 221."""

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        return "421 Closing, something went wrong after your message"


def test_a_failed_quit_after_the_server_accepted_counts_as_sent(
    session, queued_reply, settings_with_mail, make_session
):
    handler = FailingQuitHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = settings_with_mail(f"smtp://127.0.0.1:{controller.port}")
        later = utcnow() + timedelta(hours=1)
        assert deliver_due_replies(make_session=make_session, settings=settings) == 1
        assert (
            deliver_due_replies(make_session=make_session, settings=settings, clock=_at(later)) == 0
        )
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    assert _reload(session, queued_reply).status == ReplyStatus.SENT


def test_a_reply_stuck_in_sending_is_requeued_after_the_lease(
    session, queued_reply, settings_with_mail, make_session
):
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings = settings_with_mail(f"smtp://127.0.0.1:{controller.port}")
    try:
        reply = _reload(session, queued_reply)
        reply.status = ReplyStatus.SENDING  # a worker claimed it and crashed
        reply.next_attempt_at = utcnow() + LEASE
        session.commit()
        assert deliver_due_replies(make_session=make_session, settings=settings) == 0

        after_lease = utcnow() + LEASE + timedelta(seconds=1)
        assert (
            deliver_due_replies(
                make_session=make_session, settings=settings, clock=_at(after_lease)
            )
            == 1
        )
        assert (
            deliver_due_replies(
                make_session=make_session, settings=settings, clock=_at(after_lease)
            )
            == 0
        )
    finally:
        controller.stop()

    assert len(handler.messages) == 1
    assert _reload(session, queued_reply).status == ReplyStatus.SENT


def test_a_reply_fails_after_the_last_attempt(
    session, queued_reply, settings_with_mail, make_session
):
    settings = settings_with_mail(f"smtp://user:s3cret-pw@127.0.0.1:{free_port()}")
    now = utcnow()
    for _ in range(MAX_ATTEMPTS):
        now += timedelta(days=1)
        deliver_due_replies(make_session=make_session, settings=settings, clock=_at(now))

    reply = _reload(session, queued_reply)
    assert reply.status == ReplyStatus.FAILED
    assert reply.attempts == MAX_ATTEMPTS
    assert reply.last_error and "s3cret-pw" not in reply.last_error


def test_the_worker_delivers_in_the_background_and_survives_errors(
    session, queued_reply, settings_with_mail, make_session
):
    settings = settings_with_mail()
    settings.outbox_interval_s = 0.05

    async def run_briefly():
        task = asyncio.create_task(run_outbox_worker(make_session, settings))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if _reload(session, queued_reply).status == ReplyStatus.SENT:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_briefly())
    assert _reload(session, queued_reply).status == ReplyStatus.SENT


class SteppingClock:
    """A clock for the outbox that stands still until a test moves it on."""

    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)

    def __call__(self):
        return self.now


def _slow_send(clock: SteppingClock, make_session, seen: list, *, takes: timedelta, fail=False):
    """A send_message that notes the reply's lease and the time, then takes a while."""

    def send(message, *, mail_url, file_key, accepted):
        with make_session() as s:
            seen.append((file_key, clock(), s.get(Reply, file_key).next_attempt_at))
        clock.now += takes
        if fail:
            raise ConnectionRefusedError("no mail server")
        accepted()

    return send


def test_each_claim_in_a_long_batch_gets_a_lease_from_its_own_claim_time(
    session, queued_reply, call, agent, settings, make_session, monkeypatch
):
    create_reply(session=session, call=call, author=agent, form=reply_form(), settings=settings)
    session.commit()
    settings.outbox_connections = 1  # one send after the other, as the clock steps
    clock, seen = SteppingClock(), []
    slow = _slow_send(clock, make_session, seen, takes=timedelta(minutes=20))
    monkeypatch.setattr(mail_queue, "send_message", slow)

    assert deliver_due_replies(make_session=make_session, settings=settings, clock=clock) == 2

    assert len(seen) == 2
    session.expire_all()
    for reply_id, claimed_at, lease in seen:
        assert lease == claimed_at + LEASE
        assert session.get(Reply, reply_id).sent_at == claimed_at + timedelta(minutes=20)
    # The second claim came after the first send's 20 minutes: its lease had not run out.
    assert seen[1][1] == seen[0][1] + timedelta(minutes=20)


def test_backoff_counts_from_the_failure_not_from_the_start_of_the_batch(
    session, queued_reply, call, agent, settings, make_session, monkeypatch
):
    create_reply(session=session, call=call, author=agent, form=reply_form(), settings=settings)
    session.commit()
    settings.outbox_connections = 1  # one send after the other, as the clock steps
    clock, seen = SteppingClock(), []
    # Each failed send takes 10 s, less than the first backoff: no reply comes due again.
    slow = _slow_send(clock, make_session, seen, takes=timedelta(seconds=10), fail=True)
    monkeypatch.setattr(mail_queue, "send_message", slow)
    started = clock()

    assert deliver_due_replies(make_session=make_session, settings=settings, clock=clock) == 0

    assert len(seen) == 2
    session.expire_all()
    for reply_id, claimed_at, _lease in seen:
        reply = session.get(Reply, reply_id)
        assert reply.status == ReplyStatus.QUEUED and reply.attempts == 1
        assert reply.next_attempt_at == claimed_at + timedelta(seconds=10) + backoff(1)
    assert seen[1][1] == started + timedelta(seconds=10)


def test_many_senders_at_once_into_a_new_maildir_lose_nothing(tmp_path):
    """The outbox sends on several threads: creating the Maildir must not race."""
    directory, messages = tmp_path / "new-maildir", []
    for n in range(16):
        message = EmailMessage()
        message["Subject"], message["Message-ID"] = f"Svar {n}", f"<{n}@hotline.test>"
        message.set_content("Tak for din henvendelse.")
        messages.append(message)
    start = threading.Barrier(len(messages))

    def send(n: int) -> None:
        start.wait()
        write_to_maildir(messages[n], directory, file_key=n)

    with ThreadPoolExecutor(len(messages)) as pool:
        list(pool.map(send, range(len(messages))))  # re-raises any thread's error
    delivered = sorted(path.name for path in (directory / "new").iterdir())
    assert delivered == sorted(f"hotline-reply-{n}" for n in range(16))
