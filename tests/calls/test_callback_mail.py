"""Callback e-mails to the municipality's admins: a real SMTP server, retries, Maildir, worker."""

import asyncio
import email
import email.policy
import mailbox
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from hotline.auth.models import Role, User
from hotline.calls.callback_mail import deliver_due_callbacks, run_callback_mail_worker
from hotline.calls.callbacks import CallbackIn, book_callback
from hotline.calls.models import Call, Callback, CallState, MailStatus
from hotline.db import utcnow
from hotline.mail.queue import MAX_ATTEMPTS
from tests.live import free_port
from tests.smtp import Inbox

FORM = CallbackIn(
    caller_phone="20 12 34 56",
    caller_name="Søren Østergård",
    question="Vil gerne tale med en sagsbehandler om boligstøtte.",
    preferred_time="i morgen mellem 9 og 12",
)


@pytest.fixture
def booked(session, make_user) -> Callback:
    """A callback booked on an Aarhus call; Aarhus has two admins with addresses, one without."""
    aarhus_admins = [
        make_user(Role.MUNICIPALITY_ADMIN, "0751", username=name) for name in ("a1", "a2", "a3")
    ]
    aarhus_admins[0].email, aarhus_admins[1].email = "a1@aarhus.example", "a2@aarhus.example"
    make_user(Role.MUNICIPALITY_ADMIN, "0851", username="aalborg").email = "x@aalborg.example"
    agent = make_user(Role.AGENT, full_name="Karen Ærbødig")
    call = Call(reference="DH-TEST22", municipality_code="0751", agent_id=agent.id)
    call.state = CallState.ACTIVE
    session.add(call)
    session.commit()
    callback = book_callback(
        session=session, call_id=call.id, user=agent, form=FORM, mail_domain="hotline.example"
    )
    session.commit()
    assert callback.mail_status == MailStatus.QUEUED
    return callback


def _reload(session, callback: Callback) -> Callback:
    session.expire_all()
    return session.get(Callback, callback.id)


def test_smtp_delivery_to_the_admins(session, booked, mail_settings, make_session, smtp_inbox):
    settings = mail_settings(smtp_inbox.url)
    assert deliver_due_callbacks(make_session=make_session, settings=settings) == 1
    assert deliver_due_callbacks(make_session=make_session, settings=settings) == 0
    [(recipients, message)] = smtp_inbox.messages
    assert sorted(recipients) == ["a1@aarhus.example", "a2@aarhus.example"]
    assert message["Subject"] == "Ny opringning: ring borgeren op (DH-TEST22, Aarhus Kommune)"
    assert message["Message-ID"].strip() == booked.message_id
    assert message["From"].addresses[0].display_name == "Digital Hotline"
    body = message.get_content()
    assert "Telefon: +4520123456" in body and "Søren Østergård" in body
    assert "i morgen mellem 9 og 12" in body and "boligstøtte" in body
    assert "Karen Ærbødig" in body and "»Opringninger«" in body
    callback = _reload(session, booked)
    assert callback.mail_status == MailStatus.SENT and callback.mail_attempts == 1


def test_an_outage_is_retried_with_backoff_then_sent_once(
    session, booked, mail_settings, make_session
):
    port = free_port()
    settings = mail_settings(f"smtp://127.0.0.1:{port}")
    assert deliver_due_callbacks(make_session=make_session, settings=settings) == 0
    callback = _reload(session, booked)
    assert callback.mail_status == MailStatus.QUEUED and callback.mail_attempts == 1
    assert callback.mail_last_error and callback.mail_next_attempt_at > utcnow()
    # Not due yet: nothing is tried.
    assert deliver_due_callbacks(make_session=make_session, settings=settings) == 0
    assert _reload(session, booked).mail_attempts == 1
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        later = utcnow() + timedelta(minutes=5)
        sent = deliver_due_callbacks(
            make_session=make_session, settings=settings, clock=lambda: later
        )
        assert sent == 1
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    callback = _reload(session, booked)
    assert callback.mail_status == MailStatus.SENT and callback.mail_last_error is None


def test_gives_up_after_the_last_attempt(session, booked, mail_settings, make_session):
    settings = mail_settings(f"smtp://127.0.0.1:{free_port()}")
    callback = _reload(session, booked)
    callback.mail_attempts = MAX_ATTEMPTS - 1
    session.commit()
    deliver_due_callbacks(make_session=make_session, settings=settings)
    assert _reload(session, booked).mail_status == MailStatus.FAILED


def test_an_expired_lease_is_sent_again_with_the_same_message_id(
    session, booked, mail_settings, make_session
):
    callback = _reload(session, booked)
    callback.mail_status = MailStatus.SENDING
    callback.mail_next_attempt_at = utcnow() - timedelta(seconds=1)  # a crashed worker's lease
    session.commit()
    settings = mail_settings()
    assert deliver_due_callbacks(make_session=make_session, settings=settings) == 1
    maildir = mailbox.Maildir(settings.data_dir / "mail", create=False)
    [key] = maildir.keys()
    assert key == f"hotline-reply-callback-{booked.id}"  # not a reply's file name
    message = email.message_from_bytes(maildir.get_bytes(key), policy=email.policy.default)
    assert message["Message-ID"].strip() == booked.message_id


def test_nobody_to_mail_is_none(session, booked, mail_settings, make_session):
    for admin in session.scalars(select(User).where(User.username.in_(["a1", "a2"]))):
        admin.email = None
    session.commit()
    assert deliver_due_callbacks(make_session=make_session, settings=mail_settings()) == 0
    assert _reload(session, booked).mail_status == MailStatus.NONE


def test_the_worker_delivers_in_the_background(session, booked, mail_settings, make_session):
    settings = mail_settings(outbox_interval_s=0.05)

    async def run_briefly():
        task = asyncio.create_task(run_callback_mail_worker(make_session, settings))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if _reload(session, booked).mail_status == MailStatus.SENT:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_briefly())
    assert _reload(session, booked).mail_status == MailStatus.SENT


def test_the_app_runs_the_worker_when_enabled(booked, mail_settings, session):
    from fastapi.testclient import TestClient

    from hotline.main import create_app

    settings = mail_settings(callback_mail_worker=True, outbox_interval_s=0.05, demo_mode=True)
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _reload(session, booked).mail_status == MailStatus.SENT:
                break
            time.sleep(0.05)
    assert _reload(session, booked).mail_status == MailStatus.SENT
