"""Delivering e-mail queued in a table, with retries: at least once, and twice only where SMTP must.

A row is claimed by one atomic UPDATE (queued -> sending, with the claiming process's name) that
is committed before sending, so two workers never send the same row. While a row is SENDING, its
next-attempt time holds the end of its lease (HOTLINE_OUTBOX_LEASE_S). A row is recorded "sent"
the moment the mail server has answered the end of DATA with 250 (or the Maildir file is in
place), before QUIT: a worker killed while the server closes the connection sends nothing again.
A worker killed before the server's 250 loses nothing: the row stays SENDING and is sent again,
at once by the next worker on the same host (its claimer is seen to have ended) or after the
lease by a worker elsewhere. If the server had already stored the message when the worker died
(killed while the server was answering DATA, or between the 250 and the commit of "sent"), that
resend is the duplicate of RFC 1047 that no SMTP client can avoid; it reuses the stored
Message-ID (and, for Maildir, the same file name), so a receiver that deduplicates on Message-ID
sees it once.

Up to HOTLINE_OUTBOX_CONNECTIONS rows are sent at once, each on its own connection with its own
timeout, so one slow mail server or recipient does not hold up the rest.

Replies (hotline/letters/outbox.py), callbacks (hotline/calls/callback_mail.py) and the monthly
documents (hotline/monthly/mail.py) each describe their table with a MailQueue and share
everything else; nothing here knows their tables.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from hotline.config import Settings
from hotline.db import utcnow
from hotline.kit.processes import gone_from_this_host, this_process
from hotline.mail.transports import send_message

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
    claimed_by: InstrumentedAttribute  # the process that holds a SENDING row
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
    """Send every due queued row once, several at a time; return how many were sent."""
    lease = timedelta(seconds=settings.outbox_lease_s)
    _requeue_abandoned(queue, make_session=make_session, now=clock())
    slots, lock = iter(range(BATCH_SIZE)), threading.Lock()

    def claim() -> int | None:
        with lock:
            if next(slots, None) is None:
                return None
        # Read the clock per claim: a lease counted from the start of a long batch could already
        # have run out when the send begins, and another worker would send it again.
        return _claim_next(queue, make_session=make_session, clock=clock, lease=lease)

    def sender(row_id: int | None) -> int:
        sent = 0
        if row_id is None:
            row_id = claim()
        while row_id is not None:
            sent += _deliver(
                queue, row_id, make_session=make_session, settings=settings, clock=clock
            )
            row_id = claim()
        return sent

    first = claim()
    if first is None:
        return 0  # nothing due (the usual case): no threads
    connections = settings.outbox_connections
    with ThreadPoolExecutor(connections, thread_name_prefix=f"{queue.name}-mail") as pool:
        runs = [pool.submit(sender, first if n == 0 else None) for n in range(connections)]
        sent = sum(run.result() for run in runs)
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


def _requeue_abandoned(
    queue: MailQueue, *, make_session: sessionmaker[Session], now: datetime
) -> None:
    """Queue again the SENDING rows whose lease ran out or whose claimer here has ended."""
    sending = queue.status == queue.statuses.SENDING
    with make_session() as session:
        claimers = session.scalars(select(queue.claimed_by).where(sending).distinct()).all()
        ended = [c for c in claimers if c and gone_from_this_host(c)]
        result = session.execute(
            update(queue.model)
            .where(sending, or_(queue.next_attempt_at <= now, queue.claimed_by.in_(ended)))
            .values(
                queue.values(status=queue.statuses.QUEUED, next_attempt_at=now, claimed_by=None)
            )
        )
        session.commit()
        if result.rowcount:
            log.warning(
                "re-queued %d %s e-mail(s) whose lease expired or whose worker ended",
                result.rowcount,
                queue.name,
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
            due = (queue.status == queued) & or_(
                queue.next_attempt_at.is_(None), queue.next_attempt_at <= now
            )
            row_id = session.scalar(
                select(model.id).where(due).order_by(queue.next_attempt_at, model.id).limit(1)
            )
            if row_id is None:
                return None
            # Due again, not only queued: meanwhile another sender may have claimed it, failed
            # and queued it for a later retry.
            claimed = session.execute(
                update(model)
                .where(model.id == row_id, due)
                .values(
                    queue.values(
                        status=queue.statuses.SENDING,
                        next_attempt_at=now + lease,
                        claimed_by=this_process(),
                    )
                )
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
        delivered, recorded = [], []

        def record_sent() -> None:
            # The server has the message: record it before QUIT, so a kill while the connection
            # closes sends nothing again.
            delivered.append(True)
            values = queue.values(
                status=statuses.SENT,
                next_attempt_at=None,
                attempts=attempts,
                last_error=None,
                claimed_by=None,
            )
            marked = session.execute(
                update(queue.model)
                .where(queue.model.id == row_id, queue.status == statuses.SENDING)
                .values({**values, **queue.sent_values(clock())})
            )
            session.commit()
            recorded.append(marked.rowcount == 1)

        try:
            message = queue.build(session, row, settings)
            if message is None:
                _finish(queue, session, row_id, status=queue.nobody_status, next_attempt_at=None)
                return False
            # End the read before talking to the server: no transaction stays open during a send.
            session.commit()
            send_message(
                message,
                mail_url=settings.resolved_mail_url,
                file_key=queue.maildir_name(row_id),
                accepted=record_sent,
            )
        except Exception as exc:  # any failure before the 250: keep it and try again later
            if recorded:  # delivered and recorded; only the goodbye failed
                log.info("%s %s: sent; closing the connection failed: %s", queue.name, row_id, exc)
                return True
            session.rollback()
            if delivered:  # left SENDING: sent again after the lease, with the same Message-ID
                log.error("%s %s: sent, but recording it failed: %s", queue.name, row_id, exc)
                return False
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
        if recorded != [True]:
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
        .values(queue.values(claimed_by=None, **values))
    )
    session.commit()
