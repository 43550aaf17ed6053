"""Each new callback is e-mailed to the municipality's admins, through the shared mail queue.

Claiming, leases, retries and backoff are hotline/mail/queue.py, as for the replies.
"""

from collections.abc import Callable
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.callbacks import admin_emails
from hotline.calls.models import Call, Callback, MailStatus
from hotline.config import Settings
from hotline.db import utcnow
from hotline.i18n import t
from hotline.kit.dates import danish_datetime
from hotline.mail.queue import MailQueue, deliver_due, run_worker


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


def _build(session: Session, callback: Callback, settings: Settings) -> EmailMessage | None:
    recipients = admin_emails(session=session, municipality_code=callback.municipality_code)
    if not recipients:  # the admins' addresses were removed since the booking
        return None
    call = session.get(Call, callback.call_id) if callback.call_id else None
    return build_callback_message(
        callback, call=call, recipients=recipients, mail_from=settings.mail_from
    )


CALLBACKS = MailQueue(
    name="callback",
    model=Callback,
    status=Callback.mail_status,
    next_attempt_at=Callback.mail_next_attempt_at,
    attempts=Callback.mail_attempts,
    last_error=Callback.mail_last_error,
    claimed_by=Callback.mail_claimed_by,
    statuses=MailStatus,
    build=_build,
    maildir_name=lambda callback_id: f"callback-{callback_id}",  # apart from the replies' files
    nobody_status=MailStatus.NONE,
)


def deliver_due_callbacks(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Send every due callback e-mail once; return how many were sent."""
    return deliver_due(CALLBACKS, make_session=make_session, settings=settings, clock=clock)


async def run_callback_mail_worker(make_session: sessionmaker[Session], settings: Settings) -> None:
    """Deliver due callback e-mails every few seconds until cancelled; errors are logged."""
    await run_worker(CALLBACKS, make_session, settings)
