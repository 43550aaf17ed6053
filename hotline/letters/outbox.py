"""The replies' outbox: e-mail replies delivered with retries, at most once per claim.

The mechanism (claim with a lease, send, record; retries with backoff; what a killed worker
leaves behind) is hotline/mail/queue.py; this module says what a reply's e-mail is.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.config import Settings
from hotline.db import utcnow
from hotline.documents.letterhead import Letterhead
from hotline.i18n import t
from hotline.insight.survey import survey_link_for_mail
from hotline.letters.letterheads import load_letterhead
from hotline.letters.models import Reply, ReplyStatus
from hotline.letters.render import cited_lead, letter_templates, signature
from hotline.letters.service import pdf_filename
from hotline.mail.queue import MailQueue, deliver_due, run_worker
from hotline.municipalities.models import Municipality

# The default lease; the one in force is settings.outbox_lease_s.
LEASE = timedelta(seconds=Settings.model_fields["outbox_lease_s"].default)


def build_reply_message(
    reply: Reply, *, letterhead: Letterhead, mail_from: str, survey_url: str | None = None
) -> EmailMessage:
    """The e-mail of a reply: multipart/alternative text and HTML, with the PDF attached."""
    message = EmailMessage()
    local, _, domain = mail_from.partition("@")
    sender_name = t("letters.mail.from_name", municipality=letterhead.name)
    message["From"] = Address(display_name=sender_name, username=local, domain=domain)
    if letterhead.email:
        message["Reply-To"] = Address(display_name=letterhead.name, addr_spec=letterhead.email)
    message["To"] = Address(display_name=reply.recipient_name, addr_spec=reply.recipient_email)
    message["Subject"] = reply.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = reply.message_id
    context = {
        "reply": reply,
        "letterhead": letterhead,
        "survey_url": survey_url,
        "cited_lead": cited_lead(len(reply.cited_rules or [])),
        "signature": signature(author_name=reply.author_name, municipality_name=letterhead.name),
    }
    message.set_content(letter_templates.get_template("mail.txt").render(context))
    message.add_alternative(
        letter_templates.get_template("mail.html").render(context),
        subtype="html",
    )
    message.add_attachment(
        reply.pdf, maintype="application", subtype="pdf", filename=pdf_filename(reply)
    )
    return message


def _build_message(session: Session, reply: Reply, settings: Settings) -> EmailMessage:
    municipality = session.get(Municipality, reply.municipality_code)
    letterhead = load_letterhead(
        municipality=municipality, letterheads_dir=settings.letterheads_dir
    )
    survey_url = survey_link_for_mail(session=session, call_id=reply.call_id, settings=settings)
    return build_reply_message(
        reply, letterhead=letterhead, mail_from=settings.mail_from, survey_url=survey_url
    )


REPLIES = MailQueue(
    name="reply",
    model=Reply,
    status=Reply.status,
    next_attempt_at=Reply.next_attempt_at,
    attempts=Reply.attempts,
    last_error=Reply.last_error,
    claimed_by=Reply.claimed_by,
    statuses=ReplyStatus,
    build=_build_message,
    sent_values=lambda now: {"sent_at": now},
)


def deliver_due_replies(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Send every due queued reply once; return how many were sent."""
    return deliver_due(REPLIES, make_session=make_session, settings=settings, clock=clock)


async def run_outbox_worker(make_session: sessionmaker[Session], settings: Settings) -> None:
    """Deliver due replies every few seconds until cancelled; an error is logged, never fatal."""
    await run_worker(REPLIES, make_session, settings)
