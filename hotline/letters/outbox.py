"""The outbox: delivers queued e-mail replies with retries, at most once per claim.

A reply is claimed by one atomic UPDATE (queued -> sending) that is committed before sending, so
two workers never send the same reply. While a reply is SENDING, next_attempt_at holds the end of
its lease (HOTLINE_OUTBOX_LEASE_S); a worker killed mid-send leaves it there, and after the lease
it is queued again. A worker killed before the server's final 250 loses nothing: the server drops
the unfinished transaction and the retry delivers once. A worker killed after it recorded "sent"
sends nothing again. The one window left is between the server's 250 and the UPDATE that records
"sent" (the QUIT exchange and one short commit: milliseconds): a worker killed there sends the
reply again after the lease, the classic duplicate of RFC 1047. That retry reuses the stored
Message-ID (and, for Maildir, the same file name), so a receiver that deduplicates on Message-ID
sees it once: exactly-once beyond this needs that dedupe on the receiving side.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.config import Settings
from hotline.db import utcnow
from hotline.letters.letterheads import load_letterhead
from hotline.letters.mail import build_reply_message, send_message
from hotline.letters.models import Reply, ReplyStatus
from hotline.municipalities.models import Municipality

log = logging.getLogger(__name__)
# The default lease; the one in force is settings.outbox_lease_s.
LEASE = timedelta(seconds=Settings.model_fields["outbox_lease_s"].default)
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=2)
BATCH_SIZE = 100


def backoff(attempts: int) -> timedelta:
    """The wait after the given number of failed attempts: 30 s, 1 min, 2 min, ... at most 2 h."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def deliver_due_replies(
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Send every due queued reply once; return how many were sent (clock is read at each step)."""
    lease = timedelta(seconds=settings.outbox_lease_s)
    _requeue_expired_leases(make_session=make_session, now=clock())
    sent = 0
    for _ in range(BATCH_SIZE):
        # Read the clock per claim: a lease counted from the start of a long batch could already
        # have run out when the send begins, and another worker would then send the reply again.
        reply_id = _claim_next(make_session=make_session, clock=clock, lease=lease)
        if reply_id is None:
            break
        if _deliver(reply_id, make_session=make_session, settings=settings, clock=clock):
            sent += 1
    if sent:
        log.info("sent %d reply(ies)", sent)
    return sent


def _requeue_expired_leases(*, make_session: sessionmaker[Session], now: datetime) -> None:
    with make_session() as session:
        result = session.execute(
            update(Reply)
            .where(Reply.status == ReplyStatus.SENDING, Reply.next_attempt_at <= now)
            .values(status=ReplyStatus.QUEUED, next_attempt_at=now)
        )
        session.commit()
        if result.rowcount:
            log.warning("re-queued %d reply(ies) whose sending lease expired", result.rowcount)


def _claim_next(
    *, make_session: sessionmaker[Session], clock: Callable[[], datetime], lease: timedelta
) -> int | None:
    """Atomically move the next due reply from queued to sending; None when none is due."""
    with make_session() as session:
        while True:
            now = clock()
            reply_id = session.scalar(
                select(Reply.id)
                .where(
                    Reply.status == ReplyStatus.QUEUED,
                    or_(Reply.next_attempt_at.is_(None), Reply.next_attempt_at <= now),
                )
                .order_by(Reply.next_attempt_at, Reply.id)
                .limit(1)
            )
            if reply_id is None:
                return None
            claimed = session.execute(
                update(Reply)
                .where(Reply.id == reply_id, Reply.status == ReplyStatus.QUEUED)
                .values(status=ReplyStatus.SENDING, next_attempt_at=now + lease)
            )
            session.commit()
            if claimed.rowcount == 1:
                return reply_id
            # Another worker claimed it first; look for the next one.


def _deliver(
    reply_id: int,
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime],
) -> bool:
    with make_session() as session:
        reply = session.get(Reply, reply_id)
        attempts = reply.attempts + 1
        try:
            message = _build_message(session, reply, settings)
            # End the read before talking to the server: no transaction stays open during a send.
            session.commit()
            send_message(message, mail_url=settings.resolved_mail_url, reply_id=reply_id)
        except Exception as exc:  # any failure: keep the reply and try again later
            failed = attempts >= MAX_ATTEMPTS
            session.execute(
                update(Reply)
                .where(Reply.id == reply_id, Reply.status == ReplyStatus.SENDING)
                .values(
                    status=ReplyStatus.FAILED if failed else ReplyStatus.QUEUED,
                    attempts=attempts,
                    next_attempt_at=None if failed else clock() + backoff(attempts),
                    last_error=_short_error(exc, settings),
                )
            )
            session.commit()
            log.warning("reply %s: delivery attempt %d failed: %s", reply_id, attempts, exc)
            return False
        # Record "sent" first thing after the server's 250: a kill before this commit resends it.
        marked = session.execute(
            update(Reply)
            .where(Reply.id == reply_id, Reply.status == ReplyStatus.SENDING)
            .values(
                status=ReplyStatus.SENT,
                sent_at=clock(),
                attempts=attempts,
                next_attempt_at=None,
                last_error=None,
            )
        )
        session.commit()
        if marked.rowcount != 1:
            log.warning(
                "reply %s was sent after its lease ran out and may be sent twice; "
                "raise HOTLINE_OUTBOX_LEASE_S above the longest a send takes",
                reply_id,
            )
        return True


def _build_message(session: Session, reply: Reply, settings: Settings) -> EmailMessage:
    municipality = session.get(Municipality, reply.municipality_code)
    letterhead = load_letterhead(
        municipality=municipality, letterheads_dir=settings.letterheads_dir
    )
    return build_reply_message(reply, letterhead=letterhead, mail_from=settings.mail_from)


def _short_error(exc: Exception, settings: Settings) -> str:
    """The error for the agent: type and message, short, without the mail URL's password."""
    text = f"{type(exc).__name__}: {exc}"
    password = urlsplit(settings.resolved_mail_url).password
    for form in {password, unquote(password or "")} - {None, ""}:
        text = text.replace(form, "***")
    return text[:300]


async def run_outbox_worker(make_session: sessionmaker[Session], settings: Settings) -> None:
    """Deliver due replies every few seconds until cancelled; an error is logged, never fatal."""
    while True:
        try:
            await asyncio.to_thread(
                deliver_due_replies, make_session=make_session, settings=settings
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the outbox run failed; trying again in %s s", settings.outbox_interval_s)
        await asyncio.sleep(settings.outbox_interval_s)
