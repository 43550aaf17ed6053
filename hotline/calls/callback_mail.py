"""The callbacks' own small outbox: each new callback is e-mailed to the municipality's admins.

It works like the replies' outbox (hotline/letters/outbox.py): a callback is claimed by one
committed conditional UPDATE (queued -> sending, with a lease), sent through the same transport,
then marked sent; a failure is retried with the same backoff, and a lease that runs out (a
crash) queues it again with the same Message-ID.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.callbacks import admin_emails
from hotline.calls.models import Call, Callback, MailStatus
from hotline.config import Settings
from hotline.db import utcnow
from hotline.i18n import t
from hotline.kit.dates import danish_datetime
from hotline.letters.mail import send_message
from hotline.letters.outbox import BATCH_SIZE, MAX_ATTEMPTS, backoff

log = logging.getLogger(__name__)


def build_callback_message(
    callback: Callback, *, call: Call | None, recipients: list[str], mail_from: str
) -> EmailMessage:
    """The plain-text e-mail to the admins: who to call, when, about what (never a CPR number)."""
    message = EmailMessage()
    local, _, domain = mail_from.partition("@")
    message["From"] = Address(display_name=t("app.name"), username=local, domain=domain)
    message["To"] = ", ".join(recipients)
    reference = call.reference if call else "–"
    municipality = callback.municipality.name
    message["Subject"] = t("callbacks.mail.subject", municipality=municipality, reference=reference)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = callback.message_id
    topics = [f"- {r.get('title') or r.get('topic')}" for r in callback.rules_consulted]
    body = t(
        "callbacks.mail.body",
        municipality=municipality,
        phone=callback.caller_phone,
        name=callback.caller_name or t("callbacks.mail.no_name"),
        time=callback.preferred_time,
        reference=reference,
        booked=danish_datetime(callback.created_at),
        agent=callback.booked_by.full_name,
        question=callback.question,
        topics="\n".join(topics) or t("callbacks.mail.no_topics"),
    )
    message.set_content(body)
    return message


def deliver_due_callbacks(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Send every due callback e-mail once; return how many were sent."""
    lease = timedelta(seconds=settings.outbox_lease_s)
    _requeue_expired_leases(make_session=make_session, now=clock())
    sent = 0
    for _ in range(BATCH_SIZE):
        callback_id = _claim_next(make_session=make_session, clock=clock, lease=lease)
        if callback_id is None:
            break
        if _deliver(callback_id, make_session=make_session, settings=settings, clock=clock):
            sent += 1
    if sent:
        log.info("sent %d callback e-mail(s)", sent)
    return sent


def _requeue_expired_leases(*, make_session: sessionmaker[Session], now: datetime) -> None:
    with make_session() as session:
        result = session.execute(
            update(Callback)
            .where(Callback.mail_status == MailStatus.SENDING, Callback.mail_next_attempt_at <= now)
            .values(mail_status=MailStatus.QUEUED, mail_next_attempt_at=now)
        )
        session.commit()
        if result.rowcount:
            log.warning("re-queued %d callback e-mail(s) whose lease expired", result.rowcount)


def _claim_next(
    *, make_session: sessionmaker[Session], clock: Callable[[], datetime], lease: timedelta
) -> int | None:
    with make_session() as session:
        while True:
            now = clock()
            callback_id = session.scalar(
                select(Callback.id)
                .where(
                    Callback.mail_status == MailStatus.QUEUED,
                    or_(
                        Callback.mail_next_attempt_at.is_(None),
                        Callback.mail_next_attempt_at <= now,
                    ),
                )
                .order_by(Callback.mail_next_attempt_at, Callback.id)
                .limit(1)
            )
            if callback_id is None:
                return None
            claimed = session.execute(
                update(Callback)
                .where(Callback.id == callback_id, Callback.mail_status == MailStatus.QUEUED)
                .values(mail_status=MailStatus.SENDING, mail_next_attempt_at=now + lease)
            )
            session.commit()
            if claimed.rowcount == 1:
                return callback_id


def _deliver(
    callback_id: int,
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime],
) -> bool:
    with make_session() as session:
        callback = session.get(Callback, callback_id)
        attempts = callback.mail_attempts + 1
        recipients = admin_emails(session=session, municipality_code=callback.municipality_code)
        if not recipients:  # the admins' addresses were removed since the booking
            _finish(session, callback_id, mail_status=MailStatus.NONE, mail_next_attempt_at=None)
            return False
        try:
            call = session.get(Call, callback.call_id) if callback.call_id else None
            message = build_callback_message(
                callback, call=call, recipients=recipients, mail_from=settings.mail_from
            )
            session.commit()  # no transaction stays open while talking to the server
            send_message(
                message, mail_url=settings.resolved_mail_url, reply_id=f"callback-{callback_id}"
            )
        except Exception as exc:  # any failure: keep it and try again later
            failed = attempts >= MAX_ATTEMPTS
            _finish(
                session,
                callback_id,
                mail_status=MailStatus.FAILED if failed else MailStatus.QUEUED,
                mail_attempts=attempts,
                mail_next_attempt_at=None if failed else clock() + backoff(attempts),
                mail_last_error=_short_error(exc, settings),
            )
            log.warning("callback %s: e-mail attempt %d failed: %s", callback_id, attempts, exc)
            return False
        _finish(
            session,
            callback_id,
            mail_status=MailStatus.SENT,
            mail_attempts=attempts,
            mail_next_attempt_at=None,
            mail_last_error=None,
        )
        return True


def _finish(session: Session, callback_id: int, **values) -> None:
    session.execute(
        update(Callback)
        .where(Callback.id == callback_id, Callback.mail_status == MailStatus.SENDING)
        .values(**values)
    )
    session.commit()


def _short_error(exc: Exception, settings: Settings) -> str:
    """Type and message, short, without the mail URL's password."""
    text = f"{type(exc).__name__}: {exc}"
    password = urlsplit(settings.resolved_mail_url).password
    for form in {password, unquote(password or "")} - {None, ""}:
        text = text.replace(form, "***")
    return text[:300]


async def run_callback_mail_worker(make_session: sessionmaker[Session], settings: Settings) -> None:
    """Deliver due callback e-mails every few seconds until cancelled; errors are logged."""
    while True:
        try:
            await asyncio.to_thread(
                deliver_due_callbacks, make_session=make_session, settings=settings
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the callback e-mail run failed; trying again later")
        await asyncio.sleep(settings.outbox_interval_s)
