"""Archive retention: after the retention period a reply keeps its facts, not its content.

A purged reply keeps its reference, municipality, channel, author, dates, status, cited rules,
Message-ID and the PDF's SHA-256 (statistics, and proof of what was sent), but loses the PDF, the
recipient, the subject, the text and the last error. A reply still to be delivered is never
purged, however old. How and when the purge runs: hotline/privacy/retention.py.
"""

from datetime import datetime
from operator import attrgetter

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.orm import Session

from hotline.letters.models import Reply, ReplyStatus
from hotline.privacy.purge_step import PurgeStep

UNDELIVERED = (ReplyStatus.QUEUED, ReplyStatus.SENDING)


def expired_replies(cutoff: datetime) -> ColumnElement[bool]:
    """Replies created before the cut-off, delivered (or given up) and not purged yet."""
    return and_(
        Reply.created_at < cutoff,
        Reply.purged_at.is_(None),
        Reply.status.not_in(UNDELIVERED),
    )


def purge_replies(session: Session, ids: list[int], *, cutoff: datetime, now: datetime) -> int:
    """Remove the PDF and personal content of these replies if still expired; flush only."""
    # A bulk UPDATE on purpose: the ORM guard refuses any change to an archived reply's content,
    # and retention is the one change the archive must allow. The condition is repeated so that
    # a reply re-queued since it was chosen is left alone.
    result = session.execute(
        update(Reply)
        .where(Reply.id.in_(ids), expired_replies(cutoff))
        .values(
            pdf=b"",
            recipient_name="",
            recipient_address="",
            recipient_email=None,
            subject="",
            body_md="",
            last_error=None,
            purged_at=now,
        )
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


REPLIES_PURGE = PurgeStep(
    what="replies",
    action="archive.purge",
    entity_type="replies",
    entity_id="archive",
    retention_days=attrgetter("archive_retention_days"),
    id=Reply.id,
    expired=expired_replies,
    purge=purge_replies,
)
PURGE_STEPS = (REPLIES_PURGE,)
