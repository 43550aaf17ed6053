"""Delivering e-mail queued in a table, with retries, at most once per claim.

A row is claimed by one atomic UPDATE (queued -> sending) that is committed before sending, so
two workers never send the same row. While a row is SENDING, its next-attempt time holds the end
of its lease (HOTLINE_OUTBOX_LEASE_S); a worker killed mid-send leaves it there, and after the
lease it is queued again. A worker killed before the server's final 250 loses nothing: the server
drops the unfinished transaction and the retry delivers once. A worker killed after it recorded
"sent" sends nothing again. The one window left is between the server's 250 and the UPDATE that
records "sent" (the QUIT exchange and one short commit: milliseconds): a worker killed there sends
the message again after the lease, the classic duplicate of RFC 1047. That retry reuses the
stored Message-ID (and, for Maildir, the same file name), so a receiver that deduplicates on
Message-ID sees it once.

Replies (hotline/letters/outbox.py) and callbacks (hotline/calls/callback_mail.py) each describe
their table with a MailQueue and share everything else.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from hotline.config import Settings
from hotline.db import utcnow
from hotline.letters.mail import send_message

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=2)
BATCH_SIZE = 100


def backoff(attempts: int) -> timedelta:
    """The wait after the given number of failed attempts: 30 s, 1 min, 2 min, ... at most 2 h."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


@dataclass(frozen=True)
class MailQueue:
    """A table whose rows are e-mails to deliver: its delivery columns and how a row is sent."""

    name: str  # for the log: "reply", "callback"
    model: type
    status: InstrumentedAttribute
    next_attempt_at: InstrumentedAttribute
    attempts: InstrumentedAttribute
    last_error: InstrumentedAttribute
    statuses: Any  # an enum with QUEUED, SENDING, SENT and FAILED
    # The message for a row, or None when it has nobody to go to (the row gets nobody_status).
    build: Callable[[Session, Any, Settings], EmailMessage | None]
    # The Maildir file name's stem, fixed per row so a re-delivery overwrites.
    maildir_name: Callable[[int], int | str] = lambda row_id: row_id
    # Extra columns set when sent (e.g. sent_at), given the moment.
    sent_values: Callable[[datetime], dict[str, Any]] = lambda _now: {}
    nobody_status: Any = None

    def values(self, *, status, next_attempt_at, **extra) -> dict[str, Any]:
        """An UPDATE's values, keyed by this table's column names."""
        return {
            self.status.key: status,
            self.next_attempt_at.key: next_attempt_at,
            **{getattr(self, name).key: value for name, value in extra.items()},
        }


def deliver_due(
    queue: MailQueue,
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Send every due queued row once; return how many were sent (clock is read at each step)."""
    lease = timedelta(seconds=settings.outbox_lease_s)
    _requeue_expired_leases(queue, make_session=make_session, now=clock())
    sent = 0
    for _ in range(BATCH_SIZE):
        # Read the clock per claim: a lease counted from the start of a long batch could already
        # have run out when the send begins, and another worker would then send it again.
        row_id = _claim_next(queue, make_session=make_session, clock=clock, lease=lease)
        if row_id is None:
            break
        if _deliver(queue, row_id, make_session=make_session, settings=settings, clock=clock):
            sent += 1
    if sent:
        log.info("sent %d %s e-mail(s)", sent, queue.name)
    return sent


async def run_worker(
    queue: MailQueue, make_session: sessionmaker[Session], settings: Settings
) -> None:
    """Deliver the queue's due rows every few seconds until cancelled; errors are logged."""
    while True:
        try:
            await asyncio.to_thread(
                deliver_due, queue, make_session=make_session, settings=settings
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the %s outbox run failed; trying again later", queue.name)
        await asyncio.sleep(settings.outbox_interval_s)


def short_error(exc: Exception, settings: Settings) -> str:
    """The error for the user: type and message, short, without the mail URL's password."""
    text = f"{type(exc).__name__}: {exc}"
    password = urlsplit(settings.resolved_mail_url).password
    for form in {password, unquote(password or "")} - {None, ""}:
        text = text.replace(form, "***")
    return text[:300]


def _requeue_expired_leases(
    queue: MailQueue, *, make_session: sessionmaker[Session], now: datetime
) -> None:
    with make_session() as session:
        result = session.execute(
            update(queue.model)
            .where(queue.status == queue.statuses.SENDING, queue.next_attempt_at <= now)
            .values(queue.values(status=queue.statuses.QUEUED, next_attempt_at=now))
        )
        session.commit()
        if result.rowcount:
            log.warning(
                "re-queued %d %s e-mail(s) whose lease expired", result.rowcount, queue.name
            )


def _claim_next(
    queue: MailQueue,
    *,
    make_session: sessionmaker[Session],
    clock: Callable[[], datetime],
    lease: timedelta,
) -> int | None:
    """Atomically move the next due row from queued to sending; None when none is due."""
    model, queued = queue.model, queue.statuses.QUEUED
    with make_session() as session:
        while True:
            now = clock()
            row_id = session.scalar(
                select(model.id)
                .where(
                    queue.status == queued,
                    or_(queue.next_attempt_at.is_(None), queue.next_attempt_at <= now),
                )
                .order_by(queue.next_attempt_at, model.id)
                .limit(1)
            )
            if row_id is None:
                return None
            claimed = session.execute(
                update(model)
                .where(model.id == row_id, queue.status == queued)
                .values(queue.values(status=queue.statuses.SENDING, next_attempt_at=now + lease))
            )
            session.commit()
            if claimed.rowcount == 1:
                return row_id
            # Another worker claimed it first; look for the next one.


def _deliver(
    queue: MailQueue,
    row_id: int,
    *,
    make_session: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime],
) -> bool:
    statuses = queue.statuses
    with make_session() as session:
        row = session.get(queue.model, row_id)
        attempts = getattr(row, queue.attempts.key) + 1
        try:
            message = queue.build(session, row, settings)
            if message is None:
                _finish(queue, session, row_id, status=queue.nobody_status, next_attempt_at=None)
                return False
            # End the read before talking to the server: no transaction stays open during a send.
            session.commit()
            send_message(
                message, mail_url=settings.resolved_mail_url, reply_id=queue.maildir_name(row_id)
            )
        except Exception as exc:  # any failure: keep it and try again later
            failed = attempts >= MAX_ATTEMPTS
            _finish(
                queue,
                session,
                row_id,
                status=statuses.FAILED if failed else statuses.QUEUED,
                next_attempt_at=None if failed else clock() + backoff(attempts),
                attempts=attempts,
                last_error=short_error(exc, settings),
            )
            log.warning("%s %s: attempt %d failed: %s", queue.name, row_id, attempts, exc)
            return False
        # Record "sent" first thing after the server's 250: a kill before this commit resends it.
        values = queue.values(
            status=statuses.SENT, next_attempt_at=None, attempts=attempts, last_error=None
        )
        marked = session.execute(
            update(queue.model)
            .where(queue.model.id == row_id, queue.status == statuses.SENDING)
            .values({**values, **queue.sent_values(clock())})
        )
        session.commit()
        if marked.rowcount != 1:
            log.warning(
                "%s %s was sent after its lease ran out and may be sent twice; "
                "raise HOTLINE_OUTBOX_LEASE_S above the longest a send takes",
                queue.name,
                row_id,
            )
        return True


def _finish(queue: MailQueue, session: Session, row_id: int, **values) -> None:
    session.execute(
        update(queue.model)
        .where(queue.model.id == row_id, queue.status == queue.statuses.SENDING)
        .values(queue.values(**values))
    )
    session.commit()
