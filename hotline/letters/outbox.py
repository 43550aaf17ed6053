"""The replies' outbox: e-mail replies delivered with retries, at most once per claim.

The mechanism (claim with a lease, send, record; retries with backoff; what a killed worker
leaves behind) is hotline/letters/mail_queue.py; this module says how a reply is sent.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.orm import Session, sessionmaker

from hotline.config import Settings
from hotline.db import utcnow
from hotline.insight.survey import survey_link_for_mail
from hotline.letters.letterheads import load_letterhead
from hotline.letters.mail import build_reply_message
from hotline.letters.mail_queue import (
    BATCH_SIZE,
    MAX_ATTEMPTS,
    MailQueue,
    backoff,
    deliver_due,
    run_worker,
)
from hotline.letters.models import Reply, ReplyStatus
from hotline.municipalities.models import Municipality

__all__ = ["BATCH_SIZE", "LEASE", "MAX_ATTEMPTS", "REPLIES", "backoff"]

# The default lease; the one in force is settings.outbox_lease_s.
LEASE = timedelta(seconds=Settings.model_fields["outbox_lease_s"].default)


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
